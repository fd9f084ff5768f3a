/**
 * A dropdown menu: a trigger button and a list of actions. Arrow keys move, Escape closes
 * and returns focus to the trigger, a click outside closes.
 */
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';

export interface MenuItem {
  label: string;
  onSelect(): void;
  /** Shown under the label, smaller. */
  hint?: string;
  danger?: boolean;
}

export interface MenuProps {
  /** The trigger's content. */
  trigger: ReactNode;
  /** The trigger's accessible name, when its content is not text. */
  label?: string;
  items: (MenuItem | 'separator')[];
  /** Extra content at the top of the menu (e.g. who you are). */
  header?: ReactNode;
  className?: string;
  triggerClassName?: string;
  /** Where the menu opens relative to the trigger. */
  placement?: 'below' | 'above';
}

export function Menu({ trigger, label, items, header, className, triggerClassName, placement = 'below' }: MenuProps) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    list.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const onKeyDown = (e: KeyboardEvent) => {
    const entries = [...(list.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const i = entries.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      button.current?.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = entries.length;
      entries[(i + (e.key === 'ArrowDown' ? 1 : -1) + n) % n]?.focus();
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  };

  return (
    <div ref={root} className={`app-menu ${className ?? ''}`}>
      <button
        ref={button}
        type="button"
        className={triggerClassName}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        {...(label ? { 'aria-label': label } : {})}
        onClick={() => setOpen((o) => !o)}
      >
        {trigger}
      </button>
      {open ? (
        <div
          ref={list}
          id={id}
          role="menu"
          className={`app-menu__list app-menu__list--${placement}`}
          onKeyDown={onKeyDown}
        >
          {header ? <div className="app-menu__header">{header}</div> : null}
          {items.map((item, i) =>
            item === 'separator' ? (
              // biome-ignore lint/suspicious/noArrayIndexKey: separators have no identity
              <hr key={`sep-${i}`} className="app-menu__separator" />
            ) : (
              <button
                key={item.label}
                type="button"
                role="menuitem"
                tabIndex={-1}
                className={`app-menu__item${item.danger ? ' app-menu__item--danger' : ''}`}
                onClick={() => {
                  setOpen(false);
                  item.onSelect();
                }}
              >
                <span>{item.label}</span>
                {item.hint ? <span className="app-menu__hint">{item.hint}</span> : null}
              </button>
            ),
          )}
        </div>
      ) : null}
    </div>
  );
}
