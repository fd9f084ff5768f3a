#!/usr/bin/env node
// Writes docs/settings.md from the settings' definitions (packages/server/src/platform/
// config-settings.ts), or with --check says whether the file is current (exit 1 if not).
// Run through tsx, which loads the TypeScript: `node --import tsx scripts/gen-settings-doc.mjs`
// (`npm run docs:settings`). config-settings.test.ts makes the same check in the unit suite.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSettingsDoc } from '../packages/server/src/platform/config-settings.ts';

const file = fileURLToPath(new URL('../docs/settings.md', import.meta.url));
const text = renderSettingsDoc();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/settings.md is out of date: run `npm run docs:settings`');
    process.exit(1);
  }
} else {
  writeFileSync(file, text);
  console.log('wrote docs/settings.md');
}
