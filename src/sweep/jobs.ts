// One sweep point's measurements, each a job whose result lives in strumgen's content-addressed
// cache (cacheRoot()/sweep/): keyed by the config hash, the job, its options, the rendered RTL
// and the tools (Yosys and OpenSTA versions, liberty sha256, onnxruntime version, model sha256),
// so a re-run computes only what is missing and an interrupted sweep resumes. A job that
// fails records its error (retried on the next run); the sweep goes on.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../config/errors.ts';
import { canonicalJson, type ResolvedDpu } from '../config/resolve.ts';
import { cacheRoot } from '../io/cache.ts';
import { renderRtl } from '../rtl/index.ts';
import type { Metric, SweepPoint, SweepSpec } from './spec.ts';

/**
 * Bump when a job's result record changes meaning: every cached sweep result is then recomputed.
 * 2: synth and power records carry area and power by role (the router's: a 'group' PE's edge share).
 */
export const SWEEP_RESULT_VERSION = 2;

export const JOBS = ['synth', 'power', 'accuracy', 'sqnr'] as const;
export type Job = (typeof JOBS)[number];

/**
 * Bump one job's entry when only its measurement changes: that job's records are recomputed,
 * the others stay cached. sqnr 2: through the quantizer's evaluateLayer (before it, a record
 * under pe.maskScope 'layer' compared weights in the permuted order with the layer's own).
 */
export const JOB_VERSIONS: Readonly<Record<Job, number>> = { synth: 1, power: 1, accuracy: 1, sqnr: 2 };

/** The jobs that give a spec's metrics. */
export function jobsOf(metrics: readonly Metric[]): Job[] {
  const want = new Set<Job>();
  for (const m of metrics) {
    if (m === 'area' || m === 'fmax') want.add('synth');
    else if (m === 'power' || m === 'energy' || m === 'inference') want.add('power');
    else want.add(m);
  }
  return JOBS.filter((j) => want.has(j));
}

export interface SynthResult {
  readonly areaUm2: number;
  readonly areaPerMacUm2: number;
  readonly fmaxMhz: number;
  readonly cells: number;
  /** Area by role (lane, route, adder_tree, accumulator, ...): route = the PE's router. */
  readonly byRoleUm2: Readonly<Record<string, number>>;
}
export interface PowerResult {
  readonly powerMw: number;
  readonly idleMw: number;
  readonly clockMhz: number;
  readonly meanToggleRate: number;
  /** Energy of one multiply-accumulate: P / (f * B), in pJ. */
  readonly energyPerMacPj: number;
  /** Power by role (route = the PE's router), mW. */
  readonly byRoleMw: Readonly<Record<string, number>>;
}
export interface AccuracyResult {
  readonly task: string;
  readonly samples: number;
  readonly top1: number;
  readonly lo: number;
  readonly hi: number;
  /** Per-sample correctness (bit i of byte i>>3), base64: the paired change against INT8 at report time. */
  readonly correct: string;
}
export interface SqnrResult {
  readonly layer: string;
  readonly weightSqnrDb: number;
}
export type JobValue = SynthResult | PowerResult | AccuracyResult | SqnrResult;

/** A cache entry: a result or the error of the last attempt. */
export interface JobRecord {
  readonly schema: 'strumgen.sweep-job/1';
  readonly job: Job;
  readonly configHash: string;
  readonly key: string;
  readonly inputs: unknown;
  readonly ok: boolean;
  readonly value?: JobValue;
  readonly error?: string;
  readonly seconds: number;
  readonly at: string;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Tool identities a job depends on, found once per process. */
export interface Fingerprint {
  readonly hardware: Record<string, string>;
  readonly accuracy: Record<string, string>;
  readonly strumgen: string;
}

let fingerprint: Promise<Fingerprint> | undefined;
const fileSha = new Map<string, string>();

function shaOfFile(path: string): string {
  let s = fileSha.get(path);
  if (!s) {
    s = sha256(readFileSync(path));
    fileSha.set(path, s);
  }
  return s;
}

/** Yosys, OpenSTA, liberty, onnxruntime and model identities (what the cache key includes). */
export function toolFingerprint(jobs: readonly Job[]): Promise<Fingerprint> {
  fingerprint ??= (async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const hardware: Record<string, string> = {};
    if (jobs.includes('synth') || jobs.includes('power')) {
      const { flowEnv } = await import('../synth/index.ts');
      const env = await flowEnv({});
      hardware.yosys = `${env.yosys.impl} ${env.yosys.version} booth=${env.booth}`;
      hardware.opensta = env.sta.version;
      hardware.liberty = env.liberty.sha256;
    }
    const accuracy: Record<string, string> = {};
    if (jobs.includes('accuracy')) {
      const { onnxruntimeVersion } = await import('../accuracy/index.ts');
      accuracy.onnxruntime = onnxruntimeVersion();
    }
    return { hardware, accuracy, strumgen: pkg.version };
  })();
  return fingerprint;
}

