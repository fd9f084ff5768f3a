/**
 * The permission table is the test: for every channel type and every kind of caller (each
 * channel role, app moderators and admins who are not members, an outsider, a guest member),
 * the expected answer of each capability is read off DEFAULT_GRANTS (the table docs/permissions.md
 * prints) by a rule written here apart from the server's code. Then:
 *   - `own_capabilities` of the channel, for each caller, is exactly the expected set;
 *   - each capability that has an action is tried over REST, and the socket ones over the
 *     socket too: allowed where the table grants it, refused (403/404) where it does not.
 */
import { readFileSync } from 'node:fs';
import { CAPABILITIES, type Capability, CHANNEL_TYPES } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GRANTS, LEVEL_RANK } from '../../src/features/permissions/policy.js';
import { ok, type Res, world } from '../channels/helpers.js';
import { type Harness, startHarness, TestSocket } from '../harness.js';

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness();
  base = await h.listen();
});
afterAll(async () => {
  await h.close();
});

type ChannelType = (typeof CHANNEL_TYPES)[number];
const CHANNEL_RANK: Record<string, number> = { member: 0, moderator: 1, admin: 2, owner: 3 };
const APP_RANK: Record<string, number> = { admin: 3, moderator: 1 };

interface Who {
  id: string;
  member: boolean;
  rank: number;
  guest: boolean;
}

/** The table, read by the rule the docs state (docs/permissions.md, "How a check decides"). */
function expected(type: ChannelType, who: Who, cap: Capability): boolean {
  const level = (c: Capability) => {
    const l = DEFAULT_GRANTS[c][type];
    return LEVEL_RANK[who.guest && l === 'anyone' ? 'member' : l];
  };
  const readable = who.member || who.rank >= level('read-channel');
  if (cap === 'read-channel') return readable;
  if (cap === 'join-channel') return who.rank >= level(cap);
  if (!readable) return false;
  if (cap === 'add-members' && who.guest) return false;
  const inChannel = [
    'send-message',
    'mention-channel',
    'upload-file',
    'send-reaction',
    'pin-message',
    'create-poll',
    'vote-poll',
    'manage-bookmarks',
    'edit-channel-notes',
  ];
  if (inChannel.includes(cap) && !who.member) return false;
  return who.rank >= level(cap);
}

/** A world with one channel of `type` and the whole cast in place; the callers and their powers. */
async function setup(type: ChannelType) {
  const w = await world(h, [
    { id: 'appmod', role: 'moderator' },
    { id: 'appadmin', role: 'admin' },
    { id: 'guest', role: 'guest' },
    { id: 'newbie' },
    ...Array.from({ length: 12 }, (_, i) => ({ id: `v${i}` })),
  ]);
  let cid: string;
  if (type === 'dm') {
    cid = ok(await w.alice.create({ type: 'dm', members: ['bob'] })).channel.cid;
  } else {
    cid = `${type}:room`;
    ok(
      await w.server.create({
        type,
        id: 'room',
        created_by: 'alice',
        members: ['alice', 'bob', 'carol', 'dave', 'guest', ...Array.from({ length: 12 }, (_, i) => `v${i}`)],
      }),
    );
    ok(await w.server.setMember(cid, 'bob', { role: 'admin' }));
    ok(await w.server.setMember(cid, 'carol', { role: 'moderator' }));
  }
  const roles = new Map<string, string>(
    ok(await w.server.channel(cid)).members.map((m: any) => [m.user_id, m.role] as [string, string]),
  );
  const appRoles: Record<string, string> = { appmod: 'moderator', appadmin: 'admin', guest: 'guest' };
  const callers: Who[] = ['alice', 'bob', 'carol', 'dave', 'erin', 'appmod', 'appadmin', 'guest']
    .filter((id) => type !== 'dm' || id !== 'guest')
    .map((id) => {
      const role = roles.get(id);
      const own = role ? (CHANNEL_RANK[role] ?? 0) : -1;
      return { id, member: !!role, rank: Math.max(own, APP_RANK[appRoles[id] ?? ''] ?? -1), guest: id === 'guest' };
    });
  return { w, cid, callers };
}

const allowed = (r: Res) => r.status >= 200 && r.status < 300;
const refused = (r: Res) => r.status === 403 || r.status === 404;

