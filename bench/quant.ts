// Quantizer throughput: weights per second on a synthetic 25M-weight tensor, in-process
// (quantizeMatrix alone, one thread) and as a whole `strumgen quantize` process (load .npy,
// quantize, metrics). Usage: npx tsx bench/quant.ts [--weights 25000000] [--repeat 3] [--no-process]
// In-process rows are the fastest of --repeat calls by CPU time.
// Prints a markdown table for docs/PERFORMANCE.md; progress goes to stderr.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { resolveConfig } from '../src/config/resolve.ts';
import { isBaselineFormat } from '../src/format/registry.ts';
import { Rng } from '../src/io/rng.ts';
import { quantizeMatrix, type SelectPolicy } from '../src/quant/quantize.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const total = arg('--weights', 25_000_000);
const repeat = arg('--repeat', 3);
const K = 4608; // 512 input channels x 3x3: a typical large conv layer
const N = Math.ceil(total / K);
const log = (s: string) => process.stderr.write(`${s}\n`);

log(`bench/quant: ${N} x ${K} = ${N * K} weights`);
// Laplacian-ish weights (real conv weights are peaked at zero), scaled per row.
const rng = new Rng(1);
const W = new Float32Array(N * K);
for (let i = 0; i < W.length; i++) W[i] = Math.log(rng.float() + 1e-12) * (rng.chance(0.5) ? -0.01 : 0.01);

const formats = [
  ['int8', 'none'],
  ['mip2q', 'mip2q'],
  ['dliq', 'dliq'],
  ['sparse', 'sparse'],
] as const;
const rows: string[] = [];
for (const [label, low] of formats) {
  for (const select of ['magnitude', 'error'] as SelectPolicy[]) {
    if (isBaselineFormat(low) && select === 'error') continue;
    const cfg = resolveConfig({
      name: 'bench',
      pe: { block: 16, high: isBaselineFormat(low) ? 16 : 8, low },
    });
    quantizeMatrix(cfg, W.subarray(0, 64 * K), 64, K, { select }); // warm up the JIT
    // The fastest of `repeat` calls by CPU time: other jobs on a shared machine slow single calls.
    let s = Infinity;
    let cs = Infinity;
    for (let r = 0; r < repeat; r++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      quantizeMatrix(cfg, W, N, K, { select });
      const cpu = process.cpuUsage(c0);
      if ((cpu.user + cpu.system) / 1e6 < cs) {
        cs = (cpu.user + cpu.system) / 1e6;
        s = (performance.now() - t0) / 1000;
      }
    }
    const rate = (N * K) / s / 1e6;
    log(
      `  in-process ${label} ${select}: ${s.toFixed(2)} s (${cs.toFixed(2)} s CPU), ${rate.toFixed(1)} M weights/s`,
    );
    rows.push(
      `| ${label} | ${isBaselineFormat(low) ? '-' : select} | in-process (quantizeMatrix) | ${s.toFixed(2)} | ${cs.toFixed(2)} | ${rate.toFixed(1)} | ${((N * K) / cs / 1e6).toFixed(1)} |`,
    );
  }
}

if (!process.argv.includes('--no-process')) {
  const dir = mkdtempSync(join(tmpdir(), 'strumgen-bench-'));
  try {
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${N}, ${K}), }`;
    const padded = header + ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
    const pre = Buffer.alloc(10);
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(pre);
    pre.writeUInt16LE(padded.length, 8);
    const file = join(dir, 'w.npy');
    writeFileSync(file, Buffer.concat([pre, Buffer.from(padded, 'latin1'), Buffer.from(W.buffer)]));
    for (const low of ['mip2q', 'dliq']) {
      const args = ['bin/strumgen.js', 'quantize', file, '--low', low, '--rows', '1', '--json'];
      const t0 = performance.now();
      // GNU time reports the child's CPU seconds when it is installed (Debian package 'time').
      const timed = existsSync('/usr/bin/time');
      const child = timed
        ? await execa('/usr/bin/time', ['-f', '%U %S', 'node', ...args])
        : await execa('node', args);
      const s = (performance.now() - t0) / 1000;
      const cs = timed
        ? child.stderr
            .trim()
            .split('\n')
            .at(-1)!
            .split(' ')
            .map(Number)
            .reduce((a, b) => a + b, 0)
        : Number.NaN;
      const rate = (N * K) / s / 1e6;
      log(`  process ${low}: ${s.toFixed(2)} s, ${rate.toFixed(1)} M weights/s`);
      rows.push(
        `| ${low} | magnitude | whole process: \`strumgen quantize w.npy --low ${low} --rows 1 --json\` | ${s.toFixed(2)} | ${cs.toFixed(2)} | ${rate.toFixed(1)} | ${((N * K) / cs / 1e6).toFixed(1)} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cpu = cpus()[0]?.model ?? '?';
console.log(
  `${N * K} weights (${N} x ${K}), B = 16, H = 8, one thread, in-process fastest of ${repeat}; Node ${process.version}, ${cpus().length} x ${cpu}, ` +
    `load average ${loadavg()[0]!.toFixed(2)} at the end\n`,
);
console.log('| format | select | what | wall s | CPU s | M weights/s (wall) | M weights/s (CPU) |');
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
