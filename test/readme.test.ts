import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configFields, configReferenceMarkdown } from '../src/config/reference.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the config reference generated from the schema (run scripts/config-reference.ts)', () => {
    expect(readme).toContain(configReferenceMarkdown());
    expect(configFields().length).toBeGreaterThan(15);
  });

  it('names the two commands that CI and users run', () => {
    expect(readme).toMatch(/^scripts\/run\b/m);
    expect(readme).toMatch(/^scripts\/test\b/m);
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toMatch(/scripts\/test/);
  });
});
