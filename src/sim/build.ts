// Builds the Verilator model of a generated array together with the generic harness
// (sim/harness.cpp), once per content: the cache key covers the RTL text, the harness,
// the flags and the Verilator version, so a change to any of them rebuilds. Builds happen
// in a private temp dir that is renamed into place, so concurrent builds of the same key
// never see each other's half-written files. Verilator's runtime library (verilated.cpp, ...,
// compiled as one unit, RUNTIME_OBJECT) is the same for every model of one toolchain and flag
// set: the first build keeps it (cache dir runtime-<key>) and later builds link it instead of
// compiling it again (about 6 s of g++ per build). Likewise the headers every model's
// translation unit parses before the design (verilated.h, the harness's standard headers) are
// precompiled once per toolchain and compile flags (cache dir pch-<key>).

import { createHash, randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../config/errors.ts';
import type { ResolvedDpu } from '../config/resolve.ts';
import { requireTool } from '../config/toolchain.ts';
import { cacheDir } from '../io/cache.ts';
import { makeDirs } from '../io/fs-errors.ts';
import { childCpuSeconds, registerTemp, removeTemp } from '../io/process.ts';
import { run } from '../io/run.ts';
import { type FaultKind, type RtlBundle, renderRtl } from '../rtl/index.ts';
import { renderTemplateFile } from '../rtl/templates.ts';
import { type PeKind, peGlue, peHost, peKinds, peStub } from './split.ts';

/** Bump when the build recipe changes in a way the key below does not see. */
const BUILD_RECIPE = 5;

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const HARNESS_PATH = join(REPO_ROOT, 'sim', 'harness.cpp');
const WRAPPER_TEMPLATE = join(REPO_ROOT, 'sim', 'wrapper.v.hbs');

/** strumgen's one cache root (src/io/cache.ts): $STRUMGEN_CACHE, else $XDG_CACHE_HOME/strumgen or ~/.cache/strumgen. */
export { cacheRoot } from '../io/cache.ts';

export type TraceFormat = 'fst' | 'vcd';

export interface BuildOptions {
  /** Test-only deliberate RTL bug (src/rtl RtlOptions.fault). */
  readonly fault?: FaultKind;
  /** Build this RTL instead of rendering the config's (hand-edited RTL, tests). */
  readonly rtl?: RtlBundle;
  /** Waveform build (slower model): FST or VCD. */
  readonly trace?: TraceFormat;
  readonly onProgress?: (msg: string) => void;
  /** Kill the build after this many ms (default 10 minutes plus 0.5 s per PE). */
  readonly timeoutMs?: number;
  /** How Verilator builds the PE array (default: defaultBuildMode; the others are for bench/). */
  readonly mode?: BuildMode;
}

/**
 * How Verilator builds the PE array (docs/PERFORMANCE.md has the measurements):
 * - 'flat': every PE inlined into one straight-line model; build cost grows with rows x cols.
 * - 'no-inline': the PE kept a module (`no_inline`), but Verilator 5.006 still emits one copy
 *   of its code per instance (it substitutes each instance's port nets into the code).
 * - 'pe-module' (default): as 'no-inline', with the PE's ports public for reading
 *   (`public_flat_rd`), so the PE's code reads its own port variables and is emitted once; per
 *   instance only the port copies remain. (Plain `public` ports may be written from outside, so
 *   Verilator re-evaluated every PE on every eval(): 8x slower.)
 * - 'hierarchical': the PE a `hier_block` of `--hierarchical` verilation (a separate library
 *   called through DPI wrappers).
 * - 'pe-models': the array verilated with stubs in place of the PE, each stub served by its own
 *   instance of a separately verilated PE model (src/sim/split.ts); waveform builds use 'pe-module'.
 */
export const BUILD_MODES = ['flat', 'no-inline', 'pe-module', 'hierarchical', 'pe-models'] as const;
export type BuildMode = (typeof BUILD_MODES)[number];
export const DEFAULT_BUILD_MODE: BuildMode = 'pe-module';
/**
 * From this many PEs on, the default build is 'pe-models': its build stays about flat in the
 * array size, while 'pe-module' runs faster but builds in time growing with rows x cols
 * (docs/PERFORMANCE.md, "Array size").
 */
export const PE_MODELS_FROM = 256;

/** The build mode a config gets unless one is asked for. */
export const defaultBuildMode = (cfg: ResolvedDpu): BuildMode =>
  cfg.array.rows * cfg.array.cols >= PE_MODELS_FROM ? 'pe-models' : DEFAULT_BUILD_MODE;

/** The PE module's ports but its clock (named in its Verilog text). */
function peDataPorts(peText: string): string[] {
  const ports = [
    ...peText.matchAll(/^\s*(?:input|output)\b(?:\s+(?:wire|reg|signed))*\s*(?:\[[^\]]*\]\s*)?(\w+)/gm),
  ]
    .map((m) => m[1]!)
    .filter((p) => p !== 'clk');
  if (!ports.length) throw new Error('sim build: no ports found in the PE module');
  return ports;
}

