/**
 * Imports through a running server (`POST /v1/admin/imports/{source}`, what `parley import`
 * uses when a server owns the embedded database): the export streamed up, the progress and the
 * report streamed back as NDJSON. A dry run writes nothing; a bad export is refused whole; not a
 * zip, an unknown workspace and a missing admin token are typed errors; a second import while
 * one runs is a CONFLICT.
 */
import { request } from 'node:http';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAccount, buildWorkspace, chatHeaders, ok } from '../accounts/helpers.js';
import { ADMIN, type Harness, startHarness } from '../harness.js';

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
});
afterAll(async () => h?.close());

const T0 = 1_700_000_000;
const json = (v: unknown) => strToU8(JSON.stringify(v));

function slackZip(
  adaEmail: string,
  channels: unknown = [{ id: 'C1', name: 'general', created: T0, members: ['UADA', 'UBOB'] }],
) {
  return Buffer.from(
    zipSync({
      'users.json': json([
        { id: 'UADA', name: 'ada', real_name: 'Ada', profile: { email: adaEmail } },
        { id: 'UBOB', name: 'bob', real_name: 'Bob' },
      ]),
      'channels.json': json(channels),
      'general/2023-11-14.json': json([
        { type: 'message', user: 'UBOB', text: 'hello from slack', ts: `${T0 + 10}.000100` },
        { type: 'message', user: 'UADA', text: 'hi bob', ts: `${T0 + 20}.000100` },
      ]),
      'random/2023-11-14.json': json([{ type: 'message', user: 'UBOB', text: 'random', ts: `${T0 + 30}.000100` }]),
    }),
  );
}

/** POST an export; the answer's status and its NDJSON lines (or its JSON error). */
function post(
  query: string,
  body: Buffer | ((req: ReturnType<typeof request>) => void),
  token: string | null = ADMIN,
): Promise<{ status: number; lines: any[]; error?: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/v1/admin/imports/${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/zip', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) resolve({ status: res.statusCode ?? 0, lines: [], error: JSON.parse(text).error });
        else
          resolve({
            status: 200,
            lines: text
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l)),
          });
      });
    });
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

describe('imports through a running server', () => {
  it('streams the progress and the report; a dry run writes nothing; a refused export writes nothing', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Moved');
    const headers = chatHeaders(ok(await owner.session(ws.id)));
    const channel = () => h.call({ method: 'GET', url: '/v1/channels/public:general/messages', headers });
    const zip = slackZip(owner.account.email);
    const channels = [
      { id: 'C1', name: 'general', created: T0, members: ['UADA', 'UBOB'] },
      { id: 'C2', name: 'random', created: T0 },
    ];

    const dry = await post(`slack?workspace=${ws.id}&dry_run=true`, slackZip(owner.account.email, channels));
    expect(dry.status).toBe(200);
    expect(dry.lines.filter((l) => l.type === 'progress').map((l) => [l.done, l.total, l.channel])).toEqual([
      [0, 2, null],
      [1, 2, 'general'],
      [2, 2, 'random'],
    ]);
    expect(dry.lines.at(-1)).toMatchObject({ type: 'report', report: { dry_run: true, messages: { imported: 3 } } });
    expect((await channel()).status).toBe(404);

    const done = await post(`slack?workspace=${ws.id}`, zip);
    expect(done.lines.at(-1)).toMatchObject({
      type: 'report',
      report: { dry_run: false, users: { matched: 1, created: 1 }, messages: { imported: 2 } },
    });
    const texts = ok(await channel()).messages.map((m: { text: string }) => m.text);
    expect(texts).toEqual(expect.arrayContaining(['hello from slack', 'hi bob']));

    // Channels of the wrong shape: refused, with the problem named; nothing of it written.
    const other = await buildWorkspace(owner, 'Refused');
    const refused = await post(`slack?workspace=${other.id}`, slackZip(owner.account.email, [{ id: 7 }]));
    expect(refused.lines).toEqual([
      { type: 'refused', problems: [expect.objectContaining({ file: 'channels.json' })] },
    ]);
  });

  it('refuses what is no export, an unknown workspace, a missing token, and a second import at once', async () => {
    const owner = await buildAccount(h, 'Ada', `ada.${Math.random().toString(36).slice(2)}@example.com`);
    const ws = await buildWorkspace(owner, 'Errors');
    const zip = slackZip(owner.account.email);

    const notZip = await post(`slack?workspace=${ws.id}`, Buffer.from('not a zip at all'));
    expect([notZip.status, notZip.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    const unknown = await post(`slack?workspace=00000000-0000-4000-8000-000000000000`, zip);
    expect([unknown.status, unknown.error.code]).toEqual([404, 'NOT_FOUND']);
    const anonymous = await post(`slack?workspace=${ws.id}`, zip, null);
    expect(anonymous.status).toBe(401);
    const asJson = await h.call({
      method: 'POST',
      url: `/v1/admin/imports/slack?workspace=${ws.id}`,
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { users: [] },
    });
    expect([asJson.status, asJson.body.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const wrongSource = await post(`teams?workspace=${ws.id}`, zip);
    expect([wrongSource.status, wrongSource.error.code]).toEqual([400, 'VALIDATION_ERROR']);

    // A first import whose body has not ended holds the server's one import: a second is refused.
    let finish: () => void = () => {};
    const first = post(`slack?workspace=${ws.id}`, (req) => {
      req.write(zip.subarray(0, 10));
      finish = () => req.end(zip.subarray(10));
    });
    let second: Awaited<ReturnType<typeof post>>;
    for (;;) {
      second = await post(`slack?workspace=${ws.id}`, zip);
      if (second.status === 409) break;
      // The first had not reached the server yet: that second import ran; try again.
      expect(second.status).toBe(200);
    }
    expect(second.error.code).toBe('CONFLICT');
    finish();
    expect((await first).lines.at(-1)).toMatchObject({ type: 'report' });
  });
});
