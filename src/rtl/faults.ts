// Test-only faults as an overlay on a finished bundle: the design's modules (the library and
// the generated PE and array) contain no fault logic. A fault wraps one library module in a
// new module `<name>_fault` (same parameters and ports; it instantiates the original and
// corrupts one signal) and points the PE's instances (and those of any library module between
// the PE and the target, copied as `<name>_fault`) at the wrapper. Every PE of the bundle gets
// the fault; test/rtl-helpers.ts faultInOnePe puts it into one PE only.
import type { ResolvedDpu } from '../config/resolve.ts';
import { formatOf } from '../format/registry.ts';
import type { LaneSpec } from '../format/spec.ts';
import { structureOf } from '../format/structure.ts';
import { applicableFaults } from './context.ts';
import { LIB, laneModule } from './library.ts';
import type { FaultKind, RtlBundle } from './types.ts';

const FAULT = '_fault';

interface Header {
  /** `#( ... ) ( ... );` of the module, verbatim. */
  readonly text: string;
  readonly params: string[];
  readonly ports: { dir: 'input' | 'output'; range: string; name: string }[];
}

function headerOf(text: string, module: string): Header {
  const m = new RegExp(`^module\\s+${module}\\b([\\s\\S]*?\\)\\s*;)`, 'm').exec(text);
  if (!m) throw new Error(`fault overlay: no module ${module}`);
  const head = m[1]!;
  const params = [...head.matchAll(/\bparameter\s+(?:\[[^\]]*\]\s*)?(\w+)/g)].map((x) => x[1]!);
  const ports = [...head.matchAll(/\b(input|output)\s+(?:wire\s+)?(\[[^\]]*\]\s*)?(\w+)/g)].map((x) => ({
    dir: x[1] as 'input' | 'output',
    range: (x[2] ?? '').trim(),
    name: x[3]!,
  }));
  return { text: head, params, ports };
}

/** A wrapper `<module>_fault` that corrupts `port`: its connection becomes `<port>_ok` and `body` drives the rest. */
function wrapper(
  text: string,
  module: string,
  port: string,
  body: (h: Header) => string,
  why: string,
): string {
  const h = headerOf(text, module);
  const p = h.ports.find((x) => x.name === port);
  if (!p) throw new Error(`fault overlay: ${module} has no port ${port}`);
  const params = h.params.map((n) => `.${n}(${n})`).join(', ');
  const conns = h.ports.map((x) => `.${x.name}(${x.name === port ? `${port}_ok` : x.name})`).join(', ');
  return [
    `// Test-only fault overlay (src/rtl/faults.ts), never part of a design: ${why}.`,
    `module ${module}${FAULT}${h.text}`,
    `  wire ${p.range} ${port}_ok;`,
    `  ${module}${params ? ` #(${params})` : ''} u_ok (${conns});`,
    body(h),
    'endmodule',
    '',
  ].join('\n');
}

const negateOutput = () => '  assign p = -p_ok;';

/**
 * A wrapper `<module>_fault` that declares `lines` and instantiates the module with some port
 * connections changed (`conns`: port -> the wrapper's signal); `lines` rebuild the rest.
 */
function rewire(
  text: string,
  module: string,
  why: string,
  lines: readonly string[],
  conns: Readonly<Record<string, string>>,
): string {
  const h = headerOf(text, module);
  const params = h.params.map((n) => `.${n}(${n})`).join(', ');
  const ports = h.ports.map((x) => `.${x.name}(${conns[x.name] ?? x.name})`).join(', ');
  return [
    `// Test-only fault overlay (src/rtl/faults.ts), never part of a design: ${why}.`,
    `module ${module}${FAULT}${h.text}`,
    ...lines,
    `  ${module} #(${params}) u_ok (${ports});`,
    'endmodule',
    '',
  ].join('\n');
}

// The input side: `code_bad` is what the lane sees, built from the real `code`.
const stuckBit = (text: string, module: string) =>
  rewire(
    text,
    module,
    'weight bit 1 stuck at 0',
    [
      "  wire [C_BITS-1:0] code_bad = {code[C_BITS-1:2], 1'b0, code[0]};",
      '  /* verilator lint_off UNUSEDSIGNAL */',
      '  wire stuck = code[1];',
      '  /* verilator lint_on UNUSEDSIGNAL */',
    ],
    { code: 'code_bad' },
  );

// High lane 0 reads one position too far (one before, at the block's end) whenever its weight
// is not at position 0: right most of the time, wrong sometimes.
function misroute(selects: boolean) {
  return () =>
    [
      '  reg [A-1:0] bad;',
      '  reg found;',
      '  integer i;',
      '  always @* begin',
      '    bad = hi_act_ok[A-1:0];',
      "    found = 1'b0;",
      `    for (i = 0; i < ${selects ? 'B - H + 1' : 'B'}; i = i + 1) begin`,
      `      if (!found && ${selects ? 'sel[i]' : '!mask[i]'}) begin`,
      "        found = 1'b1;",
      '        if (i != 0) bad = act[((i + 1 < B) ? i + 1 : i - 1) * A +: A];',
      '      end',
      '    end',
      '  end',
      '  generate',
      '    if (H > 1) begin : g_more',
      '      assign hi_act = {hi_act_ok[H*A-1:A], bad};',
      '    end else begin : g_one',
      '      assign hi_act = bad;',
      '    end',
      '  endgenerate',
    ].join('\n');
}

