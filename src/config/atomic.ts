// Replace a directory as a whole: fill a temporary directory beside it, then swap it in
// by rename, so an error or interrupt leaves the previous output as it was. Every stage
// that writes an output directory (rtl, report, cli) uses this one.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function replaceDirAtomically(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dir), { recursive: true });
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  const old = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
  try {
    await mkdir(tmp);
    await fill(tmp);
    // Two renames: the old output stays whole until the new one is complete.
    const hadOld = existsSync(dir);
    if (hadOld) await rename(dir, old);
    try {
      await rename(tmp, dir);
    } catch (e) {
      if (hadOld) await rename(old, dir);
      throw e;
    }
    if (hadOld) await rm(old, { recursive: true, force: true });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
