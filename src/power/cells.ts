// The logic of each liberty cell, read from the liberty itself: the `function` of every
// output pin and the `ff` group of flip-flops, as small expression trees the gate-level
// simulator compiles. Also the input pin capacitances and the nominal voltage (for the
// power of nets driven by the PE's input ports). Works for any liberty whose cells are
// combinational or positive-edge flip-flops; anything else is refused by name.

/** A liberty group: `type (args) { attributes; groups }`. */
export interface LibGroup {
  readonly type: string;
  readonly args: readonly string[];
  readonly attrs: ReadonlyMap<string, string>;
  readonly groups: readonly LibGroup[];
}

/** Parse liberty text into its group tree (comments and line continuations dropped). */
export function parseLibertyGroups(raw: string): LibGroup {
  const text = raw.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\\\r?\n/g, ' ');
  const tokens = text.match(/"(?:[^"\\]|\\.)*"|[(){}:;,]|[^\s(){}:;,"]+/g) ?? [];
  let i = 0;
  const unq = (t: string) => (t.startsWith('"') ? t.slice(1, -1) : t);
  const group = (type: string, args: string[]): LibGroup => {
    const attrs = new Map<string, string>();
    const groups: LibGroup[] = [];
    while (i < tokens.length && tokens[i] !== '}') {
      const name = tokens[i++]!;
      if (tokens[i] === ':') {
        i++;
        const parts: string[] = [];
        while (i < tokens.length && tokens[i] !== ';' && tokens[i] !== '}') {
          parts.push(unq(tokens[i++]!));
          // A missing ';' before the next attribute: stop at its name.
          if (tokens[i] !== ';' && tokens[i + 1] === ':') break;
        }
        if (tokens[i] === ';') i++;
        attrs.set(name, parts.join(' '));
      } else if (tokens[i] === '(') {
        i++;
        const a: string[] = [];
        while (i < tokens.length && tokens[i] !== ')') {
          if (tokens[i] !== ',') a.push(unq(tokens[i]!));
          i++;
        }
        i++;
        if (tokens[i] === '{') {
          i++;
          groups.push(group(name, a));
          i++;
        } else {
          if (tokens[i] === ';') i++;
          if (!attrs.has(name)) attrs.set(name, a.join(','));
        }
      } else if (name === ';') {
        // stray separator
      } else {
        throw new Error(`liberty: unexpected '${name}' near token ${i}`);
      }
    }
    return { type, args, attrs, groups };
  };
  const root = group('root', []);
  const lib = root.groups.find((g) => g.type === 'library');
  if (!lib) throw new Error('liberty: no library group');
  return lib;
}

/** Boolean expression of a liberty `function`. */
export type Expr =
  | { readonly k: 'var'; readonly name: string }
  | { readonly k: 'const'; readonly v: 0 | 1 }
  | { readonly k: 'not'; readonly a: Expr }
  | { readonly k: 'and' | 'or' | 'xor'; readonly a: Expr; readonly b: Expr };

