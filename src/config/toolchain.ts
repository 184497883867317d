// The external tools the flow runs, how to find them and how to install them.
// `strumgen doctor` reports these; sim and synth use them to fail with an install hint.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run } from '../io/run.ts';
import { UserError } from './errors.ts';

export const OSU018_LIBERTY = '/usr/share/qflow/tech/osu018/osu018_stdcells.lib';

export interface ToolSpec {
  readonly id: 'verilator' | 'make' | 'cxx' | 'yosys' | 'opensta' | 'osu018' | 'iverilog';
  readonly label: string;
  /** Executable name (null for data files). */
  readonly command: string | null;
  readonly versionArgs: readonly string[];
  /** Environment variable that overrides the path. */
  readonly envVar: string;
  readonly install: string;
  readonly usedBy: string;
}

export const TOOLS: readonly ToolSpec[] = [
  {
    id: 'verilator',
    label: 'Verilator',
    command: 'verilator',
    versionArgs: ['--version'],
    envVar: 'STRUMGEN_VERILATOR',
    install: 'apt-get install -y verilator',
    usedBy: 'lint and co-simulation',
  },
  {
    id: 'make',
    label: 'make',
    command: 'make',
    versionArgs: ['--version'],
    envVar: 'STRUMGEN_MAKE',
    install: 'apt-get install -y make',
    usedBy: 'building the Verilator model (co-simulation)',
  },
  {
    id: 'cxx',
    label: 'C++ compiler',
    command: 'g++',
    versionArgs: ['--version'],
    envVar: 'CXX',
    install: 'apt-get install -y g++',
    usedBy: 'building the Verilator model (co-simulation)',
  },
  {
    id: 'yosys',
    label: 'Yosys (system)',
    command: 'yosys',
    versionArgs: ['-V'],
    envVar: 'STRUMGEN_YOSYS',
    install: 'apt-get install -y yosys',
    usedBy: 'RTL checks and synth --yosys system',
  },
  {
    id: 'opensta',
    label: 'OpenSTA',
    command: 'sta',
    versionArgs: ['-version'],
    envVar: 'STRUMGEN_STA',
    install: 'apt-get install -y opensta',
    usedBy: 'timing and power',
  },
  {
    id: 'osu018',
    label: 'osu018 liberty',
    command: null,
    versionArgs: [],
    envVar: 'STRUMGEN_LIBERTY',
    install: 'apt-get install -y qflow-tech-osu018',
    usedBy: 'default standard-cell library',
  },
  {
    id: 'iverilog',
    label: 'Icarus Verilog',
    command: 'iverilog',
    versionArgs: ['-V'],
    envVar: 'STRUMGEN_IVERILOG',
    install: 'apt-get install -y iverilog',
    usedBy: 'glitch-aware power (--timed) and the gate-simulator check',
  },
];

export interface ToolStatus {
  readonly id: ToolSpec['id'] | 'yowasp';
  readonly label: string;
  readonly found: boolean;
  readonly path: string | null;
  readonly version: string | null;
  readonly install: string;
  readonly usedBy: string;
  readonly problem?: string;
}

/** First executable called `name` on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return null;
}

function specOf(id: ToolSpec['id']): ToolSpec {
  return TOOLS.find((t) => t.id === id)!;
}

/** Path of a tool: its environment override, else PATH (or the packaged file). */
export function toolPath(id: ToolSpec['id']): string | null {
  const spec = specOf(id);
  const override = process.env[spec.envVar];
  // CXX may name a command on PATH rather than a path.
  if (override) return existsSync(override) ? override : override.includes('/') ? null : which(override);
  if (spec.command === null) return existsSync(OSU018_LIBERTY) ? OSU018_LIBERTY : null;
  return which(spec.command);
}

/** Path of a tool, or a UserError that says how to install it. */
export function requireTool(id: ToolSpec['id']): string {
  const path = toolPath(id);
  if (path) return path;
  const spec = specOf(id);
  const override = process.env[spec.envVar];
  const where = override ? `${spec.envVar}=${override} does not exist` : `not found on PATH`;
  throw new UserError(
    `${spec.label} is needed for ${spec.usedBy} but ${where}; install it with: ${spec.install} (or run scripts/setup)`,
    3,
  );
}

export async function probeTool(spec: ToolSpec): Promise<ToolStatus> {
  const base = { id: spec.id, label: spec.label, install: spec.install, usedBy: spec.usedBy };
  const path = toolPath(spec.id);
  if (!path) return { ...base, found: false, path: null, version: null };
  if (spec.command === null) return { ...base, found: true, path, version: null };
  try {
    const r = await run(path, spec.versionArgs, { timeoutMs: 10_000, input: '' });
    const text = `${r.stdout}\n${r.stderr}`.trim().split('\n')[0]?.trim() ?? '';
    if (r.exitCode !== 0 && !text)
      return { ...base, found: false, path, version: null, problem: 'did not run' };
    return { ...base, found: true, path, version: text || null };
  } catch (e) {
    return { ...base, found: false, path, version: null, problem: (e as Error).message.split('\n')[0] };
  }
}

export async function probeTools(): Promise<ToolStatus[]> {
  return Promise.all(TOOLS.map(probeTool));
}
