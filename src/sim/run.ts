// Runs the harness on a stimulus stream: chunks go to its stdin in bulk while the
// checker computes their expected results, and its out_data records are compared as
// they arrive. Node and the model work in parallel; nothing crosses per cycle.

import { UserError } from '../config/errors.ts';
import { spawnGroup } from '../io/run.ts';
import type { Checker } from './check.ts';
import { type Chunk, type PortGeometry, streamHeader } from './stimulus.ts';

export interface HarnessRun {
  /** Cycles the model ran (stimulus plus drain) and out_valid records it wrote. */
  readonly cycles: number;
  readonly outputs: number;
  /** Time the harness spent in its clock loop (model eval + port copies), seconds. */
  readonly evalSeconds: number;
  /** CPU time of the harness process, seconds. */
  readonly harnessCpuSeconds: number;
  /** Wall time of the whole run (stimulus, simulation and checking), seconds. */
  readonly wallSeconds: number;
}

export interface HarnessOptions {
  readonly binary: string;
  readonly geometry: PortGeometry;
  /** Chunks in stream order; `encode` makes the harness records of one. */
  readonly next: () => Chunk | null;
  readonly encode: (chunk: Chunk) => Uint32Array;
  readonly checker: Checker | null;
  /** Idle cycles after the stream so the last tile comes out. */
  readonly drainCycles: number;
  readonly timeoutMs: number;
  /** Extra harness arguments (waveforms). */
  readonly args?: readonly string[];
  /** Called after each chunk with the chunk (progress). */
  readonly onChunk?: (chunk: Chunk) => void;
  /** Names the design in error messages. */
  readonly what: string;
}

const SUMMARY = /strumsim cycles=(\d+) outputs=(\d+) eval_ns=(\d+) cpu_us=(\d+)/;

export async function runHarness(o: HarnessOptions): Promise<HarnessRun> {
  const t0 = performance.now();
  const { sub, done } = spawnGroup(o.binary, [...(o.args ?? [])], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    encoding: 'buffer',
    timeoutMs: o.timeoutMs,
  });
  const rec = (1 + o.geometry.rows * o.geometry.outWords) * 4;
  let carry: Buffer = Buffer.alloc(0);
  let outputs = 0;
  sub.stdout!.on('data', (data: Buffer) => {
    let buf = carry.length ? Buffer.concat([carry, data]) : data;
    const whole = Math.floor(buf.length / rec);
    if (whole > 0) {
      outputs += whole;
      if (o.checker) {
        // Copy to an aligned buffer: a 'data' Buffer may start at any byte offset.
        const words = new Uint32Array(whole * (rec / 4));
        new Uint8Array(words.buffer).set(buf.subarray(0, whole * rec));
        o.checker.compare(words, 0, whole);
      }
      buf = buf.subarray(whole * rec);
    }
    carry = Buffer.from(buf);
  });

  // A harness that died or was killed makes further writes fail; the exit result says why.
  let broken = false;
  sub.stdin!.on('error', () => {
    broken = true;
  });
  const ended = done.then((r) => {
    broken = true;
    return r;
  });
  const write = (data: Uint8Array): Promise<void> | null => {
    if (broken) return null;
    if (sub.stdin!.write(data)) return null;
    return new Promise<void>((resolve) => {
      const go = () => {
        sub.stdin!.off('drain', go);
        resolve();
      };
      sub.stdin!.on('drain', go);
      void ended.then(go);
    });
  };

  const header = streamHeader(o.geometry, o.drainCycles);
  write(new Uint8Array(header.buffer));
  // Keep the model fed: the next chunk is generated and encoded before waiting for the pipe
  // to drain, so it is written the moment there is room.
  let chunk = o.next();
  let records = chunk ? o.encode(chunk) : null;
  while (chunk && records && !broken) {
    const wait = write(new Uint8Array(records.buffer, records.byteOffset, records.byteLength));
    // While the model runs this chunk: its expected results, and the next chunk.
    o.checker?.feed(chunk);
    o.onChunk?.(chunk);
    const following = o.next();
    const followingRecords = following ? o.encode(following) : null;
    if (wait) await wait;
    chunk = following;
    records = followingRecords;
  }
  if (!broken) sub.stdin!.end();
  const r = await ended;
  const stderr = Buffer.from(r.stderr as Uint8Array).toString('utf8');
  if (r.timedOut) {
    throw new UserError(
      `simulation of ${o.what} did not finish within ${+(o.timeoutMs / 1000).toFixed(3)} s and was killed ` +
        `(a hung model or a very long run: raise --timeout)`,
      4,
    );
  }
  const m = SUMMARY.exec(stderr);
  if (r.exitCode !== 0 || !m) {
    const why = r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
    const tail = stderr.trim().split('\n').slice(-8).join('\n');
    throw new UserError(`simulation of ${o.what} failed (${why}):\n${tail || '(no output)'}`, 4);
  }
  if (carry.length) throw new UserError(`simulation of ${o.what}: output ends inside a record`, 4);
  o.checker?.finish();
  return {
    cycles: Number(m[1]),
    outputs,
    evalSeconds: Number(m[3]) / 1e9,
    harnessCpuSeconds: Number(m[4]) / 1e6,
    wallSeconds: (performance.now() - t0) / 1000,
  };
}
