/**
 * "Seen by": under the viewer's latest message in a DM or a small group, who has read it —
 * their avatars and names, and on click (or hover) a list of when each read it. Live: the
 * SDK's `readByOf` follows `read.updated` events.
 */
import type { ReadBy } from '@parley/client';
import type { User } from '@parley/protocol';
import { useId, useState } from 'react';
import { useOptionalChannelContext } from './channel.js';
import { cidOf, shallowEqual, useClientState } from './context.js';
import { clockTime, displayName, fullTime } from './format.js';
import { Avatar, lookupUser } from './user.js';

/** Props of {@link SeenBy}. */
export interface SeenByProps {
  readBy: ReadBy;
  /** A DM: "Seen" once the other person read it, without naming them. */
  dm?: boolean;
  /** Most names written out before "and N others". */
  maxNames?: number;
}

/** Two lists of the same users, each as it was (a user read again is a new object of the same fields). */
function sameUsers(a: readonly (User | undefined)[], b: readonly (User | undefined)[]): boolean {
  return a.length === b.length && a.every((u, i) => shallowEqual(u, b[i]));
}

/** The "Seen by …" line of a message, with a popover of read times. Renders nothing before anyone read it. */
export function SeenBy({ readBy, dm = false, maxNames = 3 }: SeenByProps) {
  const cid = cidOf(useOptionalChannelContext()?.channel);
  const { readers, others } = readBy;
  // The readers only (re-rendered when one of them changes, not on every change of the client).
  const known = useClientState(
    (s) => readers.map((r) => lookupUser(s, cid ? s.channels[cid] : undefined, r.user_id)),
    sameUsers,
  );
  const byId = new Map(readers.map((r, i) => [r.user_id, known[i]]));
  const user = (id: string) => byId.get(id);
  const [open, setOpen] = useState(false);
  const popId = useId();
  if (readers.length === 0) return null;
  const name = (id: string) => displayName(user(id), id);
  const names = readers.map((r) => name(r.user_id));
  const label = dm
    ? 'Seen'
    : readers.length === others && others > 1
      ? 'Seen by everyone'
      : names.length <= maxNames
        ? `Seen by ${names.join(', ')}`
        : `Seen by ${names.slice(0, maxNames).join(', ')} and ${names.length - maxNames} other${names.length - maxNames === 1 ? '' : 's'}`;
  const times = readers.map((r) => `${name(r.user_id)}${r.read_at ? ` · ${fullTime(r.read_at)}` : ''}`).join('\n');
  return (
    <div className="parley-seen-by">
      <button
        type="button"
        className="parley-seen-by__button"
        aria-expanded={open}
        aria-controls={popId}
        title={times}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="parley-seen-by__avatars" aria-hidden="true">
          {readers.slice(0, 5).map((r) => (
            <Avatar key={r.user_id} user={user(r.user_id)} id={r.user_id} size={16} />
          ))}
        </span>
        <span className="parley-seen-by__label">{label}</span>
      </button>
      {open ? (
        <ul id={popId} className="parley-seen-by__popover" aria-label="Read by">
          {readers.map((r) => (
            <li key={r.user_id}>
              <Avatar user={user(r.user_id)} id={r.user_id} size={20} />
              <span className="parley-seen-by__name">{name(r.user_id)}</span>
              <span className="parley-muted">
                {r.read_at ? <time dateTime={r.read_at}>{clockTime(r.read_at)}</time> : 'read'}
              </span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
