#!/usr/bin/env node
// Writes docs/reference/{rest,socket,errors}.md and docs/reference/rest/<tag>.md from the contract (scripts/docs-reference.mjs),
// or with --check says whether they are current (exit 1 if not). The REST page needs the
// server's OpenAPI document, so this builds a server on a throwaway embedded database (a few
// seconds). Run through tsx, which loads the TypeScript:
// `node --conditions=@parley/source --import tsx scripts/gen-reference-docs.mjs` (`npm run docs:reference`).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderErrorsReference, renderRestReference, renderSocketReference } from './docs-reference.mjs';

/** The OpenAPI document a default server serves (`GET /v1/openapi.json`). */
async function openApiDocument() {
  const { buildServer, defaultConfig } = await import('../packages/server/src/index.ts');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-reference-'));
  try {
    const server = await buildServer(
      defaultConfig({ dataDir, logLevel: 'silent', port: 0, host: '127.0.0.1', jobWorkers: false }),
    );
    try {
      const r = await server.app.inject({ method: 'GET', url: '/v1/openapi.json' });
      return JSON.parse(r.body);
    } finally {
      await server.app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const dir = fileURLToPath(new URL('../docs/reference/', import.meta.url));
const pages = {
  'socket.md': renderSocketReference(),
  'errors.md': renderErrorsReference(),
  ...renderRestReference(await openApiDocument()),
};

const check = process.argv.includes('--check');
let stale = 0;
mkdirSync(dir, { recursive: true });
mkdirSync(path.join(dir, 'rest'), { recursive: true });
for (const [name, text] of Object.entries(pages)) {
  const file = path.join(dir, name);
  if (check) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {}
    if (current !== text) {
      console.error(`docs/reference/${name} is out of date: run \`npm run docs:reference\``);
      stale++;
    }
  } else {
    writeFileSync(file, text);
  }
}
// A page the contract no longer makes (a tag gone) is stale too.
const made = new Set(Object.keys(pages));
for (const name of readdirSync(path.join(dir, 'rest')).map((f) => `rest/${f}`))
  if (!made.has(name)) {
    if (check) {
      console.error(`docs/reference/${name} is no longer generated: run \`npm run docs:reference\``);
      stale++;
    } else rmSync(path.join(dir, name));
  }
if (!check) console.log(`wrote ${made.size} pages under docs/reference/`);
process.exit(stale ? 1 : 0);
