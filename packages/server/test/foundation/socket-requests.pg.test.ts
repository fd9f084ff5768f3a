/**
 * One valid example of every client request the protocol defines (`CLIENT_REQUESTS`), sent over
 * a real socket, each answered `ok`. The list of examples is checked against the protocol's, so
 * a request added without one fails here. Written after `message.schedule` and
 * `reminder.create` answered VALIDATION_ERROR "Unknown format 'date-time'" over the socket while
 * REST took the same bodies: the socket's validator had never been told the schemas' formats.
 */
import { CLIENT_REQUESTS, type ClientRequestType, uuidv7 } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type Harness, startHarness, type TestApp, TestSocket } from '../harness.js';

type Who = 'alice' | 'bob' | 'carol';
interface Ctx {
  cid: string;
  messageId: string;
  seq: number;
  reminderId: string;
  noteId: string;
  callId: string;
  lounge: string;
  meeting: string;
  room: string;
  pollId?: string;
  /** An item of alice's inbox (bob reacted to a message of hers before the steps). */
  inboxItemId: string;
  sectionId?: string;
  sectionIds?: string[];
  savedId?: string;
  taskId?: string;
}
interface Step {
  type: ClientRequestType;
  as: Who;
  fields(c: Ctx): Record<string, unknown>;
  /** What the reply gives the next steps. */
  keep?(reply: any, c: Ctx): void;
  /** A step that sets the scene for a later one; its type is shown by another step too. */
  setup?: true;
}

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();
const URL_IN_TEXT = 'https://example.com/page';

