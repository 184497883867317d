// The config reference table, derived from the schema so the README cannot drift from it.
import type { z } from 'zod';
import { lowFormatNames, parameterisedFormats } from '../format/registry.ts';
import { dpuSchema } from './schema.ts';

export interface FieldDoc {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

type AnySchema = z.core.$ZodType & { description?: string };

function unwrap(schema: AnySchema): { inner: AnySchema; defaultValue?: unknown } {
  let s = schema;
  let defaultValue: unknown;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: AnySchema; defaultValue?: unknown };
    if ((def.type === 'default' || def.type === 'prefault') && def.innerType) {
      if (def.type === 'default') defaultValue = def.defaultValue;
      s = def.innerType;
    } else if (def.type === 'optional' && def.innerType) {
      s = def.innerType;
    } else {
      return { inner: s, defaultValue };
    }
  }
}

function typeOf(s: AnySchema): string {
  const def = s._zod.def as { type: string; entries?: Record<string, string> };
  const num = s as { minValue?: number | null; maxValue?: number | null };
  switch (def.type) {
    case 'enum':
      return Object.values(def.entries ?? {})
        .map((v) => `'${v}'`)
        .join(' \\| ');
    case 'number':
      return `integer ${num.minValue ?? ''}..${num.maxValue ?? ''}`;
    case 'boolean':
      return 'boolean';
    case 'string':
      return 'identifier';
    default:
      return def.type;
  }
}

/** Every leaf field of the schema, in declaration order. */
export function configFields(): FieldDoc[] {
  const out: FieldDoc[] = [];
  const walk = (shape: Record<string, AnySchema>, prefix: string) => {
    for (const [key, field] of Object.entries(shape)) {
      const { inner, defaultValue } = unwrap(field);
      const def = inner._zod.def as { type: string; shape?: Record<string, AnySchema> };
      if (def.type === 'object' && def.shape) {
        walk(def.shape, `${prefix}${key}.`);
        continue;
      }
      const path = prefix + key;
      let description = field.description ?? inner.description ?? '';
      // pe.low is checked against the format registry (a refined string): list the names.
      const type =
        path === 'pe.low'
          ? lowFormatNames()
              .map((n) => `'${n}'`)
              .join(' \\| ')
          : typeOf(inner);
      const group = parameterisedFormats().find((f) => path.startsWith(`${f.name}.`));
      if (group) description += ` (only with pe.low '${group.name}')`;
      out.push({
        path,
        type,
        default:
          defaultValue === undefined
            ? key === 'name'
              ? '(required)'
              : '(derived)'
            : JSON.stringify(defaultValue),
        description,
      });
    }
  };
  walk(dpuSchema().shape as unknown as Record<string, AnySchema>, '');
  return out;
}

export function configReferenceMarkdown(): string {
  const rows = configFields().map((f) => `| \`${f.path}\` | ${f.type} | ${f.default} | ${f.description} |`);
  return ['| field | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
