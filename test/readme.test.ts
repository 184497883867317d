import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { configFields, configReferenceMarkdown } from '../src/config/reference.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has the config reference generated from the schema (run scripts/config-reference.ts)', () => {
    expect(readme).toContain(configReferenceMarkdown());
    expect(configFields().length).toBeGreaterThan(15);
  });

  it('shows the example config file verbatim, and the example resolves without warnings', async () => {
    const example = readFileSync(new URL('../examples/edge-dpu.ts', import.meta.url), 'utf8');
    expect(readme).toContain(example);
    const cfg = await loadConfig(fileURLToPath(new URL('../examples/edge-dpu.ts', import.meta.url)));
    expect(cfg.name).toBe('edge_dpu');
    expect(cfg.warnings).toEqual([]);
  });

  it('names the two commands that CI and users run', () => {
    expect(readme).toMatch(/^scripts\/run\b/m);
    expect(readme).toMatch(/^scripts\/test\b/m);
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toMatch(/scripts\/test/);
  });
});