describe.each(CHANNEL_TYPES.map((t) => [t]))('%s channels', (type) => {
  it('own_capabilities is the table, for every kind of caller', async () => {
    const { w, cid, callers } = await setup(type);
    for (const who of callers) {
      const want = CAPABILITIES.filter((c) => expected(type, who, c));
      const r = await w.as(who.id).channel(cid);
      if (!want.includes('read-channel')) {
        expect(r.status, `${who.id} reads ${cid}`).toBe(404);
        continue;
      }
      expect(ok(r).channel.own_capabilities, `${who.id} in ${cid}`).toEqual(want);
      // Channel lists (of the caller's channels) carry the same answer.
      if (!who.member) continue;
      const listed = ok(await w.as(who.id).query({ filter: { cid } }));
      expect(listed.channels[0]?.own_capabilities, `${who.id} in a list`).toEqual(want);
    }
  });

  it('each action over REST is allowed exactly where the table grants it', async () => {
    const { w, cid, callers } = await setup(type);
    const victims = Array.from({ length: 12 }, (_, i) => `v${i}`);
    let v = 0;
    // A message by someone else than the caller (alice and bob may post in every type).
    let who: Who;
    const otherMessage = async () =>
      ok(await w.as(who.id === 'alice' ? 'bob' : 'alice').send(cid, 'from another')).message.id as string;
    const actions: Partial<Record<Capability, (who: Who) => Promise<Res>>> = {
      'read-channel': (who) => w.as(who.id).history(cid),
      'send-message': (who) => w.as(who.id).send(cid, `hello from ${who.id}`),
      'send-reaction': async (who) => w.as(who.id).react(await otherMessage(), 'like'),
      'pin-message': async (who) => w.as(who.id).post(`/v1/messages/${await otherMessage()}/pin`, {}),
      'create-poll': (who) =>
        w.as(who.id).post(`/v1/channels/${cid}/messages`, { text: `poll by ${who.id}`, poll: { options: ['a', 'b'] } }),
      'vote-poll': async (who) => {
        const poll = await w
          .as(who.id === 'alice' ? 'bob' : 'alice')
          .post(`/v1/channels/${cid}/messages`, { text: 'a poll', poll: { options: ['a', 'b'] } });
        return w.as(who.id).post(`/v1/messages/${ok(poll).message.id}/poll/votes`, { option_ids: ['1'] });
      },
      'manage-bookmarks': (who) =>
        w.as(who.id).post(`/v1/channels/${cid}/bookmarks`, { url: `https://example.com/${who.id}`, title: who.id }),
      'delete-any-message': async (who) => w.as(who.id).deleteMessage(await otherMessage()),
      'update-channel-topic': (who) => w.as(who.id).update(cid, { topic: `topic by ${who.id}` }),
      'update-channel': (who) => w.as(who.id).update(cid, { image: `https://example.com/${who.id}.png` }),
      'freeze-channel': (who) => w.as(who.id).update(cid, { slow_mode_s: 0 }),
      'add-members': (who) => w.as(who.id).members(cid, { add: ['newbie'] }),
      'join-channel': (who) => w.as(who.id).members(cid, { add: [who.id] }),
      'edit-channel-notes': (who) => w.as(who.id).post('/v1/notes', { cid, title: `by ${who.id}` }),
    };
    if (type !== 'dm') {
      // A victim of each try (v1…v11 in turn; v0 stays put).
      const next = () => {
        v = (v % 11) + 1;
        return victims[v] as string;
      };
      actions['remove-members'] = (who) => w.as(who.id).members(cid, { remove: [next()] });
      actions['update-member-roles'] = (who) => w.as(who.id).setMember(cid, next(), { role: 'member' });
      actions['ban-members'] = (who) => w.as(who.id).post('/v1/moderation/bans', { user_id: next(), cid, reason: 't' });
    }
    for (who of callers)
      for (const [cap, act] of Object.entries(actions) as [Capability, (w: Who) => Promise<Res>][]) {
        // Joining as a member, or adding erin once she is in, changes nothing: skip what
        // earlier steps made moot, and put back what they took.
        if (cap === 'join-channel' && who.member) continue;
        const want = expected(type, who, cap);
        const r = await act(who);
        if (want)
          expect(allowed(r), `${who.id} may ${cap} in ${cid}: ${r.status} ${JSON.stringify(r.body)}`).toBe(true);
        else expect(refused(r), `${who.id} may not ${cap} in ${cid}: ${r.status} ${JSON.stringify(r.body)}`).toBe(true);
        if (cap === 'add-members' && allowed(r)) await w.server.members(cid, { remove: ['newbie'] });
        if (cap === 'join-channel' && allowed(r)) await w.server.members(cid, { remove: [who.id] });
        if ((cap === 'remove-members' || cap === 'ban-members') && type !== 'dm') {
          for (const id of victims) await w.server.post('/v1/moderation/unban', { user_id: id, cid });
          await w.server.members(cid, { add: victims });
        }
      }
  });

  it('the socket requests are allowed exactly where the table grants them', async () => {
    const { w, cid, callers } = await setup(type);
    for (const who of callers) {
      const poster = w.as(who.id === 'alice' ? 'bob' : 'alice');
      const s = await TestSocket.connect(base, w.app, who.id);
      try {
        const mine = async () => {
          // Edit-own needs a message of the caller's own: post it as them where they may.
          const r = await w.as(who.id).send(cid, 'mine');
          return r.status === 200 ? (r.body.message.id as string) : null;
        };
        const cases: [Capability, () => Promise<any>][] = [
          ['read-channel', () => s.request('channel.watch', { cid })],
          ['send-message', () => s.request('message.send', { cid, message: { text: `ws ${who.id}` } })],
          [
            'send-reaction',
            async () =>
              s.request('reaction.add', {
                message_id: ok(await poster.send(cid, 'x')).message.id,
                reaction: { type: 'wow' },
              }),
          ],
          [
            'delete-any-message',
            async () => s.request('message.delete', { message_id: ok(await poster.send(cid, 'y')).message.id }),
          ],
          [
            'vote-poll',
            async () => {
              const poll = await poster.post(`/v1/channels/${cid}/messages`, {
                text: 'a poll',
                poll: { options: ['a', 'b'] },
              });
              return s.request('poll.vote', { message_id: ok(poll).message.id, option_ids: ['0'] });
            },
          ],
        ];
        for (const [cap, run] of cases) {
          const reply = await run();
          const want = expected(type, who, cap);
          expect(reply.ok, `${who.id} ${cap} over the socket in ${cid}: ${JSON.stringify(reply.error)}`).toBe(want);
          if (!want) expect(['FORBIDDEN', 'NOT_FOUND']).toContain(reply.error.code);
        }
        const id = await mine();
        if (id) {
          const reply = await s.request('message.update', { message: { id, text: 'edited' } });
          expect(reply.ok, `${who.id} edits own over the socket`).toBe(expected(type, who, 'edit-own-message'));
        }
      } finally {
        s.close();
      }
    }
  });
});