/** The Verilator configuration file (.vlt) that sets the build mode, or none for 'flat'. */
export function buildModeConfig(bundle: RtlBundle, mode: BuildMode): { name: string; content: string }[] {
  if (mode === 'flat') return [];
  const pe = bundle.pe;
  const lines = mode === 'hierarchical' ? [`hier_block -module "${pe}"`] : [`no_inline -module "${pe}"`];
  if (mode === 'pe-module') {
    const text = bundle.files.find((f) => f.name === `${pe}.v`)?.content ?? '';
    lines.push(...peDataPorts(text).map((p) => `public_flat_rd -module "${pe}" -var "${p}"`));
  }
  return [{ name: 'strumgen_build.vlt', content: `\`verilator_config\n${lines.join('\n')}\n` }];
}

export interface SimBuild {
  /** The harness executable. */
  readonly binary: string;
  readonly dir: string;
  readonly key: string;
  readonly cached: boolean;
  /** Wall time of this call (0-ish when cached). */
  readonly seconds: number;
  readonly verilatorVersion: string;
  /** The full Verilator command line (for reports). */
  readonly command: string;
  /** The build mode used. */
  readonly mode: BuildMode;
  /** g++ loaded the precompiled Verilator headers (cache dir pch-<key>); null when cached. */
  readonly pch: boolean | null;
}

/** The array has layer metadata ports (e.g. DLIQ's in_shift per layer): the wrapper's in_meta. */
export const hasMetaPort = (cfg: ResolvedDpu) => cfg.derived.interface.layerMetaBits > 0;

/** The harness's input-register wrapper around the array (sim/wrapper.v.hbs). */
export function simWrapper(cfg: ResolvedDpu, top: string): { name: string; content: string } {
  const io = cfg.derived.interface;
  const module = `${top}_simwrap`;
  const content = renderTemplateFile(WRAPPER_TEMPLATE, {
    module,
    top,
    actMsb: io.actBits - 1,
    wgtMsb: io.wgtBits - 1,
    outMsb: io.outBits - 1,
    rowMsb: io.outRowBits - 1,
    meta: hasMetaPort(cfg)
      ? {
          msb: io.layerMetaBits - 1,
          ports: io.layerMeta.map((m) => ({ name: m.port, lsb: m.offset, msb: m.offset + m.field.bits - 1 })),
        }
      : null,
  });
  return { name: `${module}.v`, content };
}

/** The options every model shares, the array's and each PE model's (see verilatorFlags). */
function speedFlags(trace?: TraceFormat): string[] {
  return [
    '-O3',
    '--x-assign',
    'fast',
    '--x-initial',
    'fast',
    '--noassert',
    '-Wno-fatal',
    '-Wno-lint',
    '-Wno-style',
    '--output-split',
    '0',
    ...(trace ? [trace === 'vcd' ? '--trace' : '--trace-fst'] : []),
  ];
}

/**
 * The Verilator options: the speed advice of Verilator's manual (-O3, fast X handling, no
 * assertions), never --threads. The model's C++ is compiled at -O1: -O2 and -O3 build slower
 * and ran no faster on the 8x8 MIP2Q array. `--output-split 0` writes one C++ file instead of
 * one per 20,000 statements (the headers are compiled once): 23-32% less build CPU on 4x4 and
 * 8x8 arrays, same speed (docs/PERFORMANCE.md).
 */
