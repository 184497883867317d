// Errors the user can fix (bad input, missing tool). The CLI prints their message
// without a stack trace and exits with `exitCode`; anything else is a bug.
export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}