describe('docs/permissions.md', () => {
  it('prints the table the server enforces, row by row', () => {
    const doc = readFileSync(new URL('../../../../docs/permissions.md', import.meta.url), 'utf8');
    const types = ['public', 'group', 'announcement', 'dm'] as const;
    for (const c of CAPABILITIES)
      expect(doc, `the row of ${c}`).toContain(`| \`${c}\` | ${types.map((t) => DEFAULT_GRANTS[c][t]).join(' | ')} |`);
  });
});

describe('per-app overrides through the admin API', () => {
  it('change who may do what at once on this node, and refuse opening DMs to outsiders', async () => {
    const w = await world(h);
    ok(await w.alice.create({ type: 'public', id: 'p', members: ['bob'] }));
    ok(await w.bob.send('public:p', 'members may post by default'));
    const admin = { authorization: `Bearer ${h.config.adminToken}` };
    const put = (body: unknown) =>
      h.call({ method: 'PUT', url: `/v1/admin/apps/${w.app.id}/permissions`, headers: admin, payload: body as object });
    const r = ok(await put({ overrides: { public: { 'send-message': 'moderator', 'send-reaction': 'anyone' } } }));
    expect(r.effective.public['send-message']).toBe('moderator');
    expect(r.effective.group['send-message']).toBe('member');
    const refusedSend = await w.bob.send('public:p', 'now refused');
    expect(refusedSend.status).toBe(403);
    expect(ok(await w.bob.channel('public:p')).channel.own_capabilities).not.toContain('send-message');
    ok(await w.alice.send('public:p', 'the owner still may'));
    // Reading a DM or a group cannot be opened up.
    const bad = await put({ overrides: { dm: { 'read-channel': 'anyone' } } });
    expect(bad.status).toBe(400);
    // Unknown capabilities and levels are refused by the schema.
    expect((await put({ overrides: { public: { 'fly-away': 'member' } } })).status).toBe(400);
    expect((await put({ overrides: { public: { 'send-message': 'everyone' } } })).status).toBe(400);
    // The same through the app's own API needs an app admin (or the server token).
    const viaUser = await h.call({
      method: 'PUT',
      url: '/v1/moderation/permissions',
      headers: await w.app.user('bob'),
      payload: { overrides: {} },
    });
    expect(viaUser.status).toBe(403);
    ok(
      await h.call({
        method: 'PUT',
        url: '/v1/moderation/permissions',
        headers: await w.app.server(),
        payload: { overrides: {} },
      }),
    );
    ok(await w.bob.send('public:p', 'back to the defaults'));
  });
});
