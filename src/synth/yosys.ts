// Which Yosys runs the flow. 'yowasp' (default): @yowasp/yosys from npm, a pinned modern
// Yosys (WebAssembly) identical on every machine, with the Booth multiplier pass.
// 'system': the Yosys on PATH (or STRUMGEN_YOSYS), e.g. Debian's 0.23, which has no Booth pass.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../config/errors.ts';
import { requireTool } from '../config/toolchain.ts';
import { registerTemp, removeTemp } from '../io/process.ts';
import { run } from '../io/run.ts';
import { runStep } from './run.ts';

export const YOSYS_IMPLS = ['yowasp', 'system'] as const;
export type YosysImpl = (typeof YOSYS_IMPLS)[number];
export const DEFAULT_YOSYS_IMPL: YosysImpl = 'yowasp';
export const YOSYS_IMPL_ENV = 'STRUMGEN_YOSYS_IMPL';

export interface YosysTool {
  readonly impl: YosysImpl;
  /** First line of `yosys -V`, e.g. 'Yosys 0.55 (git sha1 60f126cd0, ...)'. */
  readonly version: string;
  /** Executable (system) or the package entry (yowasp). */
  readonly path: string;
  /** The Booth multiplier pass (`synth -booth`) exists: Yosys 0.39 and later. */
  readonly booth: boolean;
}

/** The chosen implementation: explicit option, else $STRUMGEN_YOSYS_IMPL, else the default. */
export function yosysImplOf(option?: string): YosysImpl {
  const fromEnv = process.env[YOSYS_IMPL_ENV];
  const value = option ?? (fromEnv || DEFAULT_YOSYS_IMPL);
  if (!(YOSYS_IMPLS as readonly string[]).includes(value)) {
    const where = option !== undefined ? '--yosys' : YOSYS_IMPL_ENV;
    throw new UserError(`${where}: '${value}' is not one of ${YOSYS_IMPLS.join(', ')}`, 2);
  }
  return value as YosysImpl;
}

// From the compiled CLI (dist/) the worker is JavaScript and needs no TypeScript loader.
const COMPILED = import.meta.url.endsWith('.js');
const WORKER = fileURLToPath(
  new URL(COMPILED ? './yowasp-worker.js' : './yowasp-worker.ts', import.meta.url),
);

function yowaspEntry(): string {
  try {
    return fileURLToPath(import.meta.resolve('@yowasp/yosys'));
  } catch {
    throw new UserError(
      'Yosys (yowasp) is needed for synthesis but the npm package @yowasp/yosys is not installed; ' +
        'run npm install (or scripts/setup), or choose --yosys system',
      3,
    );
  }
}

/** The command and leading arguments that run Yosys of this implementation. */
export function yosysCommand(impl: YosysImpl): { command: string; args: string[]; node: boolean } {
  if (impl === 'system') return { command: requireTool('yosys'), args: [], node: false };
  yowaspEntry();
  return { command: WORKER, args: [], node: true };
}

export const TSX_IMPORT = COMPILED ? [] : ['--import', fileURLToPath(import.meta.resolve('tsx'))];

/** Booth needs Yosys >= 0.39. */
export function hasBooth(version: string): boolean {
  const m = /Yosys (\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 0 || minor >= 39;
}

const probed = new Map<YosysImpl, Promise<YosysTool>>();

/** Find and identify a Yosys (once per process). */
export function yosysTool(impl: YosysImpl): Promise<YosysTool> {
  let p = probed.get(impl);
  if (!p) {
    p = probe(impl);
    probed.set(impl, p);
    p.catch(() => probed.delete(impl));
  }
  return p;
}

async function probe(impl: YosysImpl): Promise<YosysTool> {
  const { command, node } = yosysCommand(impl);
  const path = node ? yowaspEntry() : command;
  let version = '';
  if (node) {
    const dir = registerTemp(mkdtempSync(join(tmpdir(), 'strumgen-yosys-')));
    try {
      await runStep({
        label: 'Yosys (yowasp) -V',
        command,
        args: ['-V'],
        cwd: dir,
        log: 'version.log',
        timeoutSeconds: 60,
        node: true,
        nodeOptions: TSX_IMPORT,
      });
      version = readFileSync(join(dir, 'version.log'), 'utf8');
    } finally {
      removeTemp(dir);
    }
  } else {
    const r = await run(command, ['-V'], { timeoutMs: 20_000, stdin: 'ignore' });
    if (r.exitCode !== 0) {
      throw new UserError(`Yosys at ${command} does not run (yosys -V: ${r.shortMessage})`, 3);
    }
    version = `${r.stdout}`;
  }
  const line = version.split('\n').find((l) => l.startsWith('Yosys')) ?? version.trim();
  if (!line) throw new UserError(`Yosys at ${path} printed no version`, 3);
  return { impl, version: line.trim(), path, booth: hasBooth(line) };
}