const STEPS: Step[] = [
  { type: 'ping', as: 'alice', fields: () => ({}) },
  // On a first connection the report is taken and not counted (realtime/stability.ts).
  { type: 'connection.resynced', as: 'alice', fields: () => ({ ms: 120 }) },
  { type: 'presence.set', as: 'alice', fields: () => ({ presence: 'away' }) },
  { type: 'channel.watch', as: 'alice', fields: (c) => ({ cid: c.cid, since: 0 }) },
  {
    type: 'message.send',
    as: 'alice',
    fields: (c) => ({ cid: c.cid, message: { id: uuidv7(), text: `hello ${URL_IN_TEXT}` } }),
    keep: (r, c) => {
      c.messageId = r.message.id;
      c.seq = r.message.seq;
    },
  },
  {
    type: 'message.update',
    as: 'alice',
    fields: (c) => ({ message: { id: c.messageId, text: `hello again ${URL_IN_TEXT}` } }),
  },
  { type: 'preview.remove', as: 'alice', fields: (c) => ({ message_id: c.messageId, url: URL_IN_TEXT }) },
  { type: 'reaction.add', as: 'bob', fields: (c) => ({ message_id: c.messageId, reaction: { type: 'like' } }) },
  { type: 'reaction.remove', as: 'bob', fields: (c) => ({ message_id: c.messageId, reaction_type: 'like' }) },
  {
    type: 'message.send',
    as: 'alice',
    fields: (c) => ({ cid: c.cid, message: { text: 'Tea or coffee?', poll: { options: ['Tea', 'Coffee'] } } }),
    keep: (r, c) => {
      c.pollId = r.message.id;
    },
    setup: true,
  },
  { type: 'poll.vote', as: 'bob', fields: (c) => ({ message_id: c.pollId, option_ids: ['1'] }) },
  { type: 'poll.unvote', as: 'bob', fields: (c) => ({ message_id: c.pollId }) },
  { type: 'poll.close', as: 'alice', fields: (c) => ({ message_id: c.pollId }) },
  { type: 'typing.start', as: 'bob', fields: (c) => ({ cid: c.cid }) },
  { type: 'typing.stop', as: 'bob', fields: (c) => ({ cid: c.cid, parent_id: null }) },
  { type: 'read.mark', as: 'bob', fields: (c) => ({ cid: c.cid, seq: c.seq }) },
  { type: 'last_channel.set', as: 'bob', fields: (c) => ({ cid: c.cid }) },
  { type: 'search.messages', as: 'alice', fields: () => ({ q: 'hello', sort: 'newest', limit: 5 }) },
  { type: 'presence.subscribe', as: 'alice', fields: () => ({ user_ids: ['bob'] }) },
  { type: 'presence.unsubscribe', as: 'alice', fields: () => ({ user_ids: ['bob'] }) },
  { type: 'channel.members', as: 'alice', fields: (c) => ({ cid: c.cid, limit: 10 }) },
  {
    type: 'reminder.create',
    as: 'alice',
    fields: (c) => ({ message_id: c.messageId, remind_at: inAnHour() }),
    keep: (r, c) => {
      c.reminderId = r.reminder.id;
    },
  },
  { type: 'reminder.list', as: 'alice', fields: () => ({}) },
  { type: 'reminder.cancel', as: 'alice', fields: (c) => ({ id: c.reminderId }) },
  { type: 'message.schedule', as: 'alice', fields: (c) => ({ cid: c.cid, text: 'later', send_at: inAnHour() }) },
  { type: 'inbox.list', as: 'alice', fields: () => ({ filter: 'mentions', limit: 5 }) },
  { type: 'inbox.read', as: 'alice', fields: (c) => ({ id: c.inboxItemId }) },
  { type: 'inbox.read_all', as: 'alice', fields: () => ({}) },
  {
    type: 'note.create',
    as: 'alice',
    fields: (c) => ({ cid: c.cid, title: 'Plan', text: 'one\ntwo' }),
    keep: (r, c) => {
      c.noteId = r.note.id;
    },
  },
  { type: 'note.update', as: 'bob', fields: (c) => ({ id: c.noteId, base_version: 1, text: 'one\nTWO' }) },
  { type: 'note.delete', as: 'alice', fields: (c) => ({ id: c.noteId }) },
  { type: 'sidebar.get', as: 'alice', fields: () => ({}) },
  {
    type: 'sidebar.section.create',
    as: 'alice',
    fields: () => ({ name: 'Projects' }),
    keep: (r, c) => {
      c.sectionId = r.sidebar.sections.find((x: { name: string }) => x.name === 'Projects').id;
    },
  },
  { type: 'sidebar.section.update', as: 'alice', fields: (c) => ({ id: c.sectionId, collapsed: true, sort: 'name' }) },
  { type: 'sidebar.place', as: 'alice', fields: (c) => ({ cid: c.cid, section_id: c.sectionId, position: 0 }) },
  {
    type: 'sidebar.star',
    as: 'alice',
    fields: (c) => ({ cid: c.cid }),
    // Starred (made by the star) and Projects: the reorder names both, the other way round.
    keep: (r, c) => {
      c.sectionIds = r.sidebar.sections.map((x: { id: string }) => x.id).reverse();
    },
  },
  { type: 'sidebar.reorder', as: 'alice', fields: (c) => ({ section_ids: c.sectionIds }) },
  { type: 'sidebar.star', as: 'alice', fields: (c) => ({ cid: c.cid, starred: false }) },
  { type: 'sidebar.section.delete', as: 'alice', fields: (c) => ({ id: c.sectionId }) },
  {
    type: 'saved.create',
    as: 'alice',
    fields: (c) => ({ message_id: c.messageId, in: '1h' }),
    keep: (r, c) => {
      c.savedId = r.saved_item.id;
    },
  },
  { type: 'saved.list', as: 'alice', fields: () => ({ status: 'saved', limit: 10 }) },
  { type: 'saved.update', as: 'alice', fields: (c) => ({ id: c.savedId, status: 'completed' }) },
  { type: 'saved.remove', as: 'alice', fields: (c) => ({ id: c.savedId }) },
  {
    type: 'task.create',
    as: 'alice',
    fields: (c) => ({ message_id: c.messageId, assignee_id: 'bob', due_at: inAnHour() }),
    keep: (r, c) => {
      c.taskId = r.task.id;
    },
  },
  { type: 'task.update', as: 'bob', fields: (c) => ({ id: c.taskId, status: 'done' }) },
  { type: 'task.list', as: 'bob', fields: () => ({ status: 'done', limit: 10 }) },
  { type: 'task.delete', as: 'alice', fields: (c) => ({ id: c.taskId }) },
  { type: 'note.subscribe', as: 'bob', fields: (c) => ({ cid: c.cid, subscribed: true }) },
  { type: 'command.run', as: 'alice', fields: (c) => ({ cid: c.cid, text: '/me waves' }) },
  {
    type: 'call.start',
    as: 'alice',
    fields: (c) => ({ cid: c.cid, kind: 'audio', invite: ['bob'] }),
    keep: (r, c) => {
      c.callId = r.call.id;
    },
  },
  { type: 'call.accept', as: 'bob', fields: (c) => ({ call_id: c.callId }) },
  {
    type: 'call.signal',
    as: 'alice',
    fields: (c) => ({ call_id: c.callId, to_user_id: 'bob', signal: { type: 'offer', sdp: 'v=0\r\n' } }),
  },
  { type: 'call.invite', as: 'alice', fields: (c) => ({ call_id: c.callId, user_ids: ['carol'] }) },
  { type: 'call.decline', as: 'carol', fields: (c) => ({ call_id: c.callId }) },
  { type: 'call.join', as: 'carol', fields: (c) => ({ call_id: c.callId }) },
  { type: 'call.leave', as: 'carol', fields: (c) => ({ call_id: c.callId }) },
  { type: 'call.end', as: 'alice', fields: (c) => ({ call_id: c.callId }) },
  {
    type: 'call.start',
    as: 'alice',
    fields: (c) => ({ cid: c.cid, kind: 'video', invite: ['bob'] }),
    keep: (r, c) => {
      c.callId = r.call.id;
    },
    setup: true,
  },
  { type: 'call.cancel', as: 'alice', fields: (c) => ({ call_id: c.callId }) },
  { type: 'spaces.watch', as: 'alice', fields: () => ({}) },
  { type: 'space.enter', as: 'alice', fields: (c) => ({ space_id: c.lounge }) },
  { type: 'space.teleport', as: 'alice', fields: (c) => ({ space_id: c.lounge, user_id: 'bob' }) },
  { type: 'space.teleport.answer', as: 'bob', fields: (c) => ({ space_id: c.lounge, accept: false }) },
  { type: 'space.leave', as: 'alice', fields: () => ({}) },
  {
    type: 'space.enter',
    as: 'alice',
    fields: (c) => ({ space_id: c.meeting }),
    keep: (r, c) => {
      c.room = r.space.cid;
    },
    setup: true,
  },
  { type: 'space.enter', as: 'bob', fields: (c) => ({ space_id: c.meeting }), setup: true },
  // A call in the room makes it a meeting, which is knocked on.
  { type: 'call.start', as: 'alice', fields: (c) => ({ cid: c.room, kind: 'audio' }), setup: true },
  { type: 'space.knock', as: 'carol', fields: (c) => ({ space_id: c.meeting }) },
  { type: 'space.knock.answer', as: 'bob', fields: (c) => ({ space_id: c.meeting, user_id: 'carol', admit: false }) },
  { type: 'spaces.unwatch', as: 'alice', fields: () => ({}) },
  { type: 'message.delete', as: 'alice', fields: (c) => ({ message_id: c.messageId }) },
  { type: 'channel.view', as: 'alice', fields: (c) => ({ cid: c.cid }) },
  { type: 'channel.unwatch', as: 'alice', fields: (c) => ({ cid: c.cid }) },
];

