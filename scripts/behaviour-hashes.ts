// Behaviour pin for refactors that must change nothing (#11: SDP behind the PE-structure
// interface was proved with it). For every preset and a set of SDP corner configs it hashes
// (sha256) what the stages produce: the config hash, every RTL file (and every applicable
// test-only fault's bundle), the co-simulation stimulus file (writeStimulus), the golden model's
// tiles over that stimulus, the activations the PE multiplies (peActivationPool), tileResults,
// the quantizer's blocks of a random matrix, and the design line. In-process (no Verilator, no
// Icarus): about 15 s. Not a test: a change meant to alter any of these is not wrong.
// Usage: npx tsx scripts/behaviour-hashes.ts --write FILE   (on the tree before the refactor)
//        npx tsx scripts/behaviour-hashes.ts --check FILE   (after it: lists what differs, exit 1)
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRESETS } from '../src/config/presets.ts';
import { type ResolvedDpu, resolveConfig } from '../src/config/resolve.ts';
import { activationRange } from '../src/format/values.ts';
import { Rng } from '../src/io/rng.ts';
import { GoldenArray, tileResults } from '../src/quant/golden.ts';
import { quantizeForConfig } from '../src/quant/quantize.ts';
import { designLine } from '../src/report/flow.ts';
import { applicableFaults, renderRtl } from '../src/rtl/index.ts';
import { DEFAULT_SEED, writeStimulus } from '../src/sim/index.ts';
import {
  activationPool,
  peActivationPool,
  randomLayerMeta,
  StimulusStream,
  weightPool,
} from '../src/sim/stimulus.ts';

const VECTORS = 400;

const sha = (x: string | Uint8Array | ArrayBufferView) =>
  createHash('sha256')
    .update(typeof x === 'string' ? x : new Uint8Array(x.buffer, x.byteOffset, x.byteLength))
    .digest('hex');

/** Every preset, then SDP corners: B 8/16/32, G 2/4/8, K low/middle/high, both operands. */
function configs(): [string, unknown][] {
  const out: [string, unknown][] = Object.entries(PRESETS).map(([k, p]) => [k, p.config]);
  for (const operand of ['activations', 'weights'] as const) {
    for (const B of [8, 16, 32]) {
      for (const G of [2, 4, 8]) {
        if (G > B) continue;
        for (const K of [...new Set([1, G - 1 || 1, G, G + 1, 2 * G - 1])]) {
          out.push([
            `sdp-${operand[0]}-B${B}-G${G}-K${K}`,
            {
              name: 'corner',
              array: { rows: 2, cols: 3 },
              pe: { block: B, low: 'none', mode: 'static', sdp: { group: G, keep: K, operand } },
            },
          ]);
        }
      }
    }
  }
  // Other operand widths and pipelining.
  const sdp = (operand: string) => ({ group: 4, keep: 3, operand });
  const small = { name: 'corner', array: { rows: 2, cols: 2 } };
  out.push([
    'sdp-a-act6-unsigned',
    {
      ...small,
      pe: { block: 8, low: 'none', sdp: sdp('activations') },
      activation: { bits: 6, signed: false },
    },
  ]);
  out.push([
    'sdp-a-act4',
    { ...small, pe: { block: 8, low: 'none', sdp: sdp('activations') }, activation: { bits: 4 } },
  ]);
  out.push(['sdp-w-wb6', { ...small, pe: { block: 8, low: 'none', sdp: sdp('weights') }, weightBits: 6 }]);
  out.push([
    'sdp-w-act5-unsigned',
    { ...small, pe: { block: 8, low: 'none', sdp: sdp('weights') }, activation: { bits: 5, signed: false } },
  ]);
  return out;
}

/** The golden model's tiles over writeStimulus's cycle stream (same seed, same draws). */
function goldenOverStimulus(cfg: ResolvedDpu): { tiles: string; pe: string } {
  const rng = new Rng(DEFAULT_SEED);
  const layerMeta = randomLayerMeta(cfg, rng);
  const act = activationPool(cfg, rng, 256);
  const wgt = weightPool(cfg, rng, 256, layerMeta);
  const stream = new StimulusStream(cfg, act, wgt, rng, { vectors: VECTORS });
  const golden = new GoldenArray(cfg, layerMeta);
  const { rows, cols } = cfg.array;
  const B = cfg.pe.block;
  for (let c = stream.next(1024); c; c = stream.next(1024)) {
    for (let n = 0; n < c.n; n++) {
      golden.step({
        valid: (c.ctl[n]! & 1) === 1,
        clear: (c.ctl[n]! & 2) === 2,
        last: (c.ctl[n]! & 4) === 4,
        act: Array.from({ length: rows }, (_, r) => {
          const i = c.aIdx[n * rows + r]!;
          return Array.from(act.values.subarray(i * B, (i + 1) * B));
        }),
        wgt: Array.from({ length: cols }, (_, k) => {
          const i = c.wIdx[n * cols + k]!;
          return wgt.packed.subarray(i * wgt.words, (i + 1) * wgt.words);
        }),
      });
    }
  }
  return {
    tiles: sha(golden.tiles.map((t) => Array.from(t).join(',')).join(';')),
    pe: sha(peActivationPool(cfg, act).values),
  };
}

