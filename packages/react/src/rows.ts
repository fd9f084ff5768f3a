/**
 * The rows a message list shows: messages, date separators and the "New messages" line,
 * with consecutive messages from one user grouped. Pure, so it is tested without a DOM.
 */
import type { LocalMessage } from '@parley/client';
import { dayKey } from './format.js';

/** One row of a message list. */
export type MessageRow =
  | { kind: 'date'; key: string; date: string }
  | { kind: 'unread'; key: 'unread' }
  | {
      kind: 'message';
      key: string;
      message: LocalMessage;
      /** Continues a group: same author within the grouping window, so no name and avatar. */
      continued: boolean;
    };

/** Options of {@link buildRows}. */
export interface BuildRowsOptions {
  /** The viewer's read mark when the list opened; the "New messages" line goes before the first later message from someone else. */
  readSeq?: number | null;
  /** The viewer's id (their own messages never start the unread line). */
  me?: string | null;
  /** Messages from one author this close together are grouped; default 5 minutes. */
  groupWithinMs?: number;
}

const FIVE_MINUTES = 5 * 60_000;

/** Build the rows for `messages` (in list order). */
export function buildRows(messages: readonly LocalMessage[], opts: BuildRowsOptions = {}): MessageRow[] {
  const within = opts.groupWithinMs ?? FIVE_MINUTES;
  const readSeq = opts.readSeq ?? null;
  const rows: MessageRow[] = [];
  let day: string | null = null;
  let prev: LocalMessage | null = null;
  let unreadPlaced = false;
  for (const m of messages) {
    const d = dayKey(m.created_at);
    if (d !== day) {
      rows.push({ kind: 'date', key: `date-${d}`, date: m.created_at });
      day = d;
      prev = null;
    }
    if (
      !unreadPlaced &&
      readSeq !== null &&
      m.seq > readSeq &&
      m.status === 'sent' &&
      m.user_id !== opts.me &&
      m.type === 'regular'
    ) {
      rows.push({ kind: 'unread', key: 'unread' });
      unreadPlaced = true;
      prev = null;
    }
    const continued =
      prev !== null &&
      prev.user_id === m.user_id &&
      prev.type === 'regular' &&
      m.type === 'regular' &&
      new Date(m.created_at).getTime() - new Date(prev.created_at).getTime() < within;
    rows.push({ kind: 'message', key: m.id, message: m, continued });
    prev = m;
  }
  return rows;
}
