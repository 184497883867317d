// Start-up time of the strumgen command: wall time of `node bin/strumgen.js --help` (and of
// `config`, which loads one command), run N times each, compiled dist/ against the tsx
// fallback (STRUMGEN_NO_DIST=1), interleaved so machine load hits both alike.
//   npx tsx bench/startup.ts [runs] [bin]     (bin: another checkout's bin/strumgen.js, e.g. before a change)
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';

const runs = Number(process.argv[2] ?? 10);
const bin = process.argv[3] ?? 'bin/strumgen.js';

function time(args: string[], env: Record<string, string>): number {
  const t0 = performance.now();
  execFileSync('node', [bin, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cases: [string, string[], Record<string, string>][] = [
  ['--help (dist)', ['--help'], {}],
  ['--help (tsx)', ['--help'], { STRUMGEN_NO_DIST: '1' }],
  ['config (dist)', ['config'], {}],
  ['config (tsx)', ['config'], { STRUMGEN_NO_DIST: '1' }],
];
const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
const load0 = loadavg()[0]!;
for (let i = 0; i < runs; i++) for (const [name, args, env] of cases) times.get(name)!.push(time(args, env));
console.log(
  `${bin}, ${runs} runs each, load average ${load0.toFixed(1)} -> ${loadavg()[0]!.toFixed(1)} (${process.version})`,
);
for (const [name, t] of times) {
  console.log(
    `${name.padEnd(16)} median ${median(t).toFixed(2)} s  min ${Math.min(...t).toFixed(2)} s  max ${Math.max(...t).toFixed(2)} s`,
  );
}