// A fault inside the low lane, as its format defines it (LaneSpec.fault): the module's own
// text with the fault, renamed.
function laneInternal(text: string, module: string, fault: NonNullable<LaneSpec['fault']>): string {
  return [
    `// Test-only fault overlay (src/rtl/faults.ts), never part of a design: ${fault.why}.`,
    fault.inject(text).replace(new RegExp(`^module\\s+${module}\\b`, 'm'), `module ${module}${FAULT}`),
  ].join('\n');
}

/** The bundle with `fault` injected into every PE (throws when the fault does not apply). */
export function injectFault(cfg: ResolvedDpu, bundle: RtlBundle, fault: FaultKind): RtlBundle {
  if (!applicableFaults(cfg).includes(fault)) {
    throw new Error(
      `rtl: fault '${fault}' does not apply to ${cfg.name} (applicable: ${applicableFaults(cfg).join(', ') || 'none'})`,
    );
  }
  const files = new Map(bundle.files.map((f) => [f.name.slice(0, -2), f.content]));
  const has = (m: string) => files.has(m);
  const structureFault = structureOf(cfg).datapath?.faults.find((f) => f.kind === fault);
  let target: string;
  let wrapped: string;
  if (fault === 'high-lane-bit') {
    target = LIB.laneFull.module;
    wrapped = stuckBit(files.get(target)!, target);
  } else if (fault === 'low-lane-sign') {
    const lane = formatOf(cfg).lane!;
    target = laneModule(lane.kind, lane.source).module;
    wrapped = wrapper(files.get(target)!, target, 'p', negateOutput, "the low lane's product negated");
  } else if (structureFault) {
    // A fault of the PE structure's datapath (SDP: the selector's tie rule, a part's flag).
    target = structureFault.module;
    wrapped = rewire(
      files.get(target)!,
      target,
      structureFault.why,
      structureFault.lines,
      structureFault.conns,
    );
  } else if (fault === 'low-lane-internal') {
    const lane = formatOf(cfg).lane!;
    target = laneModule(lane.kind, lane.source).module;
    wrapped = laneInternal(files.get(target)!, target, lane.fault!);
  } else {
    const selects = has(LIB.routeMux.module);
    target = selects ? LIB.routeMux.module : LIB.router.module;
    wrapped = wrapper(files.get(target)!, target, 'hi_act', misroute(selects), 'high lane 0 misrouted');
  }
  const added: { name: string; content: string }[] = [{ name: `${target}${FAULT}.v`, content: wrapped }];
  const uses = (text: string, m: string) => new RegExp(`^\\s*${m}\\b(?:\\s+#|\\s+u_)`, 'm').test(text);
  const redirect = (text: string, m: string) =>
    text.replace(new RegExp(`^(\\s*)${m}\\b(?=\\s+#|\\s+u_)`, 'gm'), `$1${m}${FAULT}`);
  // Point the PE at the wrapper, through a faulty copy of each library module in between.
  let edited = new Map<string, string>();
  const reach = (m: string) => {
    for (const [name, text] of files) {
      if (name === m || name === bundle.top || name.endsWith(FAULT) || !uses(text, m)) continue;
      const next = redirect(edited.get(name) ?? text, m);
      if (name === bundle.pe) edited.set(name, next);
      else if (!edited.has(name)) {
        added.push({
          name: `${name}${FAULT}.v`,
          content: next.replace(new RegExp(`^module\\s+${name}\\b`, 'm'), `module ${name}${FAULT}`),
        });
        edited.set(name, next);
        reach(name);
      }
    }
  };
  reach(target);
  // pe.maskScope 'group': the router sits at the array edge, not in the PE: the array's
  // edge routers get the fault (every PE behind them sees it).
  // The top may instantiate the target or a library module that reaches it (strum_router
  // holds strum_route_mux).
  const reaching = [target, ...[...edited.keys()].filter((m) => m !== bundle.pe)];
  const atEdge = !edited.has(bundle.pe) && reaching.some((m) => uses(files.get(bundle.top)!, m));
  if (atEdge)
    edited.set(
      bundle.top,
      reaching.reduce((text, m) => redirect(text, m), files.get(bundle.top)!),
    );
  else if (!edited.has(bundle.pe)) throw new Error(`fault overlay: ${bundle.pe} does not reach ${target}`);
  const host = atEdge ? bundle.top : bundle.pe;
  edited = new Map([[host, edited.get(host)!]]);
  const out: { name: string; content: string }[] = [];
  for (const f of bundle.files) {
    if (f.name === `${host}.v`)
      out.push(...(atEdge ? [] : added), { name: f.name, content: edited.get(host)! });
    else out.push(f);
  }
  // The wrapper must come before the array that instantiates it (leaves first).
  if (atEdge)
    out.splice(
      out.findIndex((f) => f.name === `${bundle.top}.v`),
      0,
      ...added,
    );
  const roles = new Map(bundle.modules.map((m) => [m.name, m.role]));
  return {
    ...bundle,
    files: out,
    modules: out.map((f) => {
      const name = f.name.slice(0, -2);
      return { name, role: roles.get(name) ?? roles.get(name.slice(0, -FAULT.length)) ?? 'other' };
    }),
  };
}
