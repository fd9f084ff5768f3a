/** Reaction types as people see them: the glyph each known name stands for. */
/**
 * Emoji glyphs for the reaction types the UI kits know (@parley/react, @parley/react-native):
 * Parley's own names and those Slack and Mattermost use, as imported reactions carry them.
 */
export const REACTION_EMOJI: Readonly<Record<string, string>> = {
  like: '👍',
  thumbsup: '👍',
  love: '❤️',
  laugh: '😂',
  wow: '😮',
  sad: '😢',
  angry: '😠',
  celebrate: '🎉',
  thumbsdown: '👎',
  eyes: '👀',
  fire: '🔥',
  check: '✅',
  '+1': '👍',
  '-1': '👎',
  heart: '❤️',
  joy: '😂',
  tada: '🎉',
  open_mouth: '😮',
  cry: '😢',
  rage: '😡',
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  100: '💯',
  pray: '🙏',
  clap: '👏',
  raised_hands: '🙌',
  rocket: '🚀',
  smile: '😄',
  slightly_smiling_face: '🙂',
  thinking_face: '🤔',
  ok_hand: '👌',
  wave: '👋',
  muscle: '💪',
  star: '⭐',
  sparkles: '✨',
  heart_eyes: '😍',
  sweat_smile: '😅',
  see_no_evil: '🙈',
};

/** The glyph for a reaction type, or `:type:` when it has none. */
export function reactionEmoji(type: string): string {
  return REACTION_EMOJI[type] ?? `:${type}:`;
}
