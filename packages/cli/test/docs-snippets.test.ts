/**
 * Every runnable code block of README.md and docs/ runs as written against a live `parley
 * start` (scripts/docs-snippets.mjs: the markers, the placeholders it fills, what each block
 * gets). A block that fails fails here with its output; a block not meant to run says so in
 * the docs (`<!-- snippet: no-run — reason -->`), which the unit tier checks.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docSnippets, runnable, runSnippet } from '../../../scripts/docs-snippets.mjs';
import { cleanUp, freePort, type Proc, ROOT, SLOW, startServer, stop } from './spawn.js';

const snippets = runnable(docSnippets());
let server: Proc;
let dir: string;
let values: Record<string, string | number>;

async function call(url: string, token: string, body: unknown, apiKey?: string): Promise<any> {
  const r = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(apiKey ? { 'x-api-key': apiKey } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${url}: ${r.status} ${text}`);
  return JSON.parse(text);
}

beforeAll(async () => {
  // Inside the repository, so `npx parley` and `@parley/*` resolve to this checkout; the data
  // folder is `./.parley` of the blocks' working folder, where the CLI looks for the server.
  const cache = path.join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  dir = mkdtempSync(path.join(cache, 'docs-snippets-'));
  const port = await freePort();
  server = await startServer(port, path.join(dir, '.parley'));
  const url = `http://127.0.0.1:${port}`;
  const adminToken = readFileSync(path.join(dir, '.parley/admin-token'), 'utf8').trim();
  const app = await call(`${url}/v1/admin/apps`, adminToken, { name: 'docs' });
  const mint = async (user_id: string | null) =>
    (await call(`${url}/v1/admin/apps/${app.id}/tokens`, adminToken, { user_id })).token as string;
  const serverToken = await mint(null);
  await call(
    `${url}/v1/users`,
    serverToken,
    {
      users: [
        { id: 'alice', name: 'Alice', username: 'alice' },
        { id: 'bob', name: 'Bob', username: 'bob' },
        { id: 'ann', name: 'Ann', username: 'ann' },
      ],
    },
    app.api_key,
  );
  // Something for the search block to find: Ann's link in a channel Alice is in.
  await call(
    `${url}/v1/channels`,
    serverToken,
    { type: 'public', id: 'releases', name: 'Releases', members: ['alice', 'ann'] },
    app.api_key,
  );
  await call(
    `${url}/v1/channels/public:releases/messages`,
    await mint('ann'),
    { text: 'deploy notes: https://example.com/deploy' },
    app.api_key,
  );
  values = {
    url,
    host: `127.0.0.1:${port}`,
    port,
    appId: app.id,
    apiKey: app.api_key,
    apiSecret: app.api_secret,
    token: await mint('alice'),
    serverToken,
    adminToken,
  };
}, SLOW);

afterAll(async () => {
  if (server) await stop(server);
  await cleanUp();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the docs’ code blocks', () => {
  it('include the ones a newcomer runs first', () => {
    const names = snippets.map((s) => s.file);
    expect(names).toContain('docs/getting-started.md');
    expect(names).toContain('docs/sdk.md');
  });

  for (const s of snippets)
    it(`${s.file}:${s.line} (${s.lang}) runs`, async () => {
      const r = await runSnippet(s, values, dir, 60_000);
      expect(r.code, r.output).toBe(0);
    }, 90_000);
});