export function verilatorFlags(
  cfg: ResolvedDpu,
  top: string,
  trace?: TraceFormat,
  mode: BuildMode = DEFAULT_BUILD_MODE,
): string[] {
  const defines: string[] = [];
  if (hasMetaPort(cfg)) defines.push('-DSTRUM_HAS_META');
  if (trace) defines.push('-DSTRUM_TRACE', ...(trace === 'vcd' ? ['-DSTRUM_TRACE_VCD'] : []));
  return [
    '--cc',
    '--exe',
    ...speedFlags(trace),
    ...(mode === 'hierarchical' ? ['--hierarchical'] : []),
    // pe-models: the array's per-instance code in functions of at most 2,000 statements
    // instead of two functions of 60,000 lines at 64x64 (g++ -O0: 25% less CPU, half the memory).
    ...(mode === 'pe-models' ? ['--output-split-cfuncs', '2000'] : []),
    '--top-module',
    `${top}_simwrap`,
    '--prefix',
    'Vdut',
    ...(defines.length ? ['-CFLAGS', defines.join(' ')] : []),
  ];
}

/**
 * g++ passes left out of the model's -O1 compile: dead-store elimination (tree and RTL),
 * points-to analysis and the interprocedural side-effect analyses walk every statement's
 * aliases in Verilator's long straight-line functions (16% of the compile's instructions on
 * the 8x8 MIP2Q array) and the model ran the same code (0.2% fewer instructions, the same
 * branch mispredictions, byte-identical outputs; docs/PERFORMANCE.md "g++ passes of the model
 * compile"). If-conversion stays: without it the model mispredicts ten times more branches.
 */
const SKIPPED_PASSES = [
  '-fno-tree-dse',
  '-fno-dse',
  '-fno-tree-pta',
  '-fno-ipa-modref',
  '-fno-ipa-pure-const',
  '-fno-ipa-reference',
];

/**
 * make's options for the model (Verilator's makefile; strumgen runs make itself, see
 * buildModel). pe-models: the array's own code (per-instance stub calls, wiring, read-out) at
 * -O0, which compiles 4x faster at 32x32; the PE models (PE_OPT) and the glue (a pragma) stay
 * optimised. The runtime library (OPT_GLOBAL) at the model's -O1: -O2 costs about 1.5-3.5 s
 * more g++ on a machine's first build and the 8x8 model ran the same instructions
 * (docs/PERFORMANCE.md); it is one object, RUNTIME_OBJECT (VK_GLOBAL_OBJS replaces
 * verilated.mk's one object per runtime file).
 */
export function makeOptions(mode: BuildMode = DEFAULT_BUILD_MODE): string[] {
  const model = ['-O1', ...SKIPPED_PASSES].join(' ');
  const opt = mode === 'pe-models' ? '-O0' : model;
  return [`OPT_FAST=${opt}`, `OPT_SLOW=${opt}`, `OPT_GLOBAL=${model}`, `VK_GLOBAL_OBJS=${RUNTIME_OBJECT}`];
}

/**
 * The one translation unit of the model and its harness (and the pe-models glue): each
 * separate .cpp file parses Verilator's headers again (about 2 s of g++ for the harness
 * alone, 40% of a small model's build). It starts with the precompiled header (PCH_FILE).
 */
const UNITY_FILE = 'strum_main.cpp';
const unitySource = (split: boolean) =>
  [
    '// strumgen: the Verilated model, the harness and the glue in one translation unit.',
    `#include "${PCH_FILE}"`,
    '#include "Vdut__ALL.cpp"',
    `#include "${HARNESS_PATH}"`,
    ...(split ? [`#include "${GLUE_FILE}"`] : []),
    '',
  ].join('\n');

/**
 * The headers the unity file parses that do not depend on the design: the harness's standard
 * headers (read from sim/harness.cpp), Verilator's runtime header, the DPI header the model's
 * public ports bring in, and the trace writer of a waveform build. g++ loads them from
 * PCH_FILE.gch when one beside the header matches the compile (and parses the header otherwise).
 */
