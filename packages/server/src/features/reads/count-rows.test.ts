import { describe, expect, it } from 'vitest';
import { type AskedCounts, type CountParts, type CountRow, countRows } from './count-rows.js';

/** A small world: memberships, messages, mutes, each as the database holds them. */
interface World {
  members: { app: string; user: string; cid: string; muted: boolean; r: number }[];
  messages: { app: string; cid: string; seq: number; author: string; atChannel: boolean; mentions: string[] }[];
  mutes: { app: string; user: string; muted: string }[];
  lastSeq: Map<string, number>;
}

/** What the statement returns for `asked` (push.ts), built from the world by hand. */
function partsOf(w: World, asked: readonly AskedCounts[]): CountParts {
  const who = new Set(asked.map((a) => `${a.appId}|${a.userId}`));
  const all = w.members.filter((m) => who.has(`${m.app}|${m.user}`));
  // As the statement sends them: only the memberships with a message past their mark.
  const mem = all.filter((m) => w.messages.some((x) => x.app === m.app && x.cid === m.cid && x.seq > m.r));
  const marks = new Set(mem.map((m) => `${m.app}|${m.cid}|${m.r}`));
  const byAuthor = new Map<string, [string, string, number, string, number, number]>();
  for (const x of w.messages)
    for (const mark of marks) {
      const [app, cid, r] = mark.split('|') as [string, string, string];
      if (x.app !== app || x.cid !== cid || x.seq <= Number(r)) continue;
      const k = `${mark}|${x.author}`;
      const row = byAuthor.get(k) ?? [app, cid, Number(r), x.author, 0, 0];
      row[4]++;
      if (x.atChannel) row[5]++;
      byAuthor.set(k, row);
    }
  const flagged = new Map<string, [string, string, string, string, number]>();
  for (const m of mem)
    for (const x of w.messages) {
      if (x.app !== m.app || x.cid !== m.cid || x.seq <= m.r || !x.mentions.includes(m.user)) continue;
      if (x.atChannel || x.author === m.user) continue;
      const k = `${m.app}|${m.user}|${m.cid}|${x.author}`;
      const row = flagged.get(k) ?? [m.app, m.user, m.cid, x.author, 0];
      row[4]++;
      flagged.set(k, row);
    }
  // The (user, channel) pairs, a '*' made into the user's channels, each with the channel's last seq.
  const pairs: [string, string, string, number | null][] = [];
  for (const a of asked) {
    const cids =
      a.cid === '*' ? all.filter((m) => m.app === a.appId && m.user === a.userId).map((m) => m.cid) : [a.cid];
    for (const cid of cids)
      if (cid !== null) pairs.push([a.appId, a.userId, cid, w.lastSeq.get(`${a.appId}|${cid}`) ?? null]);
  }
  return {
    mem: mem.map((m) => [m.app, m.user, m.cid, m.muted, m.r]),
    byAuthor: [...byAuthor.values()],
    mutes: w.mutes.filter((mu) => who.has(`${mu.app}|${mu.user}`)).map((mu) => [mu.app, mu.user, mu.muted]),
    flagged: [...flagged.values()],
    pairs,
  };
}

/** A member's counts message by message, as queries.ts defines them. */
function counted(w: World, app: string, user: string, cid: string): { unread: number; mentions: number } {
  const m = w.members.find((x) => x.app === app && x.user === user && x.cid === cid);
  if (!m) return { unread: 0, mentions: 0 };
  const muted = new Set(w.mutes.filter((mu) => mu.app === app && mu.user === user).map((mu) => mu.muted));
  const unread = w.messages.filter(
    (x) => x.app === app && x.cid === cid && x.seq > m.r && x.author !== user && !muted.has(x.author),
  );
  return { unread: unread.length, mentions: unread.filter((x) => x.atChannel || x.mentions.includes(user)).length };
}

