/**
 * `parley export` and `parley import parley` end to end (issue 59): a workspace on one deployment,
 * with a channel, a thread, a reaction and an uploaded file, exported through its running server,
 * imported by the real CLI into a workspace of another deployment (its data folder opened
 * directly), then read back through that deployment's API: the same messages, ids, thread and
 * file bytes. A re-run adds nothing; a file that is not an export is refused with nothing written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAll } from './chaos/infra.js';
import { type ImportTarget, importModes, startImportTarget } from './import-target.js';
import { cleanUp, run, SLOW, startServer, stop } from './spawn.js';

describe.each(importModes(import.meta.url))('parley export → parley import parley (%s)', (mode) => {
  let from: ImportTarget;
  let to: ImportTarget;
  const api = async (t: ImportTarget, method: string, url: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${t.port}${url}`, {
      method,
      headers: { ...t.auth, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await r.json()) as any;
    if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };

  beforeAll(async () => {
    from = await startImportTarget(mode, { email: 'ada@example.com', name: 'Ada' });
    to = await startImportTarget(mode, { email: 'owner@example.com', name: 'Owner' });
    await stop(to.server);
  }, SLOW * 2);
  afterAll(async () => {
    await cleanUp();
    await closeAll();
  });

  it(
    'moves a workspace to another deployment: messages, thread, reaction and file equal, ids kept',
    async () => {
      await api(from, 'POST', '/v1/channels', {
        type: 'public',
        id: 'general',
        name: 'General',
        members: [from.ownerId],
      });
      const hello = (await api(from, 'POST', '/v1/channels/public:general/messages', { text: 'hello' })).message;
      await api(from, 'POST', '/v1/channels/public:general/messages', { text: 'a reply', parent_id: hello.id });
      await api(from, 'POST', `/v1/messages/${hello.id}/reactions`, { type: 'like' });
      const form = new FormData();
      form.append('file', new Blob([new TextEncoder().encode('the notes\n')], { type: 'text/plain' }), 'notes.txt');
      const up = await fetch(`http://127.0.0.1:${from.port}/v1/channels/public:general/uploads`, {
        method: 'POST',
        headers: from.auth,
        body: form,
      });
      expect(up.status).toBe(200);
      const file = ((await up.json()) as any).attachment;
      await api(from, 'POST', '/v1/channels/public:general/messages', { text: 'the file', attachments: [file.id] });

      // Through the running server that owns the source's data.
      const zip = path.join(from.dir, 'acme.zip');
      let r = await run(
        ['export', zip, '--workspace', from.workspace, '--data', from.data, '--port', String(from.port), '--json'],
        from.dbEnv,
      );
      expect(r.code, r.err).toBe(0);
      // Made by the server's job, which the command followed.
      expect(r.err).toMatch(/^parley: exporting through the server at http:\/\/127\.0\.0\.1:\d+…/);
      const exported = JSON.parse(r.out);
      expect(exported).toMatchObject({ file: zip, version: 2, workspace: { id: from.workspace, name: 'Acme' } });
      expect(exported.counts).toMatchObject({ channels: 1, messages: 3, reactions: 1, files: 1 });
      r = await run(['export', zip, '--workspace', from.workspace, '--data', from.data], from.dbEnv);
      expect([r.code, r.err.trim()]).toEqual([1, `parley: ${zip} exists: choose another file`]);

      // Into the other deployment, its folder opened by the command (no server runs on it).
      const imp = (...more: string[]) =>
        run(['import', 'parley', zip, '--workspace', to.workspace, '--data', to.data, ...more], to.dbEnv);
      r = await imp('--dry-run');
      expect(r.code, r.err).toBe(0);
      expect(r.out.split('\n')[0]).toMatch(/^Dry run: nothing was written\. It would import workspace "Acme"/);
      r = await imp('--json');
      expect(r.code, r.err).toBe(0);
      const report = JSON.parse(r.out);
      expect(report.imported).toMatchObject({ channels: 1, messages: 3, reactions: 1, files: 1 });
      // The source's owner may claim their history there, with the address they had.
      expect(report.claims).toBe(1);
      r = await imp();
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/ {2}messages: +0 new, 3 already there/);

      // Read back through the other deployment's API.
      to.server = await startServer(to.port, to.data, to.dbEnv);
      // As Ada, whose user id the import kept (a token of the target's app for her).
      const tok = await run(['token', '--app', to.workspace, '--user', from.ownerId, '--data', to.data], to.dbEnv);
      expect(tok.code, tok.err).toBe(0);
      const asAda = { 'x-api-key': to.auth['x-api-key'] as string, authorization: `Bearer ${tok.out.trim()}` };
      const read = async (port: number, headers: Record<string, string>) => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/channels/public:general/messages?limit=10`, { headers });
        expect(res.status).toBe(200);
        return ((await res.json()) as any).messages.map((m: any) => ({
          id: m.id,
          seq: m.seq,
          user_id: m.user_id,
          text: m.text,
          parent_id: m.parent_id,
          reply_count: m.reply_count,
          reactions: m.reactions,
          attachments: (m.attachments ?? []).map((a: any) => [a.id, a.name, a.size]),
          created_at: m.created_at,
        }));
      };
      expect(await read(to.port, asAda)).toEqual(await read(from.port, from.auth));
      const bytes = await fetch(`http://127.0.0.1:${to.port}/v1/files/${file.id}`, { headers: asAda });
      expect(bytes.status).toBe(200);
      expect(await bytes.text()).toBe('the notes\n');

      // With no server on the source's data, the command opens it itself: the same rows.
      await stop(from.server);
      const direct = path.join(from.dir, 'acme-direct.zip');
      r = await run(
        ['export', direct, '--workspace', from.workspace, '--data', from.data, '--port', String(from.port), '--json'],
        from.dbEnv,
      );
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out).counts).toEqual(exported.counts);
    },
    SLOW * 3,
  );

  it(
    'refuses a file that is not a readable zip before it opens the database',
    async () => {
      const bad = path.join(to.dir, 'not-parley.zip');
      writeFileSync(bad, readFileSync(path.join(from.dir, 'acme.zip')).subarray(0, 100));
      const r = await run(['import', 'parley', bad, '--workspace', to.workspace, '--data', to.data], to.dbEnv);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/^parley: .*not a readable zip file/);
    },
    SLOW,
  );
});
