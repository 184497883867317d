// Reads the bit-level gate netlist the synthesis flow writes (`write_verilog -noattr
// -noexpr` after `splitnets -ports`, cleaned for OpenSTA: netlist.sta.v) and flattens its
// hierarchy into leaf cell instances with OpenSTA-style paths ('u_hi0/_123_') and one
// integer per electrical net (assigns merge nets). Only the constructs that writer emits
// are accepted; anything else is an error naming the line.

export const CONST0 = 0;
export const CONST1 = 1;

interface ModuleDef {
  readonly name: string;
  readonly ports: readonly string[];
  readonly dirs: ReadonlyMap<string, 'input' | 'output'>;
  readonly insts: readonly { type: string; name: string; conns: ReadonlyMap<string, string | null> }[];
  readonly assigns: readonly (readonly [string, string])[];
}

export interface LeafInstance {
  /** Hierarchical name as OpenSTA prints it: 'u_hi0/_123_'. */
  readonly path: string;
  readonly type: string;
  /** Module (as named in the netlist) the instance sits in. */
  readonly module: string;
  /** Pin name -> net id. */
  readonly pins: ReadonlyMap<string, number>;
}

export interface FlatNetlist {
  readonly top: string;
  readonly nets: number;
  readonly leaves: readonly LeafInstance[];
  /** Top-level port bits: name ('act[3]', 'clk') -> net id, and their direction. */
  readonly ports: ReadonlyMap<string, { net: number; dir: 'input' | 'output' }>;
}

const norm = (id: string) => (id.startsWith('\\') ? id.slice(1) : id);