function expected(w: World, asked: readonly AskedCounts[]): CountRow[] {
  const out: CountRow[] = [];
  const users = [...new Map(asked.map((a) => [`${a.appId}|${a.userId}`, a])).values()];
  for (const u of users) {
    const mine = w.members.filter((m) => m.app === u.appId && m.user === u.userId);
    let total = 0;
    let mentions = 0;
    let channels = 0;
    for (const m of mine) {
      if (m.muted) continue;
      const c = counted(w, m.app, m.user, m.cid);
      total += c.unread;
      mentions += c.mentions;
      if (c.unread > 0) channels++;
    }
    const totals = { total, total_mentions: mentions, channels };
    const cids = new Set<string>();
    for (const a of asked.filter((x) => x.appId === u.appId && x.userId === u.userId))
      if (a.cid === '*') for (const m of mine) cids.add(m.cid);
      else if (a.cid !== null) cids.add(a.cid);
    const base = { app_id: u.appId, user_id: u.userId };
    if (cids.size === 0) out.push({ ...base, cid: null, unread: null, mentions: null, last_seq: null, ...totals });
    for (const cid of cids) {
      const c = counted(w, u.appId, u.userId, cid);
      out.push({
        ...base,
        cid,
        unread: c.unread,
        mentions: c.mentions,
        last_seq: w.lastSeq.get(`${u.appId}|${cid}`) ?? null,
        ...totals,
      });
    }
  }
  return out;
}

/** A seeded random number generator (mulberry32), so a failing world can be made again. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomWorld(seed: number): { w: World; asked: AskedCounts[] } {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const apps = ['a1', 'a2'];
  const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
  const cids = ['group:x', 'group:y', 'dm:z', 'group:w'];
  const w: World = { members: [], messages: [], mutes: [], lastSeq: new Map() };
  for (const app of apps)
    for (const cid of cids) {
      const last = Math.floor(r() * 12);
      w.lastSeq.set(`${app}|${cid}`, last);
      const people = users.filter(() => r() < 0.7);
      // Marks bunch up (several members at the same one), as in a channel nobody reads.
      for (const user of people)
        w.members.push({ app, user, cid, muted: r() < 0.2, r: r() < 0.5 ? 0 : Math.floor(r() * (last + 1)) });
      for (let seq = 1; seq <= last; seq++)
        w.messages.push({
          app,
          cid,
          seq,
          author: pick(people.length ? people : users),
          atChannel: r() < 0.1,
          mentions: users.filter(() => r() < 0.2),
        });
      for (const user of users) if (r() < 0.15) w.mutes.push({ app, user, muted: pick(users) });
    }
  const asked: AskedCounts[] = [];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++)
    asked.push({ appId: pick(apps), userId: pick(users), cid: pick([...cids, '*', null, 'group:gone']) });
  return { w, asked };
}

describe('the counts of an unread push, from the parts one statement reads', () => {
  it('equal counting message by message, in 200 random worlds (shared marks, mutes, mentions, @channel)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { w, asked } = randomWorld(seed);
      expect(countRows(asked, partsOf(w, asked)), `world ${seed}`).toEqual(expected(w, asked));
    }
  });

  it('leave out what the member wrote and whom they muted, and muted channels from the totals', () => {
    const w: World = {
      members: [
        { app: 'a', user: 'me', cid: 'c1', muted: false, r: 0 },
        { app: 'a', user: 'me', cid: 'c2', muted: true, r: 0 },
        { app: 'a', user: 'you', cid: 'c1', muted: false, r: 0 },
      ],
      messages: [
        { app: 'a', cid: 'c1', seq: 1, author: 'me', atChannel: false, mentions: [] },
        { app: 'a', cid: 'c1', seq: 2, author: 'you', atChannel: false, mentions: ['me'] },
        { app: 'a', cid: 'c1', seq: 3, author: 'troll', atChannel: true, mentions: [] },
        { app: 'a', cid: 'c2', seq: 1, author: 'you', atChannel: true, mentions: [] },
      ],
      mutes: [{ app: 'a', user: 'me', muted: 'troll' }],
      lastSeq: new Map([
        ['a|c1', 3],
        ['a|c2', 1],
      ]),
    };
    const asked = [{ appId: 'a', userId: 'me', cid: '*' }];
    expect(countRows(asked, partsOf(w, asked))).toEqual([
      {
        app_id: 'a',
        user_id: 'me',
        cid: 'c1',
        unread: 1,
        mentions: 1,
        last_seq: 3,
        total: 1,
        total_mentions: 1,
        channels: 1,
      },
      {
        app_id: 'a',
        user_id: 'me',
        cid: 'c2',
        unread: 1,
        mentions: 1,
        last_seq: 1,
        total: 1,
        total_mentions: 1,
        channels: 1,
      },
    ]);
    // Only the totals: one row without a channel.
    const totals = [{ appId: 'a', userId: 'you', cid: null }];
    expect(countRows(totals, partsOf(w, totals))).toEqual([
      {
        app_id: 'a',
        user_id: 'you',
        cid: null,
        unread: null,
        mentions: null,
        last_seq: null,
        total: 2,
        total_mentions: 1,
        channels: 1,
      },
    ]);
  });
});