/** The job's inputs (everything that decides its result) and their key. */
export async function jobKey(
  job: Job,
  cfg: ResolvedDpu,
  spec: SweepSpec,
  fp: Fingerprint,
): Promise<{ key: string; inputs: unknown }> {
  let inputs: Record<string, unknown> = {
    v: SWEEP_RESULT_VERSION,
    // Version 1 adds nothing: the keys of jobs that never changed stay what they were.
    ...(JOB_VERSIONS[job] > 1 ? { jobVersion: JOB_VERSIONS[job] } : {}),
    job,
    config: cfg.hash,
    strumgen: fp.strumgen,
  };
  if (job === 'synth' || job === 'power') {
    // The RTL itself: a change in the generator is a new key even when the config is the same.
    const rtl = sha256(
      renderRtl(cfg)
        .files.map((f) => `${f.name}\n${f.content}`)
        .join('\n'),
    );
    inputs = { ...inputs, rtl, tools: fp.hardware };
    if (job === 'power') inputs.power = { ...spec.power, weights: weightsIdentity(spec.power.weights) };
  } else if (job === 'accuracy') {
    const { taskModelFile } = await import('./measure.ts');
    inputs = {
      ...inputs,
      ...spec.accuracy,
      model: shaOfFile(await taskModelFile(spec.accuracy.task)),
      tools: fp.accuracy,
    };
  } else {
    inputs = { ...inputs, layer: spec.sqnr.layer ?? null, weights: weightsIdentity(spec.sqnr.weights) };
  }
  return { key: sha256(canonicalJson(inputs)), inputs };
}

function weightsIdentity(path: string | undefined): string {
  if (path === undefined) return 'default';
  if (!existsSync(path)) throw new UserError(`weights: ${path}: no such file`, 2);
  return shaOfFile(path);
}

/** Where the sweep's job records live. */
export const resultsDir = () => join(cacheRoot(), 'sweep', 'results');
const entryPath = (key: string) => join(resultsDir(), key.slice(0, 2), `${key}.json`);

export function readRecord(key: string): JobRecord | null {
  try {
    const r = JSON.parse(readFileSync(entryPath(key), 'utf8')) as JobRecord;
    return r.schema === 'strumgen.sweep-job/1' && r.key === key ? r : null;
  } catch {
    return null;
  }
}

/** Write a record atomically (temp file renamed into place): concurrent writers never tear it. */
export function writeRecord(r: JobRecord): void {
  const file = entryPath(r.key);
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(r)}\n`);
  renameSync(tmp, file);
}

/** Number of records in the cache (for messages). */
export function recordCount(): number {
  try {
    return readdirSync(resultsDir()).reduce((n, d) => n + readdirSync(join(resultsDir(), d)).length, 0);
  } catch {
    return 0;
  }
}

export interface PointJobs {
  readonly point: SweepPoint;
  readonly jobs: { job: Job; key: string; inputs: unknown; record: JobRecord | null }[];
}

/** Each point's jobs with their cached record (null: not measured yet). */
export async function planJobs(points: readonly SweepPoint[], spec: SweepSpec): Promise<PointJobs[]> {
  const jobs = jobsOf(spec.metrics);
  const fp = await toolFingerprint(jobs);
  const out: PointJobs[] = [];
  for (const point of points) {
    const list: PointJobs['jobs'] = [];
    for (const job of jobs) {
      const { key, inputs } = await jobKey(job, point.cfg, spec, fp);
      list.push({ job, key, inputs, record: readRecord(key) });
    }
    out.push({ point, jobs: list });
  }
  return out;
}

/** A point is done when every job has a successful record. */
export const pointDone = (p: PointJobs) => p.jobs.every((j) => j.record?.ok);

/**
 * Measure a point's missing jobs in this process, recording each result or error. Returns
 * the errors (empty when every job succeeded).
 */
export async function runPointJobs(
  p: PointJobs,
  spec: SweepSpec,
  onProgress: (msg: string) => void = () => {},
): Promise<string[]> {
  const { measureJob } = await import('./measure.ts');
  const errors: string[] = [];
  for (const j of p.jobs) {
    if (j.record?.ok) continue;
    const t0 = performance.now();
    let record: JobRecord;
    try {
      const value = await measureJob(j.job, p.point.cfg, spec, onProgress);
      record = base(j, p.point.cfg, t0, { ok: true, value });
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      if (!(e instanceof UserError))
        onProgress(`${j.job}: ${e instanceof Error ? (e.stack ?? message) : message}`);
      record = base(j, p.point.cfg, t0, { ok: false, error: message });
      errors.push(`${j.job}: ${message}`);
    }
    writeRecord(record);
    j.record = record;
  }
  return errors;
}

function base(
  j: PointJobs['jobs'][number],
  cfg: ResolvedDpu,
  t0: number,
  rest: { ok: boolean; value?: JobValue; error?: string },
): JobRecord {
  return {
    schema: 'strumgen.sweep-job/1',
    job: j.job,
    configHash: cfg.hash,
    key: j.key,
    inputs: j.inputs,
    ...rest,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
    at: new Date().toISOString(),
  };
}
