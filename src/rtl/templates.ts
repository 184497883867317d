// The Handlebars templates in templates/ (package root), compiled once per process.
// Templates only print: no HTML escaping, strict lookups so a missing field is an error.
import { readdirSync, readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import type { TemplateName } from './context.ts';
import { range } from './verilog.ts';

const TEMPLATE_DIR = new URL('../../templates/', import.meta.url);

let compiled: Map<string, Handlebars.TemplateDelegate> | null = null;
let handlebars: typeof Handlebars | null = null;

function load(): Map<string, Handlebars.TemplateDelegate> {
  const hb = Handlebars.create();
  handlebars = hb;
  hb.registerHelper('range', (bits: number) => range(bits));
  const out = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of readdirSync(TEMPLATE_DIR).sort()) {
    if (!file.endsWith('.hbs')) continue; // lib/: the Verilog library (library.ts)
    const text = readFileSync(new URL(file, TEMPLATE_DIR), 'utf8');
    if (file.startsWith('_') && file.endsWith('.hbs')) {
      hb.registerPartial(file.slice(1, -'.hbs'.length), hb.compile(text, { noEscape: true, strict: true }));
    } else if (file.endsWith('.v.hbs')) {
      out.set(file.slice(0, -'.v.hbs'.length), hb.compile(text, { noEscape: true, strict: true }));
    }
  }
  return out;
}

/** Render a template file outside templates/ (the co-simulation wrapper) with the same helpers and partials. */
export function renderTemplateFile(file: string, ctx: object): string {
  return renderTemplate('pe', ctx, file);
}

/** Render a template of templates/, or `file` (outside it) with the same partials. */
export function renderTemplate(name: TemplateName, ctx: object, file?: string): string {
  compiled ??= load();
  if (file && !compiled.has(file)) {
    compiled.set(file, handlebars!.compile(readFileSync(file, 'utf8'), { noEscape: true, strict: true }));
  }
  const template = compiled.get(file ?? name);
  if (!template) throw new Error(`rtl: template ${name}.v.hbs not found in ${TEMPLATE_DIR.pathname}`);
  return template(ctx);
}
