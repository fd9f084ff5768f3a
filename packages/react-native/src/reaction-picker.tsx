/** Reactions: the row of counts under a message, and the picker of the types the kit offers. */
import type { LocalMessage } from '@parley/client';
import { Pressable, Text, View } from 'react-native';
import { usePalette } from './context.js';
import { DEFAULT_REACTIONS, reactionEmoji } from './format.js';

/** Props of {@link ReactionPicker}. */
export interface ReactionPickerProps {
  /** Called with the chosen type. */
  onPick(type: string): void;
  /** Types the viewer has already given (shown selected). */
  own?: readonly string[];
  /** Types to offer; default {@link DEFAULT_REACTIONS}. */
  types?: readonly string[];
}

/** A row of reaction buttons. */
export function ReactionPicker({ onPick, own = [], types = DEFAULT_REACTIONS }: ReactionPickerProps) {
  const palette = usePalette();
  return (
    <View style={{ flexDirection: 'row', gap: 4 }} accessibilityLabel="Reactions to add">
      {types.map((t) => (
        <Pressable
          key={t}
          role="button"
          accessibilityLabel={`React with ${t}`}
          accessibilityState={{ selected: own.includes(t) }}
          onPress={() => onPick(t)}
          style={{
            padding: 6,
            borderRadius: 16,
            backgroundColor: own.includes(t) ? palette.mine : palette.surface,
          }}
        >
          <Text style={{ fontSize: 20 }}>{reactionEmoji(t)}</Text>
        </Pressable>
      ))}
    </View>
  );
}

/** Props of {@link ReactionList}. */
export interface ReactionListProps {
  message: LocalMessage;
  /** Add or take away the viewer's reaction of a type. */
  onToggle(type: string): void;
}

/** The reactions a message has, with counts; the viewer's own stand out; pressing one toggles it. */
export function ReactionList({ message, onToggle }: ReactionListProps) {
  const palette = usePalette();
  const entries = Object.entries(message.reactions ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) return null;
  return (
    <View style={{ flexDirection: 'row', flexWrap: 'wrap', gap: 4, marginTop: 4 }}>
      {entries.map(([type, count]) => {
        const mine = message.own_reactions.includes(type);
        return (
          <Pressable
            key={type}
            role="button"
            accessibilityLabel={`${type} reaction, ${count}${mine ? ', yours' : ''}`}
            accessibilityState={{ selected: mine }}
            onPress={() => onToggle(type)}
            style={{
              flexDirection: 'row',
              alignItems: 'center',
              gap: 4,
              paddingHorizontal: 8,
              paddingVertical: 2,
              borderRadius: 12,
              borderWidth: 1,
              borderColor: mine ? palette.accent : palette.border,
              backgroundColor: mine ? palette.mine : palette.surface,
            }}
          >
            <Text>{reactionEmoji(type)}</Text>
            <Text style={{ color: palette.text, fontSize: 12 }}>{count}</Text>
          </Pressable>
        );
      })}
    </View>
  );
}
