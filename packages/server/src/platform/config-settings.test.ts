/**
 * docs/settings.md is the settings' definitions (config-settings.ts) rendered, and those cover
 * every `PARLEY_*` variable the server and the `parley` command read: a setting added to the
 * code without a row here, or a row edited without regenerating the page, fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { documentedNames, NOT_SETTINGS, renderSettingsDoc } from './config-settings.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    // The definitions themselves are not code that reads a setting.
    if (e.name === 'config-settings.ts') return [];
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Every whole `PARLEY_*` name in the code (a name ending in `_` is a prefix in a comment). */
function namesInCode(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of ['packages/server/src', 'packages/cli/src']) {
    for (const file of sources(path.join(repo, dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bPARLEY_[A-Z0-9_]*[A-Z0-9]\b/g)) {
        if (!found.has(m[0])) found.set(m[0], path.relative(repo, file));
      }
    }
  }
  return found;
}

describe('docs/settings.md', () => {
  it('is generated from config-settings.ts (run `npm run docs:settings`)', () => {
    expect(readFileSync(path.join(repo, 'docs/settings.md'), 'utf8')).toBe(renderSettingsDoc());
  });

  it('documents every PARLEY_* variable the server and the CLI read', () => {
    const documented = documentedNames();
    const missing = [...namesInCode()]
      .filter(([name]) => !documented.has(name) && !(name in NOT_SETTINGS))
      .map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  it('finds the settings a newcomer missed, so the scan can fail', () => {
    const code = namesInCode();
    expect(code.has('PARLEY_READ_BY_MAX_MEMBERS')).toBe(true);
    expect(code.has('PARLEY_MAX_OPENING_SOCKETS')).toBe(true);
    expect(renderSettingsDoc()).toContain('`PARLEY_READ_BY_MAX_MEMBERS`');
    expect(renderSettingsDoc()).toContain('`PARLEY_MAX_OPENING_SOCKETS`');
  });

  it('names each variable once', () => {
    const all = [...documentedNames()];
    const rows = renderSettingsDoc()
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    const firsts = rows.flatMap((r) => [...(r.split(' | ')[0] ?? '').matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]));
    // DATABASE_URL and REDIS_URL have a row for the server and one for the test suite.
    const twice = firsts.filter((n, i) => firsts.indexOf(n) !== i);
    expect(twice.sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);
    expect(new Set(firsts)).toEqual(new Set(all));
  });
});
