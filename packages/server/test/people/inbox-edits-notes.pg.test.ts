/**
 * The activity inbox's later causes, on both databases: an edit that adds a mention makes one
 * item (once, however often it is edited), an edit that takes it out retracts the item while
 * unread (`inbox.updated` says which) and leaves a read one; a channel note that names someone
 * (or their group) makes a `note_mention` for the channel's members only, respecting their
 * channel level, once per note; and every new item reaches webhook endpoints that asked for
 * `inbox.*` as `inbox.new`, signed, in the user's lane — never another app's endpoint.
 */

import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxSettled } from '../../src/features/inbox/record.js';
import { holdInboxTask, recoverTasks } from '../../src/features/inbox/tasks.js';
import { verifySignature } from '../../src/features/webhooks/signature.js';
import { rows } from '../../src/platform/db/index.js';
import { withTransaction } from '../../src/platform/event-log.js';
import { outboundAllowFromEnv } from '../../src/platform/outbound.js';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';
import { type Received, type Receiver, startReceiver } from '../hooks/helpers.js';

let h: Harness;
let app: TestApp;
let base: string;
let rcv: Receiver;

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
const as = async (user: string | null, method: Method, url: string, payload?: object, a: TestApp = app) =>
  h.call({
    method,
    url,
    headers: user === null ? await a.server() : await a.user(user),
    ...(payload ? { payload } : {}),
  });
const inbox = async (user: string, query = '', a: TestApp = app) => {
  const r = await as(user, 'GET', `/v1/inbox${query}`, undefined, a);
  expect(r.status).toBe(200);
  return r.body as { items: any[]; next: string | null; unread_count: number };
};
const send = async (user: string, cid: string, text: string) => {
  const r = await as(user, 'POST', `/v1/channels/${cid}/messages`, { text });
  expect(r.status).toBe(200);
  return r.body.message as { id: string };
};
const edit = async (user: string, id: string, text: string) => {
  const r = await as(user, 'PATCH', `/v1/messages/${id}`, { text });
  expect(r.status).toBe(200);
};
/** Everything recorded so far is in (items are recorded just after each commit). */
const settled = () => inboxSettled(h.server.svc);

beforeAll(async () => {
  rcv = await startReceiver();
  h = await startHarness({
    jobPollMs: 100,
    outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: rcv.host }),
    webhookRetryBaseMs: 50,
  });
  base = await h.listen();
  app = await h.createApp('inbox-more');
  await h.users(app, [
    { id: 'alice', username: 'alice', role: 'admin' },
    { id: 'bob', username: 'bob' },
    { id: 'carol', username: 'carol' },
    { id: 'dave', username: 'dave' },
  ]);
  // A private channel dave is not in.
  const c = await as('alice', 'POST', '/v1/channels', { type: 'group', id: 'studio', members: ['bob', 'carol'] });
  expect(c.status).toBe(200);
  const g = await as('alice', 'POST', '/v1/user-groups', { handle: 'crew', name: 'Crew', members: ['bob', 'dave'] });
  expect(g.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await rcv?.close();
  await h?.close();
});

describe('an edit', () => {
  it('that adds a mention makes one item, once; one that takes it out retracts it while unread', async () => {
    const bob = await TestSocket.connect(base, app, 'bob');
    const m = await send('alice', 'group:studio', 'plain words');
    await settled();
    expect((await inbox('bob')).items.some((i) => i.message_id === m.id)).toBe(false);

    await edit('alice', m.id, 'plain words @bob');
    const got = await bob.waitFor((f) => f.type === 'inbox.updated' && f.item?.message_id === m.id);
    expect(got.item).toMatchObject({ kind: 'mention', via: 'user', actor_id: 'alice', read: false });
    // Edited again with the mention kept, and with other words: still one item.
    await edit('alice', m.id, 'plain words @bob, and more');
    await settled();
    const items = (await inbox('bob')).items.filter((i) => i.message_id === m.id);
    expect(items).toHaveLength(1);
    const before = (await inbox('bob')).unread_count;

    // Taken out: the unread item goes, every device is told which, the count drops.
    await edit('alice', m.id, 'plain words, and more');
    const gone = await bob.waitFor((f) => f.type === 'inbox.updated' && f.removed?.includes(items[0].id));
    expect(gone.unread_count).toBe(before - 1);
    await settled();
    expect((await inbox('bob')).items.some((i) => i.message_id === m.id)).toBe(false);
    // Nor is it still counted as a mention in the channel.
    const q = await as('bob', 'POST', '/v1/channels/query', { filter: { cid: 'group:studio' } });
    expect(q.body.channels[0].mention_count ?? 0).toBe(0);
    bob.close();
  });

  it('that takes out a mention already read leaves the read item', async () => {
    const m = await send('alice', 'group:studio', 'hello @carol');
    const item = await eventually(async () => (await inbox('carol')).items.find((i) => i.message_id === m.id));
    expect((await as('carol', 'POST', `/v1/inbox/${item.id}/read`, {})).status).toBe(200);
    await edit('alice', m.id, 'hello everyone');
    await settled();
    const still = (await inbox('carol')).items.find((i) => i.message_id === m.id);
    expect(still).toMatchObject({ id: item.id, read: true });
  });

  it('naming someone who cannot read the channel gives them nothing', async () => {
    const m = await send('alice', 'group:studio', 'draft');
    await edit('alice', m.id, 'draft for @dave');
    await settled();
    expect((await inbox('dave')).items.some((i) => i.message_id === m.id)).toBe(false);
  });
});

