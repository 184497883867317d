// Writes a generated bundle to disk: the Verilog, files.f, PORTS.md and manifest.json,
// first into a temporary directory beside the target, then swapped in by rename, so an
// error or interrupt leaves the previous output as it was.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type OutputMarker, replaceOutputDir } from '../config/atomic.ts';
import { configOf, type DerivedValues, type ResolvedDpu } from '../config/resolve.ts';
import type { OutputOptions } from '../io/output.ts';
import { renderRtl } from './render.ts';
import type { RtlBundle, RtlModule, RtlOptions } from './types.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export interface RtlManifest {
  generator: 'strumgen';
  generatorVersion: string;
  name: string;
  hash: string;
  top: string;
  pe: string;
  latency: number;
  config: ReturnType<typeof configOf>;
  derived: DerivedValues;
  modules: RtlModule[];
  /** Every file written except manifest.json itself, with its sha256. */
  files: { name: string; bytes: number; sha256: string }[];
  /** Present only when a test-only fault was injected. */
  fault?: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** PORTS.md: the top-level ports of this config, with their widths and layout. */
export function portsMarkdown(cfg: ResolvedDpu, top: string): string {
  const d = cfg.derived;
  const { rows: R, cols: C } = cfg.array;
  const rows = d.interface.ports.map((p) => [p.name, p.dir, `${p.bits}`, p.meaning] as const);
  const fields = [
    d.weightLayout.mask,
    ...d.weightLayout.high,
    ...d.weightLayout.low,
    ...d.weightLayout.slots,
    ...d.weightLayout.parts,
    ...d.weightLayout.meta,
  ]
    .filter((f) => f !== null)
    .map((f) => `${f.name} [${f.offset + f.bits - 1}:${f.offset}]`);
  return [
    `# ${top} ports`,
    '',
    `Config \`${cfg.name}\` (hash \`${cfg.shortHash}\`): ${R} x ${C} PEs, B = ${cfg.pe.block}, H = ${cfg.pe.high}, ` +
      `low = ${cfg.pe.low}, ${cfg.pe.mode}; latency ${d.latency}. Timing: docs/ARCHITECTURE.md.`,
    '',
    '| port | dir | bits | meaning |',
    '| ---- | --- | ---- | ------- |',
    ...rows.map((r) => `| \`${r[0]}\` | ${r[1]} | ${r[2]} | ${r[3]} |`),
    '',
    `Weight block (${d.weightBlockBits} bits): ${fields.join(', ')}.`,
    '',
    'Each PE: acc = wrap((clear ? 0 : acc) + sum(a[i] * w[i])) on a valid block, hold otherwise (src/quant/golden.ts).',
    '',
  ].join('\n');
}

export const RTL_OUTPUT: OutputMarker = {
  kind: 'rtl',
  file: 'manifest.json',
  owns: (m) => m.generator === 'strumgen',
  label: 'a strumgen output directory',
};

/**
 * Write the RTL of `cfg` into `outDir` (replacing an earlier strumgen output there).
 * Refuses to replace a directory that is not empty and not a strumgen output.
 */
export async function writeRtl(
  cfg: ResolvedDpu,
  outDir: string,
  options: RtlOptions & OutputOptions = {},
): Promise<{ dir: string; manifest: RtlManifest; bundle: RtlBundle }> {
  const bundle = renderRtl(cfg, options.fault ? { fault: options.fault } : {});
  const texts = new Map<string, string>(bundle.files.map((f) => [f.name, f.content]));
  texts.set('files.f', `${bundle.files.map((f) => f.name).join('\n')}\n`);
  texts.set('PORTS.md', portsMarkdown(cfg, bundle.top));
  const manifest: RtlManifest = {
    generator: 'strumgen',
    generatorVersion: pkg.version,
    name: cfg.name,
    hash: cfg.hash,
    top: bundle.top,
    pe: bundle.pe,
    latency: cfg.derived.latency,
    config: configOf(cfg),
    derived: cfg.derived,
    modules: bundle.modules,
    files: [...texts].map(([name, text]) => ({ name, bytes: Buffer.byteLength(text), sha256: sha256(text) })),
    ...(options.fault ? { fault: options.fault } : {}),
  };
  texts.set('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);

  const dir = await replaceOutputDir(
    outDir,
    RTL_OUTPUT,
    async (tmp) => {
      for (const [name, text] of texts) await writeFile(join(tmp, name), text);
    },
    options,
  );
  return { dir, manifest, bundle };
}