/** Parse a liberty function: ! and postfix ' (not), & * and juxtaposition (and), ^ (xor), | + (or). */
export function parseFunction(src: string): Expr {
  const toks = src.match(/[A-Za-z_][A-Za-z0-9_[\].]*|[01]|[!'&*|+^()]/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`liberty function "${src}": ${why}`);
  };
  const startsFactor = (t: string | undefined) => t !== undefined && /^[A-Za-z_01!(]/.test(t);
  const primary = (): Expr => {
    const t = toks[i++];
    if (t === undefined) return fail('ends early');
    let e: Expr;
    if (t === '(') {
      e = or();
      if (toks[i++] !== ')') fail('unbalanced parentheses');
    } else if (t === '!') e = { k: 'not', a: primary() };
    else if (t === '0' || t === '1') e = { k: 'const', v: t === '1' ? 1 : 0 };
    else if (/^[A-Za-z_]/.test(t)) e = { k: 'var', name: t };
    else return fail(`unexpected '${t}'`);
    while (toks[i] === "'") {
      i++;
      e = { k: 'not', a: e };
    }
    return e;
  };
  const and = (): Expr => {
    let e = primary();
    for (;;) {
      if (toks[i] === '&' || toks[i] === '*') i++;
      else if (!startsFactor(toks[i])) return e;
      e = { k: 'and', a: e, b: primary() };
    }
  };
  const xor = (): Expr => {
    let e = and();
    while (toks[i] === '^') {
      i++;
      e = { k: 'xor', a: e, b: and() };
    }
    return e;
  };
  const or = (): Expr => {
    let e = xor();
    while (toks[i] === '|' || toks[i] === '+') {
      i++;
      e = { k: 'or', a: e, b: xor() };
    }
    return e;
  };
  const e = or();
  if (i !== toks.length) fail(`unexpected '${toks[i]}'`);
  return e;
}

export function exprVars(e: Expr, out = new Set<string>()): Set<string> {
  if (e.k === 'var') out.add(e.name);
  else if (e.k === 'not') exprVars(e.a, out);
  else if (e.k !== 'const') {
    exprVars(e.a, out);
    exprVars(e.b, out);
  }
  return out;
}

/** JavaScript expression (0/1 valued) of `e`, each variable replaced by `ref(name)`. */
export function exprJs(e: Expr, ref: (name: string) => string): string {
  switch (e.k) {
    case 'var':
      return ref(e.name);
    case 'const':
      return String(e.v);
    case 'not':
      return `(1^${exprJs(e.a, ref)})`;
    case 'and':
      return `(${exprJs(e.a, ref)}&${exprJs(e.b, ref)})`;
    case 'or':
      return `(${exprJs(e.a, ref)}|${exprJs(e.b, ref)})`;
    case 'xor':
      return `(${exprJs(e.a, ref)}^${exprJs(e.b, ref)})`;
  }
}

export function evalExpr(e: Expr, env: (name: string) => number): number {
  switch (e.k) {
    case 'var':
      return env(e.name) & 1;
    case 'const':
      return e.v;
    case 'not':
      return 1 ^ evalExpr(e.a, env);
    case 'and':
      return evalExpr(e.a, env) & evalExpr(e.b, env);
    case 'or':
      return evalExpr(e.a, env) | evalExpr(e.b, env);
    case 'xor':
      return evalExpr(e.a, env) ^ evalExpr(e.b, env);
  }
}

export interface FlipFlop {
  /** State variable and its complement, as the output functions name them. */
  readonly state: string;
  readonly stateN: string;
  readonly next: Expr;
  /** Clock pin (rising edge). */
  readonly clock: string;
  /** Asynchronous clear / preset (active when true). */
  readonly clear: Expr | null;
  readonly preset: Expr | null;
}

export interface CellModel {
  readonly name: string;
  readonly inputs: ReadonlyMap<string, { readonly capacitance: number }>;
  readonly outputs: ReadonlyMap<string, Expr>;
  readonly ff: FlipFlop | null;
}

export interface CellLibrary {
  readonly cells: ReadonlyMap<string, CellModel>;
  /** Cells the simulator cannot model (latches, tristates, negative-edge flops), with the reason. */
  readonly unsupported: ReadonlyMap<string, string>;
  readonly nominalVoltage: number;
  /** Farads per liberty capacitance unit. */
  readonly capacitanceUnitF: number;
}

function capUnit(lib: LibGroup): number {
  const raw = lib.attrs.get('capacitive_load_unit');
  if (!raw) return 1e-12;
  const [n, u] = raw.split(',').map((s) => s.trim().toLowerCase());
  const scale: Record<string, number> = { ff: 1e-15, pf: 1e-12, nf: 1e-9 };
  const s = scale[u ?? 'pf'];
  if (s === undefined) throw new Error(`liberty: capacitive_load_unit '${raw}' not understood`);
  return Number(n) * s;
}

/** Cell models of a liberty text. */
export function cellLibrary(text: string): CellLibrary {
  const lib = parseLibertyGroups(text);
  const cells = new Map<string, CellModel>();
  const unsupported = new Map<string, string>();
  for (const g of lib.groups) {
    if (g.type !== 'cell') continue;
    const name = g.args[0]!;
    try {
      const model = cellModel(name, g);
      if (model) cells.set(name, model);
    } catch (e) {
      unsupported.set(name, (e as Error).message);
    }
  }
  const v = Number(lib.attrs.get('nom_voltage') ?? Number.NaN);
  return { cells, unsupported, nominalVoltage: v, capacitanceUnitF: capUnit(lib) };
}

function cellModel(name: string, g: LibGroup): CellModel | null {
  const inputs = new Map<string, { capacitance: number }>();
  const outputs = new Map<string, Expr>();
  for (const p of g.groups) {
    if (p.type !== 'pin') continue;
    const dir = p.attrs.get('direction');
    const pin = p.args[0]!;
    if (dir === 'input') inputs.set(pin, { capacitance: Number(p.attrs.get('capacitance') ?? 0) });
    else if (dir === 'output') {
      if (p.attrs.has('three_state')) throw new Error(`${name}: three-state output ${pin}`);
      const f = p.attrs.get('function');
      if (!f) throw new Error(`${name}: output ${pin} has no function`);
      outputs.set(pin, parseFunction(f));
    } else if (dir) throw new Error(`${name}: ${dir} pin ${pin}`);
  }
  if (g.groups.some((x) => ['latch', 'latch_bank', 'ff_bank', 'statetable'].includes(x.type)))
    throw new Error(`${name}: latches and state tables are not simulated`);
  const ffg = g.groups.find((x) => x.type === 'ff');
  let ff: FlipFlop | null = null;
  if (ffg) {
    const [state, stateN] = ffg.args;
    const next = ffg.attrs.get('next_state');
    const clk = ffg.attrs.get('clocked_on');
    if (!state || !stateN || !next || !clk) throw new Error(`${name}: incomplete ff group`);
    const c = parseFunction(clk);
    if (c.k !== 'var') throw new Error(`${name}: clocked_on "${clk}" is not a rising edge of one pin`);
    const opt = (k: string) => {
      const s = ffg.attrs.get(k);
      return s ? parseFunction(s) : null;
    };
    ff = {
      state,
      stateN,
      next: parseFunction(next),
      clock: c.name,
      clear: opt('clear'),
      preset: opt('preset'),
    };
  }
  if (outputs.size === 0) return null;
  return { name, inputs, outputs, ff };
}
