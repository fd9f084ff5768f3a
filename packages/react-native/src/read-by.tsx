/**
 * "Seen by": under the viewer's latest message, who has read it, live from the SDK's `readByOf`
 * (it follows `read.updated`). Pressing it lists when each read it.
 */
import type { ReadBy } from '@parley/client';
import type { User } from '@parley/protocol';
import { useState } from 'react';
import { Pressable, Text, View } from 'react-native';
import { useOptionalChannelContext } from './channel.js';
import { cidOf, useClientState, usePalette } from './context.js';
import { clockTime, displayName } from './format.js';
import { Avatar } from './user.js';

/** Props of {@link SeenBy}. */
export interface SeenByProps {
  readBy: ReadBy;
  /** A DM: "Seen" once the other person read it, without naming them. */
  dm?: boolean;
  /** Most names written out before "and N others". */
  maxNames?: number;
}

/** Two lists of the same users, element by element. */
function sameUsers(a: readonly (User | undefined)[], b: readonly (User | undefined)[]): boolean {
  return a.length === b.length && a.every((u, i) => Object.is(u, b[i]));
}

/** "Seen by Alice, Bob" / "Seen" / "Seen by everyone"; nothing before anyone read it. */
export function SeenBy({ readBy, dm = false, maxNames = 3 }: SeenByProps) {
  const palette = usePalette();
  const cid = cidOf(useOptionalChannelContext()?.channel);
  const [open, setOpen] = useState(false);
  const { readers, others } = readBy;
  // The readers only: re-rendered when one of them changes, not on every change of the channel.
  const known = useClientState(
    (s) => readers.map((r) => s.users[r.user_id] ?? (cid ? s.channels[cid]?.members[r.user_id]?.user : undefined)),
    sameUsers,
  );
  if (readers.length === 0) return null;
  const user = (id: string) => known[readers.findIndex((r) => r.user_id === id)];
  const name = (id: string) => displayName(user(id), id);
  const names = readers.map((r) => name(r.user_id));
  const label = dm
    ? 'Seen'
    : readers.length === others && others > 1
      ? 'Seen by everyone'
      : names.length <= maxNames
        ? `Seen by ${names.join(', ')}`
        : `Seen by ${names.slice(0, maxNames).join(', ')} and ${names.length - maxNames} other${names.length - maxNames === 1 ? '' : 's'}`;
  return (
    <View style={{ alignItems: 'flex-end', marginTop: 2 }}>
      <Pressable
        role="button"
        accessibilityState={{ expanded: open }}
        onPress={() => setOpen((o) => !o)}
        style={{ flexDirection: 'row', alignItems: 'center', gap: 4 }}
      >
        <View style={{ flexDirection: 'row' }}>
          {readers.slice(0, 5).map((r) => (
            <Avatar key={r.user_id} user={user(r.user_id)} id={r.user_id} size={14} />
          ))}
        </View>
        <Text style={{ color: palette.muted, fontSize: 12 }}>{label}</Text>
      </Pressable>
      {open ? (
        <View accessibilityLabel="Read by" style={{ marginTop: 4, gap: 2 }}>
          {readers.map((r) => (
            <Text key={r.user_id} style={{ color: palette.muted, fontSize: 12 }}>
              {name(r.user_id)} · {r.read_at ? clockTime(r.read_at) : 'read'}
            </Text>
          ))}
        </View>
      ) : null}
    </View>
  );
}
