// Makes a Yosys gate-level netlist readable by OpenSTA (2.0.x): OpenSTA mis-parses the
// escaped module names Yosys gives parameterised modules ('\$paramod$<hash>\lane') and
// rejects `assign { a , b } = { c , d };`. Both are rewritten here; nothing else changes.

/** Base module name of a Yosys module name: '$paramod$ab12\foo_lane' -> 'foo_lane', '\foo' -> 'foo'. */
export function baseModuleName(name: string): string {
  const n = name.startsWith('\\') ? name.slice(1) : name;
  if (n.startsWith('$paramod')) return n.slice(n.lastIndexOf('\\') + 1);
  return n;
}

const ESCAPED = /\\\S+/g;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface CleanNetlist {
  readonly text: string;
  /** Escaped Yosys module name -> the plain identifier it became. */
  readonly renamed: ReadonlyMap<string, string>;
}

/** Split `{ a , b , 1'b0 }` (or a single item) into its items. */
function items(side: string): string[] {
  const s = side.trim();
  // A binary constant (e.g. a module output tied to zeros): one bit per item, MSB first.
  const k = /^(\d+)'b([01xz]+)$/.exec(s);
  if (k && Number(k[1]) === k[2]!.length) return [...k[2]!].map((b) => `1'b${b}`);
  const inner = s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1) : s;
  // A multi-bit constant inside a concatenation (`4'b0000`) is that many one-bit items.
  return inner
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .flatMap((t) => {
      const c = /^(\d+)'b([01xz]+)$/.exec(t);
      return c && Number(c[1]) === c[2]!.length && c[2]!.length > 1 ? [...c[2]!].map((b) => `1'b${b}`) : [t];
    });
}

/** An escaped identifier must be followed by whitespace before `;`. */
const term = (item: string) => (item.startsWith('\\') ? `${item} ` : item);

export function cleanNetlistForSta(text: string): CleanNetlist {
  const renamed = new Map<string, string>();
  const used = new Set<string>();
  for (const m of text.matchAll(/^module\s+(\S+?)\s*\(/gm)) used.add(m[1]!);
  for (const m of text.matchAll(/^module\s+(\\\S+)/gm)) {
    const name = m[1]!;
    let base = baseModuleName(name).replace(/[^A-Za-z0-9_]/g, '_');
    if (!IDENT.test(base)) base = `m_${base}`;
    let clean = base;
    for (let i = 1; used.has(clean); i++) clean = `${base}_${i}`;
    used.add(clean);
    renamed.set(name, clean);
  }
  let out = renamed.size ? text.replace(ESCAPED, (id) => renamed.get(id) ?? id) : text;
  out = out.replace(
    /^(\s*)assign\s+(\{.*\})\s*=\s*(.*?)\s*;\s*$/gm,
    (line, indent: string, lhs: string, rhs: string) => {
      const l = items(lhs);
      const r = items(rhs);
      if (l.length !== r.length) {
        throw new Error(`netlist: cannot split '${line.trim()}' (${l.length} vs ${r.length} bits)`);
      }
      return l.map((a, i) => `${indent}assign ${term(a)} = ${term(r[i]!)};`).join('\n');
    },
  );
  return { text: out, renamed };
}
