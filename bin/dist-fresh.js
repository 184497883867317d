// Is the compiled CLI in dist/ built from the sources as they are now? The build records a
// hash of src/ and package.json; the bin compares it with the current one (a few ms) and
// falls back to running the TypeScript through tsx when they differ.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 over the names and contents of every file under src/, and package.json. */
export function sourceHash(root) {
  const h = createHash('sha256');
  const walk = (rel) => {
    const entries = readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        h.update(`${p}\0`)
          .update(readFileSync(join(root, p)))
          .update('\0');
    }
  };
  walk('src');
  h.update('package.json\0').update(readFileSync(join(root, 'package.json')));
  return h.digest('hex');
}

/** The compiled entry when dist/ matches the sources, else null. */
export function freshDist(root, dist = join(root, 'dist')) {
  try {
    const info = JSON.parse(readFileSync(join(dist, 'build-info.json'), 'utf8'));
    return info.sourceHash === sourceHash(root) ? join(dist, 'cli', 'main.js') : null;
  } catch {
    return null;
  }
}
