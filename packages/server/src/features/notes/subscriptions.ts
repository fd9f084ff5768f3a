/**
 * Following a channel's notes: a per-user subscription (`channel_note_subscriptions`) to a
 * channel the user may read. When someone else makes or edits a note there, each follower who
 * may still read the channel gets an inbox item (`note_updated`) — written by the inbox's durable
 * outbox from inside the note's transaction, at most one per note and follower every ten minutes
 * (a note edited in a burst of saves is one piece of news, not twenty).
 */
import type { NoteSubscriptionResponse } from '@parley/protocol';
import { and, eq, ne } from 'drizzle-orm';
import type { Caller } from '../../platform/auth.js';
import { type Queryable, schema } from '../../platform/db/index.js';
import type { Services } from '../../services.js';
import { accessChannelRead, mayReadChannel } from '../channels/index.js';
import { holdInboxTask } from '../inbox/index.js';

type Me = Caller & { kind: 'user' };
const s = schema.channelNoteSubscriptions;
/** One `note_updated` item per note and follower in this window. */
const WINDOW_MS = 10 * 60_000;
/** The most followers one change notifies (the oldest subscriptions first). */
const MAX_FOLLOWERS = 1000;

async function subscribed(q: Queryable, me: Me, cid: string): Promise<boolean> {
  const [row] = await q
    .select({ cid: s.cid })
    .from(s)
    .where(and(eq(s.appId, me.app.id), eq(s.cid, cid), eq(s.userId, me.userId)));
  return !!row;
}

/** Whether the caller follows the notes of `cid` (a channel they may read). */
export async function noteSubscription(svc: Services, me: Me, cid: string): Promise<NoteSubscriptionResponse> {
  await accessChannelRead(svc.db, me, cid);
  return { cid, subscribed: await subscribed(svc.db, me, cid) };
}

/** Follow (`on`) or stop following the notes of `cid`; idempotent. */
export async function subscribeNotes(
  svc: Services,
  me: Me,
  cid: string,
  on: boolean,
): Promise<NoteSubscriptionResponse> {
  await accessChannelRead(svc.db, me, cid);
  if (on)
    await svc.db
      .insert(s)
      .values({ appId: me.app.id, cid, userId: me.userId, createdAt: new Date(svc.clock()) })
      .onConflictDoNothing();
  else await svc.db.delete(s).where(and(eq(s.appId, me.app.id), eq(s.cid, cid), eq(s.userId, me.userId)));
  return { cid, subscribed: on };
}

/**
 * Inside a channel note's transaction: the inbox's task for the channel's note followers (but
 * `actorId`, and those who may no longer read it). Call the answer after the commit.
 */
export async function holdNoteFollowers(
  svc: Services,
  tx: Queryable,
  appId: string,
  note: { id: string; cid: string | null },
  actorId: string,
  at: number,
): Promise<() => void> {
  const cid = note.cid;
  if (!cid) return () => {};
  const followers = await tx
    .select({ userId: s.userId })
    .from(s)
    .where(and(eq(s.appId, appId), eq(s.cid, cid), ne(s.userId, actorId)))
    .orderBy(s.createdAt)
    .limit(MAX_FOLLOWERS);
  const app = { id: appId, name: '', apiKey: '', secretKey: new Uint8Array() };
  const readers: string[] = [];
  for (const f of followers)
    if (await mayReadChannel(tx, { kind: 'user', app, userId: f.userId }, cid)) readers.push(f.userId);
  if (readers.length === 0) return () => {};
  const window = Math.floor(at / WINDOW_MS);
  return holdInboxTask(svc, tx, appId, {
    kind: 'items',
    items: readers.map((userId) => ({
      appId,
      userId,
      kind: 'note_updated' as const,
      cid,
      noteId: note.id,
      actorId,
      dedupe: `nu:${note.id}:${window}`,
    })),
  });
}