describe('a channel note', () => {
  const note = async (user: string, body: object) => {
    const r = await as(user, 'POST', '/v1/notes', body);
    expect(r.status).toBe(201);
    return r.body.note as { id: string; version: number };
  };

  it('that names a member makes a note_mention, once per note, opened to the note', async () => {
    const bob = await TestSocket.connect(base, app, 'bob');
    const n = await note('alice', { cid: 'group:studio', title: 'Launch plan', text: '# Plan\n\n@bob owns the copy' });
    const got = await bob.waitFor((f) => f.type === 'inbox.updated' && f.item?.note_id === n.id);
    // The live item names the note's title, as the list does: nothing to fetch before showing it.
    expect(got.item).toMatchObject({
      kind: 'note_mention',
      via: 'user',
      cid: 'group:studio',
      actor_id: 'alice',
      note_title: 'Launch plan',
    });
    const listed = (await inbox('bob', '?filter=mentions')).items.find((i) => i.note_id === n.id);
    expect(listed).toMatchObject({ kind: 'note_mention', note_title: 'Launch plan', message: null });
    // Edited with bob still named (and named again): nothing new.
    const e = await as('carol', 'PATCH', `/v1/notes/${n.id}`, {
      base_version: n.version,
      text: '# Plan\n\n@bob owns the copy\n@bob and @alice review',
    });
    expect(e.status).toBe(200);
    await settled();
    expect((await inbox('bob')).items.filter((i) => i.note_id === n.id)).toHaveLength(1);
    // alice was newly named by carol's edit.
    expect((await inbox('alice')).items.find((i) => i.note_id === n.id)).toMatchObject({ actor_id: 'carol' });
    bob.close();
  });

  it('reaches a group’s members who are in the channel, respecting their level; never the author', async () => {
    expect((await as('carol', 'PUT', '/v1/channels/group:studio/notifications', { level: 'none' })).status).toBe(200);
    const n = await note('bob', { cid: 'group:studio', title: 'Crew list', text: 'ping @crew and @carol and @bob' });
    await settled();
    // bob wrote it (and is in @crew); dave is in @crew but not in the channel; carol set `none`.
    for (const u of ['bob', 'dave', 'carol'])
      expect(
        (await inbox(u)).items.some((i) => i.note_id === n.id),
        u,
      ).toBe(false);
    expect((await as('carol', 'PUT', '/v1/channels/group:studio/notifications', { level: 'default' })).status).toBe(
      200,
    );
    const m = await note('alice', { cid: 'group:studio', title: 'Crew 2', text: 'hi @crew' });
    const item = await eventually(async () => (await inbox('bob')).items.find((i) => i.note_id === m.id));
    expect(item).toMatchObject({ kind: 'note_mention', via: 'group', group_handle: 'crew' });
  });

  it('a personal note names no one', async () => {
    const n = await note('alice', { title: 'Mine', text: '@bob @carol' });
    await settled();
    for (const u of ['bob', 'carol']) expect((await inbox(u)).items.some((i) => i.note_id === n.id)).toBe(false);
  });
});