function tokenize(text: string): string[] {
  const src = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  return (
    src.match(/\\\S+|[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+'[bBhHdD][0-9a-fA-FxXzZ_]+|[0-9]+|[()[\]{};:,.=]/g) ?? []
  );
}

export function parseNetlist(text: string): Map<string, ModuleDef> {
  const t = tokenize(text);
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`netlist: ${why} (near '${t.slice(Math.max(0, i - 4), i + 4).join(' ')}')`);
  };
  const expect = (s: string) => {
    if (t[i++] !== s) fail(`expected '${s}'`);
  };
  // A one-bit expression: name, name[idx] or a one-bit constant.
  const bit = (): string => {
    const s = t[i++]!;
    if (/^1'[bB][01]$/.test(s)) return s.endsWith('1') ? "1'b1" : "1'b0";
    if (/^[0-9]/.test(s) || s === undefined) fail(`unsupported expression '${s}'`);
    let n = norm(s);
    if (t[i] === '[') {
      i++;
      const idx = t[i++]!;
      expect(']');
      n = `${n}[${idx}]`;
    }
    return n;
  };
  const modules = new Map<string, ModuleDef>();
  while (i < t.length) {
    if (t[i++] !== 'module') fail('expected module');
    const name = norm(t[i++]!);
    const ports: string[] = [];
    if (t[i] === '(') {
      i++;
      while (t[i] !== ')') {
        if (t[i] === ',') i++;
        else ports.push(norm(t[i++]!));
      }
      i++;
    }
    expect(';');
    const dirs = new Map<string, 'input' | 'output'>();
    const insts: { type: string; name: string; conns: Map<string, string | null> }[] = [];
    const assigns: [string, string][] = [];
    for (;;) {
      const kw = t[i++];
      if (kw === undefined) fail('module not closed');
      if (kw === 'endmodule') break;
      if (kw === 'input' || kw === 'output' || kw === 'wire' || kw === 'inout' || kw === 'reg') {
        if (kw === 'inout') fail('inout ports are not supported');
        let range: [number, number] | null = null;
        if (t[i] === '[') {
          i++;
          const msb = Number(t[i++]);
          expect(':');
          const lsb = Number(t[i++]);
          expect(']');
          range = [msb, lsb];
        }
        for (;;) {
          const n = norm(t[i++]!);
          if (kw === 'input' || kw === 'output') {
            if (range) {
              const [a, b] = range;
              for (let k = Math.min(a, b); k <= Math.max(a, b); k++) dirs.set(`${n}[${k}]`, kw);
            } else dirs.set(n, kw);
          }
          if (t[i] === ',') i++;
          else break;
        }
        expect(';');
      } else if (kw === 'assign') {
        const l = bit();
        expect('=');
        const r = bit();
        expect(';');
        assigns.push([l, r]);
      } else {
        const type = norm(kw);
        const iname = norm(t[i++]!);
        expect('(');
        const conns = new Map<string, string | null>();
        while (t[i] !== ')') {
          if (t[i] === ',') {
            i++;
            continue;
          }
          expect('.');
          const pin = norm(t[i++]!);
          expect('(');
          conns.set(pin, t[i] === ')' ? null : bit());
          expect(')');
        }
        i++;
        expect(';');
        insts.push({ type, name: iname, conns });
      }
    }
    // A vector port declared bit by bit keeps its bit names; a port list entry with a
    // declared range expands to its bits.
    const expanded: string[] = [];
    for (const p of ports) {
      if (dirs.has(p)) expanded.push(p);
      else for (const d of dirs.keys()) if (d.startsWith(`${p}[`)) expanded.push(d);
    }
    modules.set(name, { name, ports: expanded, dirs, insts, assigns });
  }
  return modules;
}

/**
 * Flatten `top`: every instance of a module defined in the netlist is expanded, every
 * other instance is a leaf (a liberty cell). Net ids 0 and 1 are the constants.
 */
export function flatten(modules: ReadonlyMap<string, ModuleDef>, top: string): FlatNetlist {
  const topDef = modules.get(top);
  if (!topDef) throw new Error(`netlist has no module ${top} (modules: ${[...modules.keys()].join(', ')})`);
  const parent: number[] = [CONST0, CONST1];
  const fresh = () => {
    parent.push(parent.length);
    return parent.length - 1;
  };
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return;
    if (ra <= CONST1 && rb <= CONST1) throw new Error('netlist ties constant 0 to constant 1');
    // Keep the constants as representatives.
    if (rb <= CONST1) parent[ra] = rb;
    else parent[rb] = ra;
  };
  const raw: { path: string; type: string; module: string; pins: Map<string, number> }[] = [];
  const visit = (def: ModuleDef, prefix: string, bound: Map<string, number>, depth: number) => {
    if (depth > 64) throw new Error(`netlist: hierarchy deeper than 64 at ${prefix}`);
    const local = new Map(bound);
    const net = (name: string): number => {
      if (name === "1'b0") return CONST0;
      if (name === "1'b1") return CONST1;
      let n = local.get(name);
      if (n === undefined) {
        n = fresh();
        local.set(name, n);
      }
      return n;
    };
    for (const [l, r] of def.assigns) union(net(l), net(r));
    for (const inst of def.insts) {
      const sub = modules.get(inst.type);
      const path = `${prefix}${inst.name}`;
      if (sub) {
        const b = new Map<string, number>();
        for (const p of sub.ports) {
          const c = inst.conns.get(p);
          b.set(p, c ? net(c) : fresh());
        }
        visit(sub, `${path}/`, b, depth + 1);
      } else {
        const pins = new Map<string, number>();
        for (const [p, c] of inst.conns) pins.set(p, c ? net(c) : fresh());
        raw.push({ path, type: inst.type, module: def.name, pins });
      }
    }
  };
  const ports = new Map<string, { net: number; dir: 'input' | 'output' }>();
  const bound = new Map<string, number>();
  for (const p of topDef.ports) {
    const n = fresh();
    bound.set(p, n);
    ports.set(p, { net: n, dir: topDef.dirs.get(p)! });
  }
  visit(topDef, '', bound, 0);
  // Renumber the representatives densely (constants stay 0 and 1).
  const id = new Map<number, number>([
    [CONST0, CONST0],
    [CONST1, CONST1],
  ]);
  const dense = (x: number) => {
    const r = find(x);
    let d = id.get(r);
    if (d === undefined) {
      d = id.size;
      id.set(r, d);
    }
    return d;
  };
  const leaves: LeafInstance[] = raw.map((l) => ({
    ...l,
    pins: new Map([...l.pins].map(([p, n]) => [p, dense(n)])),
  }));
  const outPorts = new Map([...ports].map(([k, v]) => [k, { net: dense(v.net), dir: v.dir }]));
  return { top, nets: id.size, leaves, ports: outPorts };
}
