/**
 * A message's actions on a touch screen: a long press on the message opens them in a sheet from
 * the bottom of the screen (reactions first, then one row per action), where a mouse gets the
 * hover toolbar. The sheet is a modal dialog: focus moves into it and returns when it closes,
 * Escape or a tap beside it closes it.
 */
import type { CustomEmoji } from '@parley/protocol';
import {
  type MouseEvent as ReactMouseEvent,
  type ReactNode,
  type PointerEvent as ReactPointerEvent,
  useEffect,
  useId,
  useRef,
} from 'react';
import { createPortal } from 'react-dom';
import { cx } from './format.js';
import { ReactionPicker } from './reaction-picker.js';

/** One action of a message: a button of the hover toolbar, a row of the sheet. */
export interface SheetAction {
  key: string;
  /** The toolbar button's accessible name, and the sheet row's text. */
  label: string;
  icon: ReactNode;
  onSelect(): void;
  /** A toggle that is on (saved, pinned). */
  pressed?: boolean;
  /** Opens something inline (the reminder choices) that is open. */
  expanded?: boolean;
  danger?: boolean;
}

/** How long a finger rests on a message before its actions open (ms); about what phones use. */
const HOLD_MS = 450;
/** A finger that moves further than this (px) is scrolling, not pressing. */
const SLOP_PX = 10;

/**
 * Handlers that call `onLongPress` when a touch rests on the element: not for a mouse or a pen,
 * not when the finger moves (a scroll) or lifts first, and not when it starts on a link or a
 * field (their own long press: the browser's link menu, text selection). The click that ends a
 * long press and the browser's own context menu are swallowed.
 */
export function useLongPress(onLongPress: () => void) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const start = useRef<{ x: number; y: number } | null>(null);
  const fired = useRef(false);
  const latest = useRef(onLongPress);
  latest.current = onLongPress;
  const cancel = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
    start.current = null;
  };
  // A row that goes away while a finger rests on it leaves no timer behind.
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return {
    onPointerDown(e: ReactPointerEvent) {
      cancel();
      fired.current = false;
      if (e.pointerType !== 'touch') return;
      if ((e.target as Element).closest('a, input, textarea, select, video, audio, [contenteditable="true"]')) return;
      start.current = { x: e.clientX, y: e.clientY };
      timer.current = setTimeout(() => {
        timer.current = null;
        fired.current = true;
        navigator.vibrate?.(8);
        latest.current();
      }, HOLD_MS);
    },
    onPointerMove(e: ReactPointerEvent) {
      const s = start.current;
      if (s && Math.hypot(e.clientX - s.x, e.clientY - s.y) > SLOP_PX) cancel();
    },
    onPointerUp: cancel,
    onPointerCancel: cancel,
    onClickCapture(e: ReactMouseEvent) {
      if (!fired.current) return;
      fired.current = false;
      e.preventDefault();
      e.stopPropagation();
    },
    onContextMenu(e: ReactMouseEvent) {
      if (timer.current || fired.current) e.preventDefault();
    },
  };
}

/** Props of {@link MessageSheet}. */
export interface MessageSheetProps {
  /** The message's element: the sheet opens inside the kit's root around it (its theme). */
  anchor: Element | null;
  /** Who wrote what, shown at the top of the sheet. */
  summary: string;
  /** The reactions to offer (null: the user may not react here). */
  reactions: { selected: readonly string[]; custom: readonly CustomEmoji[]; onPick(type: string): void } | null;
  actions: readonly SheetAction[];
  onClose(): void;
}

/** A message's actions in a bottom sheet (see the module comment). */
export function MessageSheet({ anchor, summary, reactions, actions, onClose }: MessageSheetProps) {
  const panel = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    panel.current?.querySelector<HTMLElement>('button')?.focus({ preventScroll: true });
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      closeRef.current();
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      before?.focus?.({ preventScroll: true });
    };
  }, []);
  const root = anchor?.closest('.parley') ?? document.body;
  const choose = (a: SheetAction) => {
    onClose();
    a.onSelect();
  };
  return createPortal(
    <div className="parley-sheet">
      <button type="button" className="parley-sheet__scrim" aria-label="Close" tabIndex={-1} onClick={onClose} />
      <div ref={panel} className="parley-sheet__panel" role="dialog" aria-modal="true" aria-labelledby={titleId}>
        <h2 id={titleId} className="parley-sheet__title">
          Message actions
        </h2>
        <p className="parley-sheet__summary">{summary}</p>
        {reactions ? (
          <ReactionPicker
            className="parley-sheet__reactions"
            selected={reactions.selected}
            custom={reactions.custom}
            columns={4}
            autoFocus={false}
            onPick={(type) => {
              onClose();
              reactions.onPick(type);
            }}
            closeOnPick={false}
          />
        ) : null}
        <ul className="parley-sheet__actions">
          {actions.map((a) => (
            <li key={a.key}>
              <button
                type="button"
                className={cx('parley-sheet__action', a.danger && 'parley-sheet__action--danger')}
                aria-pressed={a.pressed}
                onClick={() => choose(a)}
              >
                <span className="parley-sheet__icon">{a.icon}</span>
                <span>{a.label}</span>
              </button>
            </li>
          ))}
        </ul>
        <button type="button" className="parley-sheet__cancel" onClick={onClose}>
          Cancel
        </button>
      </div>
    </div>,
    root,
  );
}