let h: Harness;
let app: TestApp;
let url: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  h = await startHarness();
  url = await h.listen();
  app = await h.createApp('socket-requests');
  await h.users(app, [
    { id: 'admin', name: 'Ada', role: 'admin' },
    { id: 'alice', name: 'Alice' },
    { id: 'bob', name: 'Bob' },
    { id: 'carol', name: 'Carol' },
  ]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await h.close();
});

describe('every client request over the socket', () => {
  it('has one example per request type the protocol defines', () => {
    const shown = new Set(STEPS.filter((s) => !s.setup).map((s) => s.type));
    expect([...shown].sort()).toEqual(Object.keys(CLIENT_REQUESTS).sort());
  });

  it('answers each valid example ok, date-time fields included', async () => {
    const rest = async (method: 'POST', path: string, payload: Record<string, unknown>, as = 'admin') => {
      const r = await h.call({ method, url: path, headers: await app.user(as), payload });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    const channel = await rest(
      'POST',
      '/v1/channels',
      {
        type: 'group',
        id: 'examples',
        members: ['alice', 'bob', 'carol'],
      },
      'alice',
    );
    // An item in alice's inbox: bob's reaction to a message of hers (recorded just after it commits).
    const mine = await rest('POST', `/v1/channels/${channel.channel.cid}/messages`, { text: 'react to me' }, 'alice');
    await rest('POST', `/v1/messages/${mine.message.id}/reactions`, { type: 'like' }, 'bob');
    const item = await eventually(async () => {
      const r = await h.call({ method: 'GET', url: '/v1/inbox', headers: await app.user('alice') });
      return r.body.items?.[0]?.id as string | undefined;
    });
    const lounge = await rest('POST', '/v1/spaces', { name: 'Lounge', kind: 'lounge', capacity: 8 });
    const meeting = await rest('POST', '/v1/spaces', { name: 'Meeting', kind: 'meeting_room', capacity: 4 });
    const ctx: Ctx = {
      cid: channel.channel.cid,
      messageId: '',
      seq: 0,
      reminderId: '',
      noteId: '',
      callId: '',
      lounge: lounge.space.id,
      meeting: meeting.space.id,
      room: '',
      inboxItemId: item as string,
    };
    const by: Record<Who, TestSocket> = {
      alice: await TestSocket.connect(url, app, 'alice'),
      bob: await TestSocket.connect(url, app, 'bob'),
      carol: await TestSocket.connect(url, app, 'carol'),
    };
    sockets.push(...Object.values(by));
    const failures: string[] = [];
    for (const step of STEPS) {
      const reply = await by[step.as].request(step.type, step.fields(ctx));
      if (!reply.ok) {
        failures.push(`${step.type} as ${step.as}: ${JSON.stringify(reply.error)}`);
        continue;
      }
      step.keep?.(reply, ctx);
    }
    expect(failures).toEqual([]);
  });

  it('refuses a date-time that is not one, with VALIDATION_ERROR naming the field', async () => {
    const s = await TestSocket.connect(url, app, 'alice');
    sockets.push(s);
    for (const send_at of ['tomorrow', '2026-13-01T00:00:00Z', '2026-01-01 noon']) {
      const reply = await s.request('message.schedule', { cid: 'group:examples', text: 'x', send_at });
      expect(reply, JSON.stringify(reply)).toMatchObject({ ok: false, error: { code: 'VALIDATION_ERROR' } });
      expect(reply.error.details.map((d: { path: string }) => d.path)).toContain('/send_at');
    }
  });
});