describe('webhooks', () => {
  it('get inbox.new for every new item, signed, in the user’s lane', async () => {
    const w = await as(null, 'POST', '/v1/webhooks', { url: `${rcv.url}/inbox`, events: ['inbox.*'] });
    expect(w.status).toBe(201);
    const other = await as(null, 'POST', '/v1/webhooks', { url: `${rcv.url}/messages-only`, events: ['message.new'] });
    expect(other.status).toBe(201);
    const m = await send('alice', 'group:studio', 'webhook me @bob');
    const r = (await eventually(
      () => rcv.on('/inbox').find((g) => g.json?.event?.item?.message_id === m.id),
      30_000,
    )) as Received;
    expect(verifySignature(w.body.secret, r.headers['x-parley-signature'] as string, r.body)).toBe(true);
    expect(r.json).toMatchObject({ type: 'inbox.new', app_id: app.id });
    expect(r.json.event).toMatchObject({
      type: 'inbox.new',
      user_id: 'bob',
      item: { kind: 'mention', via: 'user', cid: 'group:studio', actor_id: 'alice', read: false },
    });
    expect(r.headers['x-parley-event']).toBe('inbox.new');
    // The delivery log names whose item it was; the endpoint for message.new got none.
    const log = await as(null, 'GET', `/v1/webhooks/${w.body.webhook.id}/deliveries`);
    expect(log.body.deliveries.find((d: any) => d.event_type === 'inbox.new')).toMatchObject({ user_id: 'bob' });
    const others = await as(null, 'GET', `/v1/webhooks/${other.body.webhook.id}/deliveries`);
    expect(others.body.deliveries.every((d: any) => d.event_type === 'message.new')).toBe(true);
    // Another app's items never reach this app's endpoint.
    const elsewhere = await h.createApp('elsewhere');
    await h.users(elsewhere, [
      { id: 'x', username: 'x' },
      { id: 'y', username: 'y' },
    ]);
    const c = await as('x', 'POST', '/v1/channels', { type: 'group', id: 'g', members: ['y'] }, elsewhere);
    expect(c.status).toBe(200);
    const em = await as('x', 'POST', '/v1/channels/group:g/messages', { text: 'hi @y' }, elsewhere);
    expect(em.status).toBe(200);
    await eventually(async () =>
      (await inbox('y', '', elsewhere)).items.find((i) => i.message_id === em.body.message.id),
    );
    await settled();
    expect(rcv.got.some((g) => g.json?.app_id === elsewhere.id)).toBe(false);
  });
});

describe('the tasks of reactions, edits, notes and invitations', () => {
  const tasksLeft = async () =>
    (await rows<{ n: number }>(h.server.svc.db, sql`select count(*)::int as n from inbox_tasks`))[0]?.n;

  it('leave no row once they ran after their commit', async () => {
    const m = await send('alice', 'group:studio', 'react here');
    expect((await as('bob', 'POST', `/v1/messages/${m.id}/reactions`, { type: 'tada' })).status).toBe(200);
    await edit('alice', m.id, 'react here @carol');
    await settled();
    expect((await inbox('alice')).items.some((i) => i.message_id === m.id && i.kind === 'reaction')).toBe(true);
    expect((await inbox('carol')).items.some((i) => i.message_id === m.id && i.kind === 'mention')).toBe(true);
    expect(await tasksLeft()).toBe(0);
  });

  it('that a crash left between the commit and the run are run by the recovery, once', async () => {
    const svc = h.server.svc;
    const m = await send('alice', 'group:studio', 'left by a crash, @carol');
    await settled();
    expect((await inbox('carol')).items.some((i) => i.message_id === m.id)).toBe(true);
    // The commit of a reaction and of an edit that took carol out, each with its task, whose run
    // never came (as if the process died right after the commit): the task's row is all that is left.
    await withTransaction(svc, async (tx) => {
      await holdInboxTask(svc, tx, app.id, {
        kind: 'items',
        items: [
          {
            appId: app.id,
            userId: 'alice',
            kind: 'reaction',
            cid: 'group:studio',
            messageId: m.id,
            actorId: 'carol',
            reactionType: 'tada',
            dedupe: `r:${m.id}:carol:tada`,
          },
        ],
      });
      await holdInboxTask(svc, tx, app.id, {
        kind: 'mentions_edited',
        appId: app.id,
        messageId: m.id,
        added: [],
        removed: ['carol'],
      });
    });
    // A transaction that rolls back leaves no task.
    await expect(
      withTransaction(svc, async (tx) => {
        await holdInboxTask(svc, tx, app.id, { kind: 'items', items: [] });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await tasksLeft()).toBe(2);
    expect((await inbox('alice')).items.some((i) => i.message_id === m.id)).toBe(false);

    // Too young for the periodic job (another node may be running it now): left alone.
    expect(await recoverTasks(svc, { olderThanMs: 60_000 })).toBe(0);
    // As at the next start: both run, their rows go, and a second pass stores nothing twice.
    expect(await recoverTasks(svc, { olderThanMs: 0 })).toBe(2);
    expect(await tasksLeft()).toBe(0);
    const alice = (await inbox('alice')).items.filter((i) => i.message_id === m.id);
    expect(alice).toEqual([expect.objectContaining({ kind: 'reaction', actor_id: 'carol', reaction_type: 'tada' })]);
    // The edit's task took carol's unread mention out.
    expect((await inbox('carol')).items.some((i) => i.message_id === m.id)).toBe(false);
    expect(await recoverTasks(svc, { olderThanMs: 0 })).toBe(0);
  });
});
