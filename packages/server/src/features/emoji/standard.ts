/**
 * The standard emoji's short names: what `:smile:` means before any app adds its own. They come
 * from `@emoji-mart/data`, the data the client's picker shows (packages/react emoji-picker.tsx) —
 * the same package at the same version, so the server refuses exactly the names people see there:
 * each emoji's id (`smile`, `+1`, `thumbsup`…) and the data's aliases (`satisfied`…). Read on first
 * use, not at start: most servers never add an emoji.
 */
import { createRequire } from 'node:module';

interface EmojiMartNames {
  emojis: Record<string, unknown>;
  aliases: Record<string, string>;
}

let names: ReadonlySet<string> | null = null;

/** The standard short names, lower case. */
export function standardShortcodes(): ReadonlySet<string> {
  if (!names) {
    const data = createRequire(import.meta.url)('@emoji-mart/data') as EmojiMartNames;
    names = new Set([...Object.keys(data.emojis), ...Object.keys(data.aliases)].map((n) => n.toLowerCase()));
  }
  return names;
}
