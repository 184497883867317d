// Wall time and result of synthesizing one B = 16 PE of each preset, for each Yosys
// (yowasp 0.55 with Booth, the default; Debian's 0.23) and each run kind (hier, the default;
// flat). No cache: every run is real. One run at a time (shared 2-core machines).
// Run: npx tsx bench/synth.ts [preset ...]   (about 6 minutes for all five presets)
// Numbers are recorded in docs/PERFORMANCE.md and docs/SYNTHESIS.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.ts';
import { PRESETS } from '../src/config/presets.ts';
import { renderRtl } from '../src/rtl/index.ts';
import { flowEnv, synthesizeBundle } from '../src/synth/index.ts';
import type { SynthKind } from '../src/synth/scripts.ts';

const presets = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(PRESETS);
const cacheDir = mkdtempSync(join(tmpdir(), 'strumgen-bench-synth-'));
const flows: { yosys: 'yowasp' | 'system'; kind: SynthKind }[] = [
  { yosys: 'yowasp', kind: 'hier' },
  { yosys: 'yowasp', kind: 'flat' },
  { yosys: 'system', kind: 'hier' },
  { yosys: 'system', kind: 'flat' },
];

try {
  const envs = await Promise.all(flows.map((f) => flowEnv({ yosys: f.yosys, cacheDir, cache: false })));
  const versions = [...new Set(envs.map((e) => e.yosys.version.split(' (')[0]))].join(', ');
  process.stdout.write(`PE, B = 16, osu018; ${versions}; OpenSTA ${envs[0]!.sta.version}\n\n`);
  process.stdout.write('| preset | Yosys | kind | area | fmax (MHz) | Yosys s | OpenSTA s |\n');
  process.stdout.write('| --- | --- | --- | ---: | ---: | ---: | ---: |\n');
  for (const preset of presets) {
    const cfg = await loadConfig(preset, { 'pe.block': 16 });
    const bundle = renderRtl(cfg);
    for (const [i, f] of flows.entries()) {
      process.stderr.write(`${preset}: ${f.yosys} ${f.kind} ...\n`);
      const r = await synthesizeBundle(cfg, bundle, envs[i]!, [f.kind]);
      const run = r.runs[0]!;
      const version = r.tools.yosys.version.split(' (')[0];
      process.stdout.write(
        `| ${preset} | ${version} ${r.tools.yosys.booth ? '-booth' : ''} | ${f.kind} | ${Math.round(r.area.total)} | ` +
          `${r.timing.fmaxMhz.toFixed(1)} | ${run.yosysSeconds.toFixed(1)} | ${run.staSeconds.toFixed(1)} |\n`,
      );
    }
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}
