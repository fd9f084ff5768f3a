/**
 * The workspace packages work outside the repository's tools: plain `node` (no tsx, no export
 * conditions) imports the built JavaScript that `npm ci` wrote to each package's dist/, and a
 * TypeScript project with Node's own module resolution type-checks against their declarations.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Run an ES module in a plain Node child process from the repository's root; its stdout parsed. */
function node(script: string): Record<string, unknown> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // whatever the test runner put there (loaders, conditions)
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repo,
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, unknown>;
}

it('plain node imports @parley/protocol and @parley/client from dist/, and they work', () => {
  const r = node(`
    const protocol = await import('@parley/protocol');
    const client = await import('@parley/client');
    const { default: WebSocket } = await import('ws');
    const c = new client.ChatClient({ url: 'http://127.0.0.1:9', apiKey: 'k', WebSocket });
    console.log(JSON.stringify({
      resolved: [import.meta.resolve('@parley/protocol'), import.meta.resolve('@parley/client')],
      version: protocol.PROTOCOL_VERSION,
      id: protocol.uuidv7(),
      status: protocol.ERRORS.VALIDATION_ERROR.status,
      client: typeof client.ChatClient,
      connect: typeof c.connectUser,
    }));
  `);
  expect(r.resolved).toEqual([
    expect.stringMatching(/\/packages\/protocol\/dist\/index\.js$/),
    expect.stringMatching(/\/packages\/client\/dist\/index\.js$/),
  ]);
  expect(r.version).toEqual(expect.any(Number));
  expect(r.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(r.status).toBe(400);
  expect(r.client).toBe('function');
  expect(r.connect).toBe('function');
});

it('plain node imports @parley/node from dist/, and it signs and verifies', () => {
  const r = node(`
    const sdk = await import('@parley/node');
    const p = new sdk.Parley({ url: 'http://127.0.0.1:9', apiKey: 'k', apiSecret: 's' });
    const body = '{"type":"message.new"}';
    console.log(JSON.stringify({
      resolved: import.meta.resolve('@parley/node'),
      token: (await p.createToken('ada')).split('.').length,
      verified: sdk.verifyWebhook(body, sdk.signWebhook('s', body), 's').type,
    }));
  `);
  expect(r.resolved).toMatch(/\/packages\/node\/dist\/index\.js$/);
  expect(r.token).toBe(3);
  expect(r.verified).toBe('message.new');
});

it('plain node imports @parley/react and @parley/server from dist/', () => {
  const r = node(`
    const react = await import('@parley/react');
    const server = await import('@parley/server');
    console.log(JSON.stringify({
      resolved: [import.meta.resolve('@parley/react'), import.meta.resolve('@parley/server')],
      css: import.meta.resolve('@parley/react/styles.css'),
      list: typeof react.ChannelList,
      build: typeof server.buildServer,
      migrations: server.MIGRATIONS_FOLDER,
    }));
  `);
  expect(r.resolved).toEqual([
    expect.stringMatching(/\/packages\/react\/dist\/index\.js$/),
    // The server is bundled (a few files load faster than 860): scripts/build.mjs.
    expect.stringMatching(/\/packages\/server\/dist\/bundle\/index\.js$/),
  ]);
  expect(r.css).toMatch(/\/packages\/react\/dist\/styles\.css$/);
  expect(r.list).toBe('function');
  expect(r.build).toBe('function');
  // The built server applies the migrations copied beside its code (the bundle finds them where
  // the file-by-file build has them).
  expect(r.migrations).toMatch(/\/packages\/server\/dist\/platform\/db\/migrations$/);
});

it('a TypeScript project (node16 resolution, no conditions) type-checks against the declarations', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-types-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'node_modules/@parley'), { recursive: true });
  mkdirSync(path.join(dir, 'node_modules/@sinclair'), { recursive: true });
  for (const name of ['protocol', 'client', 'node']) {
    symlinkSync(path.join(repo, 'packages', name), path.join(dir, 'node_modules/@parley', name));
  }
  symlinkSync(path.join(repo, 'node_modules/@sinclair/typebox'), path.join(dir, 'node_modules/@sinclair/typebox'));
  symlinkSync(path.join(repo, 'node_modules/jose'), path.join(dir, 'node_modules/jose'));
  symlinkSync(path.join(repo, 'node_modules/@types'), path.join(dir, 'node_modules/@types'));
  writeFileSync(path.join(dir, 'package.json'), '{"name":"consumer","type":"module"}');
  writeFileSync(
    path.join(dir, 'consumer.ts'),
    `import { ChatClient } from '@parley/client';
import { Parley, type ParleyError } from '@parley/node';
import { ERRORS, type ErrorCode, uuidv7 } from '@parley/protocol';
const client: ChatClient = new ChatClient({ url: 'http://localhost:3000', apiKey: 'k' });
const backend = new Parley({ url: 'http://localhost:3000', apiKey: 'k', apiSecret: 's' });
const sent: Promise<string> = backend.messages.send('group:x', { text: 'hi' }, { as: 'ada' }).then((m) => m.text);
const failed: ParleyError['code'] = 'NETWORK';
const id: string = uuidv7();
const code: ErrorCode = 'VALIDATION_ERROR';
const status: number = ERRORS[code].status;
// @ts-expect-error: a wrong type must be an error, or the declarations are \`any\`.
const wrong: number = uuidv7();
export { backend, client, failed, id, sent, status, wrong };
`,
  );
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  const args = ['--ignoreConfig', '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16'];
  let out = '';
  try {
    execFileSync(process.execPath, [tsc, ...args, '--lib', 'es2023,dom', '--types', 'node', 'consumer.ts'], {
      cwd: dir,
      encoding: 'utf8',
    });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? e);
  }
  expect(out).toBe('');
}, 60_000);
