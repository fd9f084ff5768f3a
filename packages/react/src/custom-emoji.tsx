/**
 * Custom emoji in the kit: the app's `:shortcode:` images (client.emoji). `useCustomEmoji()`
 * loads the list once per client and follows it live; `ReactionGlyph` shows a reaction type as
 * its glyph, or as the custom emoji's image when the type is `:shortcode:`. A removed emoji
 * falls back to its `:shortcode:` text, so old messages and reactions stay readable.
 */
import { keepLoading } from '@parley/client';
import type { CustomEmoji } from '@parley/protocol';
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { useChatClient } from './context.js';
import { reactionEmoji } from './reaction-picker.js';

/** The app's custom emoji, loaded on first use and kept current by `emoji.updated`. */
export function useCustomEmoji(): readonly CustomEmoji[] {
  const client = useChatClient();
  const list = useSyncExternalStore(
    (cb) => client.emoji.state.subscribe(cb),
    () => client.emoji.state.get().emoji,
    () => client.emoji.state.get().emoji,
  );
  // Until it loads (tried again while it fails on the network), text shows `:shortcode:` as typed.
  useEffect(() => keepLoading(() => client.emoji.load()), [client]);
  return list;
}

/** Name (shortcode or alias) → image URL, for the Markdown renderer. */
export function useEmojiMap(): Readonly<Record<string, string>> {
  const list = useCustomEmoji();
  return useMemo(() => emojiMap(list), [list]);
}

/** Name (shortcode or alias) → image URL. */
export function emojiMap(list: readonly CustomEmoji[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of list) {
    out[e.shortcode] = e.url;
    for (const a of e.aliases) out[a] ??= e.url;
  }
  return out;
}

/** The shortcode of a `:shortcode:` reaction type, or null. */
export function customCode(type: string): string | null {
  const m = /^:([a-z0-9_+-]{2,32}):$/.exec(type);
  return m ? (m[1] as string) : null;
}

/** A reaction type as shown: a custom emoji's image, a known glyph, or `:type:`. */
export function ReactionGlyph({ type, map }: { type: string; map: Readonly<Record<string, string>> }) {
  const code = customCode(type);
  const url = code ? map[code] : undefined;
  if (url) return <img className="parley-emoji parley-emoji--reaction" src={url} alt={type} title={type} />;
  return <span aria-hidden="true">{code ? type : reactionEmoji(type)}</span>;
}