const PCH_FILE = 'strum_pch.h';
export function pchSource(harness: string): string {
  const std = harness.match(/^#include <[^>]+>$/gm) ?? [];
  return [
    '// strumgen: what every model translation unit parses before the design (precompiled once).',
    ...std,
    '#include "verilated.h"',
    '#include "verilated_dpi.h"',
    '#if VM_TRACE_VCD',
    '#include "verilated_vcd_c.h"',
    '#endif',
    '#if VM_TRACE_FST',
    '#include "verilated_fst_c.h"',
    '#endif',
    '',
  ].join('\n');
}

/**
 * The make rules for the precompiled header, read with Vdut.mk in obj/: the flags of the
 * model's own compile (verilated.mk's `%.o: %.cpp` rule, OPT_FAST) less the harness's own
 * defines (-CFLAGS: STRUM_HAS_META, STRUM_TRACE; the header never reads them, and g++ accepts
 * a PCH when macros it does not use differ), printed for the cache key, and the rule that
 * compiles the header with them. The unity compile reports with -H whether
 * g++ loaded the PCH (a line `! .../strum_pch.h.gch`) and with -Winvalid-pch why not.
 */
const PCH_MAKEFILE = 'strum_pch.mk';
/**
 * Verilator's runtime library (verilated.cpp, verilated_dpi.cpp, verilated_threads.cpp and the
 * trace writer's, VM_GLOBAL_FAST/SLOW of Vdut_classes.mk) as one translation unit: compiled
 * file by file each parses the same headers again (9.6 against 6.8 s of g++ at -O1, once per
 * machine and flag set; docs/PERFORMANCE.md).
 */
const RUNTIME_OBJECT = 'strum_runtime.o';
const PCH_FLAGS_TAG = 'strumgen-pch-flags:';
const pchMakefile = [
  "# strumgen: the precompiled header (src/sim/build.ts), with the flags of verilated.mk's %.o rule.",
  'STRUM_PCH_FLAGS = $(OBJCACHE) $(CXX) $(CXXFLAGS) $(filter-out $(VM_USER_CFLAGS),$(CPPFLAGS)) $(OPT_FAST)',
  'strum-pch-flags:',
  `\t@echo '${PCH_FLAGS_TAG} $(STRUM_PCH_FLAGS)'`,
  `../${PCH_FILE}.gch: ../${PCH_FILE}`,
  '\t$(STRUM_PCH_FLAGS) -x c++-header -o $@ $<',
  `${UNITY_FILE.replace(/\.cpp$/, '.o')}: CXXFLAGS += -Winvalid-pch -H`,
  '.PHONY: strum-pch-flags',
  '# The runtime library in one translation unit (RUNTIME_OBJECT); compiled with OPT_GLOBAL.',
  `${RUNTIME_OBJECT.replace(/\.o$/, '.cpp')}:`,
  '\tprintf \'#include "%s.cpp"\\n\' $(VM_GLOBAL_FAST) $(VM_GLOBAL_SLOW) > $@',
  '',
].join('\n');

/** The unity compile's -H output says g++ loaded the precompiled header. */
export const pchUsed = (log: string) => new RegExp(`^! \\S*${PCH_FILE}\\.gch$`, 'm').test(log);

/** A hard link (same file system: no copy of ~60 MB), else a copy. */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** The precompiled header kept in dir (the directory appears complete, by rename), or null. */
function cachedPch(dir: string): string | null {
  const gch = join(dir, `${PCH_FILE}.gch`);
  return existsSync(gch) ? gch : null;
}

/** Keeps a freshly compiled precompiled header in dir for later builds. */
function savePch(gch: string, dir: string): void {
  if (existsSync(dir)) return;
  const tmp = registerTemp(`${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  makeDirs(tmp);
  try {
    linkOrCopy(gch, join(tmp, `${PCH_FILE}.gch`));
    renameSync(tmp, dir);
  } catch {
    // Another build kept one first, or the cache is not writable: only a missed saving.
  } finally {
    removeTemp(tmp);
  }
}

/** Drops a cached precompiled header g++ could not use (it is rebuilt by the next build). */
function dropPch(dir: string): void {
  const away = `${dir}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(dir, away);
    rmSync(away, { recursive: true, force: true });
  } catch {
    // Already dropped by another build.
  }
}

let versionMemo: Promise<string> | undefined;
function verilatorVersion(bin: string): Promise<string> {
  versionMemo ??= run(bin, ['--version'], { timeoutMs: 30_000 }).then((r) => `${r.stdout}`.trim());
  return versionMemo;
}

let cxxMemo: Promise<string> | undefined;
/**
 * The C++ compiler's banner with the distribution's build: part of the runtime objects' key
 * and the precompiled header's (a PCH is valid for one compiler binary).
 */
function cxxIdentity(): Promise<string> {
  cxxMemo ??= run(process.env.CXX || 'g++', ['--version'], { timeoutMs: 30_000 }).then(
    (r) => `${process.env.CXX || 'g++'} ${`${r.stdout}`.split('\n')[0]}`,
  );
  return cxxMemo;
}

const RUNTIME_LIST = 'objects.json';

/** The runtime objects kept in dir (written last, so present means complete), or null. */
function cachedRuntime(dir: string): string[] | null {
  try {
    const objs = JSON.parse(readFileSync(join(dir, RUNTIME_LIST), 'utf8')) as string[];
    return objs.every((o) => existsSync(join(dir, o))) ? objs : null;
  } catch {
    return null;
  }
}

/** Keeps the runtime object of a finished build (obj/RUNTIME_OBJECT) in dir for later builds. */
function saveRuntime(objDir: string, dir: string): void {
  const objs = existsSync(join(objDir, RUNTIME_OBJECT)) ? [RUNTIME_OBJECT] : [];
  if (!objs.length || existsSync(dir)) return;
  const tmp = registerTemp(`${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  makeDirs(tmp);
  try {
    for (const o of objs) copyFileSync(join(objDir, o), join(tmp, o));
    writeFileSync(join(tmp, RUNTIME_LIST), JSON.stringify(objs));
    renameSync(tmp, dir);
  } catch {
    // Another build kept them first, or the cache is not writable: only a missed saving.
  } finally {
    removeTemp(tmp);
  }
}

/**
 * The flags that link the given runtime objects (already copied into obj/) instead of
 * compiling them: make's `-o FILE` takes FILE as up to date (Verilator's makefile would
 * otherwise rebuild them because they depend on the freshly written Vdut.mk).
 */
function withRuntime(make: readonly string[], objs: readonly string[]): string[] {
  return [...make, ...objs.flatMap((o) => ['-o', o])];
}

/** The first lines of a failed build's log that say what went wrong. */
export function firstErrorLines(log: string, max = 12): string {
  const lines = log.split('\n');
  const at = lines.findIndex((l) => /%Error|error:|Error \d|fatal/i.test(l));
  return lines
    .slice(Math.max(0, at), Math.max(0, at) + max)
    .join('\n')
    .trim();
}

/**
 * The flags that decide Verilator's runtime objects: not the top, the libraries linked, the
 * harness's defines, or the model's own optimisation (the runtime is compiled at OPT_GLOBAL).
 */
function runtimeFlags(flags: readonly string[], make: readonly string[]): string[] {
  const skip = new Set(['--top-module', '-LDFLAGS', '-CFLAGS', '--output-split-cfuncs']);
  return [
    ...flags.filter((f, i) => !skip.has(f) && !skip.has(flags[i - 1] ?? '')),
    ...make.filter((x) => x.startsWith('OPT_GLOBAL=') || x.startsWith('VK_GLOBAL_OBJS=')),
  ];
}

/** The glue between the array's PE stubs and the PE models (mode 'pe-models'), in the build dir. */
const GLUE_FILE = 'strum_pe_glue.cpp';
/** The PE models' C++ optimisation: their code is the simulation's hot path. */
const PE_OPT = '-O2';

interface SplitSources {
  /** The array's files with each PE module replaced by its stub (PE-only files left out). */
  readonly shell: { name: string; content: string }[];
  /** The PE models' files: the design's PE and its submodules, and one host per PE kind. */
  readonly models: { name: string; content: string }[];
  readonly kinds: PeKind[];
  readonly glue: string;
}

/** Build mode 'pe-models': the array with PE stubs, and the PE models' sources (src/sim/split.ts). */
function splitSources(bundle: RtlBundle): SplitSources {
  const kinds = peKinds(bundle);
  const arrayFile = bundle.files.find((f) => new RegExp(`\\bmodule\\s+${bundle.top}\\b`).test(f.content));
  if (!arrayFile) throw new Error(`sim build: no file defines ${bundle.top}`);
  if (new RegExp(`\\b(?:${kinds.map((k) => k.module).join('|')})\\s*#`).test(arrayFile.content))
    throw new Error('sim build pe-models: the array overrides PE parameters; use build mode pe-module');
  const defining = (k: PeKind) =>
    bundle.files.find((f) => new RegExp(`\\bmodule\\s+${k.module}\\b`).test(f.content))!;
  const stubs = kinds.map((k) => peStub(defining(k).content, k));
  const designFiles = bundle.files
    .filter((f) => f !== arrayFile)
    .map((f) => ({ ...f, name: `pe_${f.name}` }));
  const hosts = kinds.map((k) => peHost(defining(k).content, k));
  return {
    shell: [...stubs, arrayFile],
    models: [...designFiles, ...hosts],
    kinds,
    glue: peGlue(kinds),
  };
}

/** Verilator's arguments for one PE model (run in the build dir; its C++ goes to obj/). */
function peModelFlags(k: PeKind, split: SplitSources, trace?: TraceFormat): string[] {
  return [
    '--cc',
    ...speedFlags(trace),
    '--top-module',
    `${k.module}_host`,
    '--prefix',
    k.prefix,
    '-Mdir',
    'obj',
    ...split.models.map((f) => join('rtl', f.name)),
  ];
}

export async function buildModel(cfg: ResolvedDpu, opts: BuildOptions = {}): Promise<SimBuild> {
  const t0 = performance.now();
  const bin = requireTool('verilator');
  // Verilator's --build runs make and the C++ compiler: missing ones are named here, not as "make exited 127".
  requireTool('make');
  requireTool('cxx');
  const version = await verilatorVersion(bin);
  const bundle = opts.rtl ?? renderRtl(cfg, opts.fault ? { fault: opts.fault } : {});
  const harness = readFileSync(HARNESS_PATH, 'utf8');
  // Waveforms need the PEs inside the traced model.
  const asked = opts.mode ?? defaultBuildMode(cfg);
  const mode = opts.trace && asked === 'pe-models' ? 'pe-module' : asked;
  const split = mode === 'pe-models' ? splitSources(bundle) : null;
  // The configuration file goes first: Verilator applies it to the files read after it.
  const sources = split
    ? [...split.shell, simWrapper(cfg, bundle.top)]
    : [...buildModeConfig(bundle, mode), ...bundle.files, simWrapper(cfg, bundle.top)];
  const flags = [
    ...verilatorFlags(cfg, bundle.top, opts.trace, mode),
    // The PE models' libraries (make runs in obj/, where they are built).
    ...(split ? ['-LDFLAGS', split.kinds.map((k) => `${k.prefix}__ALL.a`).join(' ')] : []),
  ];
  const make = makeOptions(mode);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        recipe: BUILD_RECIPE,
        config: cfg.hash,
        files: sources,
        pe: split?.models ?? null,
        harness,
        version,
        flags,
        make,
        unity: unitySource(!!split),
        pch: [pchSource(harness), pchMakefile],
        fault: opts.fault ?? null,
        trace: opts.trace ?? null,
      }),
    )
    .digest('hex')
    .slice(0, 24);
  const root = cacheDir('sim');
  const dir = join(root, `${cfg.name}-${key}`);
  const binary = join(dir, 'Vdut');
  const files = sources.map((f) => join('rtl', f.name));
  // Everything that decides the runtime objects: not the design, only the toolchain and flags.
  const runtimeDir = join(
    root,
    `runtime-${createHash('sha256')
      .update(
        JSON.stringify({
          version,
          cxx: await cxxIdentity(),
          flags: runtimeFlags(flags, make),
        }),
      )
      .digest('hex')
      .slice(0, 24)}`,
  );
  const runtime = existsSync(binary) ? null : cachedRuntime(runtimeDir);
  const args = [...flags, '-Mdir', 'obj', '-o', 'Vdut', UNITY_FILE, ...files];
  // make in obj/: Vdut__ALL.cpp (the model's sources, included by the unity file), then the
  // harness: VK_OBJS= leaves the model out of the link (it is inside strum_main.o).
  const makeArgs = [...(runtime ? withRuntime(make, runtime) : make), 'VK_OBJS='];
  const quote = (xs: readonly string[]) => xs.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
  const pchMake = ['-f', 'Vdut.mk', '-f', `../${PCH_MAKEFILE}`];
  const command = `${quote(['verilator', ...args])} && make -C obj -f Vdut.mk VM_PARALLEL_BUILDS=0 Vdut__ALL.cpp && ${quote(['make', '-C', 'obj', ...pchMake, ...make, `../${PCH_FILE}.gch`])} && ${quote(['make', '-C', 'obj', ...pchMake, ...makeArgs])}`;
  let pch: boolean | null = null;
  const done = (cached: boolean): SimBuild => ({
    binary,
    dir,
    key,
    cached,
    seconds: (performance.now() - t0) / 1000,
    verilatorVersion: version,
    command,
    mode,
    pch,
  });
  if (existsSync(binary)) return done(true);

  const tmp = registerTemp(join(root, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`));
  makeDirs(join(tmp, 'rtl'));
  mkdirSync(join(tmp, 'obj'));
  try {
    for (const f of sources) writeFileSync(join(tmp, 'rtl', f.name), f.content);
    for (const o of runtime ?? []) copyFileSync(join(runtimeDir, o), join(tmp, 'obj', o));
    opts.onProgress?.(
      `building the Verilator model of ${cfg.name} (${cfg.array.rows}x${cfg.array.cols}${opts.trace ? `, ${opts.trace} tracing` : ''}${opts.fault ? `, fault ${opts.fault}` : ''})...`,
    );
    // Verilator's own time and the port copies still grow with the PE count (PERFORMANCE.md).
    const buildTimeout = opts.timeoutMs ?? 600_000 + 500 * cfg.array.rows * cfg.array.cols;
    const deadline = performance.now() + buildTimeout;
    let log = '';
    const fail = (what: string, r: { exitCode?: number; all?: unknown }) => {
      const keep = join(root, `failed-${cfg.name}-${key}.log`);
      writeFileSync(keep, log);
      return new UserError(
        `Verilator build of ${cfg.name} failed (${what}, exit ${r.exitCode}); first lines of the log:\n` +
          `${firstErrorLines(`${r.all ?? ''}`)}\nfull log: ${keep}`,
        4,
      );
    };
    const timedOut = () =>
      new UserError(`Verilator build of ${cfg.name} did not finish in ${buildTimeout / 1000} s`, 4);
    /** Runs [command, args, cwd] steps in order, logging each; `what` names a failure. */
    const runSteps = async (steps: [string, string[], string][], what: string) => {
      let out = '';
      for (const [cmd, cmdArgs, cwd] of steps) {
        const s0 = performance.now();
        const c0 = childCpuSeconds();
        const r = await run(cmd, cmdArgs, {
          cwd,
          all: true,
          timeoutMs: Math.max(1, deadline - performance.now()),
        });
        log += `${quote([cmd, ...cmdArgs])}\n\n${r.all ?? ''}\n(${((performance.now() - s0) / 1000).toFixed(1)} s wall, ${(childCpuSeconds() - c0).toFixed(1)} s CPU)\n\n`;
        if (r.timedOut) throw timedOut();
        if (r.exitCode !== 0) throw fail(what, r);
        out += `${r.all ?? ''}\n`;
      }
      return out;
    };
    if (split) {
      // The PE models first: each verilated and compiled into a library the harness links.
      for (const f of split.models) writeFileSync(join(tmp, 'rtl', f.name), f.content);
      writeFileSync(join(tmp, GLUE_FILE), split.glue);
      for (const k of split.kinds) {
        await runSteps(
          [
            [bin, peModelFlags(k, split, opts.trace), tmp],
            ['make', ['-f', `${k.prefix}.mk`, `${k.prefix}__ALL.a`, `OPT_FAST=${PE_OPT}`], join(tmp, 'obj')],
          ],
          `PE model ${k.module}`,
        );
      }
    }
    writeFileSync(join(tmp, UNITY_FILE), unitySource(!!split));
    writeFileSync(join(tmp, PCH_FILE), pchSource(harness));
    writeFileSync(join(tmp, PCH_MAKEFILE), pchMakefile);
    const objDir = join(tmp, 'obj');
    const sourcesOut = await runSteps(
      [
        [bin, args, tmp],
        // VM_PARALLEL_BUILDS=0: with --trace Verilator sets it to 1, and verilated.mk then has no
        // rule for Vdut__ALL.cpp.
        ['make', [...pchMake, 'VM_PARALLEL_BUILDS=0', ...make, 'Vdut__ALL.cpp', 'strum-pch-flags'], objDir],
      ],
      'array',
    );
    // The precompiled header: cached per toolchain and the unity compile's exact flags.
    const pchFlags = sourcesOut.split('\n').find((l) => l.startsWith(PCH_FLAGS_TAG)) ?? '';
    const pchDir = join(
      root,
      `pch-${createHash('sha256')
        .update(
          JSON.stringify({ version, cxx: await cxxIdentity(), flags: pchFlags, header: pchSource(harness) }),
        )
        .digest('hex')
        .slice(0, 24)}`,
    );
    const gch = join(tmp, `${PCH_FILE}.gch`);
    const kept = cachedPch(pchDir);
    if (kept) linkOrCopy(kept, gch);
    else {
      // A PCH that does not compile only costs the saving: the unity compile parses the header.
      await runSteps(
        [['make', [...pchMake, ...make, `../${PCH_FILE}.gch`], objDir]],
        'precompiled header',
      ).then(
        () => savePch(gch, pchDir),
        () => {
          rmSync(gch, { force: true });
          rmSync(join(root, `failed-${cfg.name}-${key}.log`), { force: true });
        },
      );
    }
    const compile = () => runSteps([['make', [...pchMake, ...makeArgs], objDir]], 'array');
    let out: string;
    const logBefore = log.length;
    try {
      out = await compile();
    } catch (e) {
      // A PCH g++ cannot read (truncated, disk error) fails the compile instead of being
      // ignored: drop it and compile once more without.
      if (
        !existsSync(gch) ||
        !/(fatal error|internal compiler error)[^\n]*\bPCH\b/i.test(log.slice(logBefore))
      )
        throw e;
      rmSync(gch, { force: true });
      dropPch(pchDir);
      rmSync(join(root, `failed-${cfg.name}-${key}.log`), { force: true });
      out = await compile();
    }
    pch = pchUsed(out);
    // Found but not loaded (-Winvalid-pch): a stale entry; the next build makes a fresh one.
    if (!pch && existsSync(gch) && kept) dropPch(pchDir);
    writeFileSync(join(tmp, 'build.log'), log);
    if (!existsSync(join(tmp, 'obj', 'Vdut'))) throw fail('array', { exitCode: 0, all: log });
    // A .vlt naming a module that is not there is silently ignored: check the PE stayed whole.
    if (
      (mode === 'no-inline' || mode === 'pe-module') &&
      !existsSync(join(tmp, 'obj', `Vdut_${bundle.pe}.h`))
    ) {
      throw new Error(`sim build: ${bundle.pe} was inlined despite strumgen_build.vlt`);
    }
    if (!runtime) saveRuntime(join(tmp, 'obj'), runtimeDir);
    renameSync(join(tmp, 'obj', 'Vdut'), join(tmp, 'Vdut'));
    rmSync(join(tmp, 'obj'), { recursive: true, force: true });
    rmSync(gch, { force: true }); // a link to the cache's copy: the model does not need it
    writeFileSync(
      join(tmp, 'meta.json'),
      `${JSON.stringify({ key, config: cfg.hash, name: cfg.name, version, flags, fault: opts.fault ?? null, pch }, null, 2)}\n`,
    );
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same build first: use theirs.
      if (!existsSync(binary)) throw e;
    }
  } finally {
    removeTemp(tmp);
  }
  const built = done(false);
  opts.onProgress?.(`built in ${built.seconds.toFixed(1)} s (${dir})`);
  return built;
}