function hashes(name: string, input: unknown, dir: string): Record<string, string> {
  const cfg = resolveConfig(input, name);
  const out: Record<string, string> = { config: cfg.hash, design: sha(designLine(cfg)) };
  const bundle = renderRtl(cfg);
  for (const f of bundle.files) out[`rtl/${f.name}`] = sha(f.content);
  out.rtlOrder = sha(JSON.stringify([bundle.top, bundle.pe, bundle.modules]));
  for (const fault of applicableFaults(cfg)) {
    const faulty = renderRtl(cfg, { fault });
    out[`fault/${fault}`] = sha(faulty.files.map((f) => `${f.name}\n${f.content}`).join('\n'));
  }
  const stim = join(dir, `${name}.stim`);
  writeStimulus(cfg, stim, { vectors: VECTORS });
  out.stimulus = sha(readFileSync(stim));
  const g = goldenOverStimulus(cfg);
  out.golden = g.tiles;
  out.peActivations = g.pe;
  const { rows, cols } = cfg.array;
  const B = cfg.pe.block;
  const rng = new Rng(7);
  const K = 3 * B;
  const [lo, hi] = activationRange(cfg);
  const A = Array.from({ length: rows * K }, () => rng.int(lo, hi));
  const Wt = Array.from({ length: cols * K }, () => rng.int(-100, 100));
  out.tileResults = sha(Array.from(tileResults(cfg, A, Wt, K)).join(','));
  const q = quantizeForConfig(cfg, laplaceWeights(4 * (2 * B + 3), 11), 4, 2 * B + 3);
  out.quantized = sha(JSON.stringify({ b: q.blocks, m: q.layerMeta, s: Array.from(q.scales) }));
  return out;
}

/** Laplace-distributed weights (the quantizer's input), reproducible from the seed. */
function laplaceWeights(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = r.float() - 0.5;
    return Math.sign(u) * Math.log(1 - 2 * Math.abs(u) + 1e-9) * -0.1;
  });
}

const [mode, file] = process.argv.slice(2);
if ((mode !== '--write' && mode !== '--check') || !file) {
  console.error('usage: npx tsx scripts/behaviour-hashes.ts --write FILE | --check FILE');
  process.exit(2);
}
if (mode === '--write' && existsSync(file)) {
  console.error(`behaviour-hashes: ${file} exists; not overwritten (name a new file)`);
  process.exit(2);
}
if (mode === '--check' && !existsSync(file)) {
  console.error(
    `behaviour-hashes: ${file} does not exist (record it with --write on the tree before the change)`,
  );
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'strum-behaviour-'));
let got: Record<string, Record<string, string>>;
try {
  got = Object.fromEntries(configs().map(([name, input]) => [name, hashes(name, input, dir)]));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const count = (h: Record<string, Record<string, string>>) =>
  Object.values(h).reduce((n, v) => n + Object.keys(v).length, 0);
if (mode === '--write') {
  writeFileSync(file, `${JSON.stringify(got, null, 1)}\n`);
  console.log(
    `behaviour-hashes: ${Object.keys(got).length} configs, ${count(got)} hashes written to ${file}`,
  );
} else {
  const want: Record<string, Record<string, string>> = JSON.parse(readFileSync(file, 'utf8'));
  const differ: string[] = [];
  for (const name of new Set([...Object.keys(want), ...Object.keys(got)])) {
    const a = want[name] ?? {};
    const b = got[name] ?? {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      if (a[key] !== b[key]) differ.push(`${name} ${key}`);
  }
  if (differ.length) {
    console.log(`behaviour-hashes: ${differ.length} of ${count(want)} differ:\n${differ.join('\n')}`);
    process.exit(1);
  }
  console.log(
    `behaviour-hashes: ${Object.keys(got).length} configs, ${count(got)} hashes, all identical to ${file}`,
  );
}
