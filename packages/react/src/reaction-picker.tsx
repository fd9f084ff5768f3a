/**
 * Reaction types and the picker. A reaction's wire `type` is a short name (`like`, `love`, …);
 * known names show as emoji glyphs (@parley/client's REACTION_EMOJI), unknown ones as `:name:`.
 */
import { REACTION_EMOJI, reactionEmoji } from '@parley/client';
import type { CustomEmoji } from '@parley/protocol';
import { type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { cx } from './format.js';

export { REACTION_EMOJI, reactionEmoji };

/** The types the picker offers, in order. */
export const DEFAULT_REACTIONS: readonly string[] = [
  'like',
  'love',
  'laugh',
  'wow',
  'sad',
  'angry',
  'celebrate',
  'thumbsdown',
];

/** Props of {@link ReactionPicker}. */
export interface ReactionPickerProps {
  /** Called with the chosen type. */
  onPick(type: string): void;
  /** Called on Escape (and after a pick when `closeOnPick`). */
  onClose?(): void;
  /** Types the user has already reacted with (shown pressed). */
  selected?: readonly string[];
  /** Types to offer; default {@link DEFAULT_REACTIONS}. */
  types?: readonly string[];
  /** The app's custom emoji, offered after `types` as `:shortcode:` reactions. */
  custom?: readonly CustomEmoji[];
  /** Grid columns for arrow-key movement; default 4. */
  columns?: number;
  /** Focus the first option when shown; default true. */
  autoFocus?: boolean;
  /** Close after a pick; default true. */
  closeOnPick?: boolean;
  className?: string;
}

/**
 * A small grid of reactions. Keyboard: arrow keys move (by row and column), Home/End jump,
 * Enter/Space pick, Escape closes. One option is in the tab order at a time.
 */
export function ReactionPicker({
  onPick,
  onClose,
  selected = [],
  types: baseTypes = DEFAULT_REACTIONS,
  custom = [],
  columns = 4,
  autoFocus = true,
  closeOnPick = true,
  className,
}: ReactionPickerProps) {
  const [active, setActive] = useState(0);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const images = new Map(custom.map((e) => [`:${e.shortcode}:`, e.url]));
  const types = [...baseTypes, ...images.keys()];

  useEffect(() => {
    if (autoFocus) refs.current[0]?.focus();
  }, [autoFocus]);

  const move = (i: number) => {
    const n = types.length;
    const next = ((i % n) + n) % n;
    setActive(next);
    refs.current[next]?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    switch (e.key) {
      case 'ArrowRight':
        move(active + 1);
        break;
      case 'ArrowLeft':
        move(active - 1);
        break;
      case 'ArrowDown':
        move(Math.min(active + columns, types.length - 1));
        break;
      case 'ArrowUp':
        move(Math.max(active - columns, 0));
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(types.length - 1);
        break;
      case 'Escape':
        onClose?.();
        break;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
  };

  const pick = (type: string) => {
    onPick(type);
    if (closeOnPick) onClose?.();
  };

  return (
    <div
      className={cx('parley-reaction-picker', className)}
      role="toolbar"
      aria-label="Add a reaction"
      aria-orientation="horizontal"
      onKeyDown={onKeyDown}
      style={{ gridTemplateColumns: `repeat(${columns}, 1fr)` }}
    >
      {types.map((type, i) => (
        <button
          key={type}
          ref={(el) => {
            refs.current[i] = el;
          }}
          type="button"
          className="parley-reaction-picker__option"
          tabIndex={i === active ? 0 : -1}
          aria-label={type}
          aria-pressed={selected.includes(type)}
          title={type}
          onClick={() => pick(type)}
          onFocus={() => setActive(i)}
        >
          {images.has(type) ? (
            <img className="parley-emoji" src={images.get(type)} alt="" />
          ) : (
            <span aria-hidden="true">{reactionEmoji(type)}</span>
          )}
        </button>
      ))}
    </div>
  );
}
