/**
 * The pieces of `<ChannelList sections>`: the user's sidebar (`client.sidebar`) as a hook, a
 * small popup menu, the menu of a section (rename, sort, move, delete) and the menu of a row
 * (star, move to a section), which is how a keyboard moves what a mouse drags.
 */
import { keepLoading, type SidebarSections } from '@parley/client';
import type { Sidebar, SidebarSection, SidebarSort } from '@parley/protocol';
import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useChatClient } from './context.js';

/** The drag payload of a sidebar row: its cid. */
export const DRAG_TYPE = 'application/x-parley-cid';
/** The drag data type of a section (its id) being dragged to another place among the sections. */
export const SECTION_DRAG_TYPE = 'application/x-parley-section';

/** The section ids in order once `moving` is dropped before (or `after`) `target`. */
export function sectionOrderAfterDrop(
  ids: readonly string[],
  moving: string,
  target: string,
  after: boolean,
): string[] {
  if (moving === target || !ids.includes(moving) || !ids.includes(target)) return [...ids];
  const next = ids.filter((x) => x !== moving);
  next.splice(next.indexOf(target) + (after ? 1 : 0), 0, moving);
  return next;
}

/** The user's sidebar from `client.sidebar`, loaded on first use (null until it is). */
export function useSidebar(enabled = true): { sidebar: Sidebar | null; api: SidebarSections } {
  const client = useChatClient();
  const api = client.sidebar;
  const sidebar = useSyncExternalStore(
    (l) => api.state.subscribe(l),
    () => api.state.get().sidebar,
    () => api.state.get().sidebar,
  );
  useEffect(
    () => (enabled ? keepLoading(() => (api.state.get().sidebar ? Promise.resolve() : api.load())) : undefined),
    [api, enabled],
  );
  return { sidebar, api };
}

export interface MenuItem {
  label: string;
  /** For radio items: whether this one is chosen. */
  checked?: boolean;
  onSelect(): void;
}

/**
 * A popup menu: focus goes to its first item, arrow keys move, Enter chooses, Escape (or a
 * click outside) closes and gives focus back to `returnTo`.
 */
export function PopupMenu({
  label,
  items,
  onClose,
  returnTo,
}: {
  label: string;
  items: MenuItem[];
  onClose(): void;
  returnTo?: HTMLElement | null;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('[role^="menuitem"]')?.focus();
    const away = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    document.addEventListener('mousedown', away);
    return () => document.removeEventListener('mousedown', away);
  }, [onClose]);
  const close = () => {
    onClose();
    returnTo?.focus();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const all = [...(ref.current?.querySelectorAll<HTMLElement>('[role^="menuitem"]') ?? [])];
    const i = all.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown') all[(i + 1) % all.length]?.focus();
    else if (e.key === 'ArrowUp') all[(i - 1 + all.length) % all.length]?.focus();
    else if (e.key === 'Home') all[0]?.focus();
    else if (e.key === 'End') all.at(-1)?.focus();
    else if (e.key === 'Escape' || e.key === 'Tab') close();
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  return (
    <div ref={ref} role="menu" aria-label={label} className="parley-popup-menu" tabIndex={-1} onKeyDown={onKeyDown}>
      {items.map((it) => {
        const choose = (e: { stopPropagation(): void }) => {
          e.stopPropagation();
          close();
          it.onSelect();
        };
        return it.checked === undefined ? (
          <button
            key={it.label}
            type="button"
            role="menuitem"
            tabIndex={-1}
            className="parley-popup-menu__item"
            onClick={choose}
          >
            {it.label}
          </button>
        ) : (
          <button
            key={it.label}
            type="button"
            role="menuitemradio"
            aria-checked={it.checked}
            tabIndex={-1}
            className="parley-popup-menu__item"
            onClick={choose}
          >
            {it.label}
          </button>
        );
      })}
    </div>
  );
}

const SORTS: [SidebarSort, string][] = [
  ['manual', 'Sort: as arranged'],
  ['name', 'Sort: by name'],
  ['recent', 'Sort: by recent activity'],
];

/** The items of a section's menu. `rename` opens the inline rename field. */
export function sectionMenuItems(
  api: SidebarSections,
  sidebar: Sidebar,
  section: SidebarSection,
  rename: () => void,
  report: (e: unknown) => void,
): MenuItem[] {
  const ids = sidebar.sections.map((s) => s.id);
  const i = ids.indexOf(section.id);
  const move = (to: number) => {
    const next = ids.filter((x) => x !== section.id);
    next.splice(to, 0, section.id);
    api.reorder(next).catch(report);
  };
  const items: MenuItem[] = [];
  if (section.kind === 'custom') items.push({ label: 'Rename section', onSelect: rename });
  for (const [sort, label] of SORTS)
    items.push({
      label,
      checked: section.sort === sort,
      onSelect: () => void api.updateSection(section.id, { sort }).catch(report),
    });
  if (i > 0) items.push({ label: 'Move section up', onSelect: () => move(i - 1) });
  if (i < ids.length - 1) items.push({ label: 'Move section down', onSelect: () => move(i + 1) });
  items.push({
    label: section.kind === 'starred' ? 'Unstar all and remove' : 'Delete section',
    onSelect: () => void api.deleteSection(section.id).catch(report),
  });
  return items;
}

/** The items of a row's menu: star, and move to each other section or back to its group. */
export function rowMenuItems(
  api: SidebarSections,
  sidebar: Sidebar | null,
  cid: string,
  defaultGroup: string,
  report: (e: unknown) => void,
): MenuItem[] {
  const sections = sidebar?.sections ?? [];
  const here = sections.find((s) => s.cids.includes(cid)) ?? null;
  const starred = here?.kind === 'starred';
  const items: MenuItem[] = [
    { label: starred ? 'Unstar' : 'Star', onSelect: () => void api.star(cid, !starred).catch(report) },
  ];
  for (const s of sections)
    if (s.kind === 'custom' && s.id !== here?.id)
      items.push({ label: `Move to ${s.name}`, onSelect: () => void api.place(cid, s.id).catch(report) });
  if (here) items.push({ label: `Move to ${defaultGroup}`, onSelect: () => void api.place(cid, null).catch(report) });
  return items;
}

/** An inline text field (new section, rename): Enter saves, Escape cancels. */
export function InlineName({
  label,
  initial = '',
  onSave,
  onCancel,
}: {
  label: string;
  initial?: string;
  onSave(name: string): void;
  onCancel(): void;
}): ReactNode {
  const [name, setName] = useState(initial);
  return (
    <form
      className="parley-section-name"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) onSave(name.trim());
      }}
    >
      <input
        // biome-ignore lint/a11y/noAutofocus: the field opens on the user's request
        autoFocus
        className="parley-input parley-section-name__input"
        aria-label={label}
        maxLength={80}
        value={name}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onCancel();
          }
        }}
        onBlur={() => (name.trim() && name.trim() !== initial ? onSave(name.trim()) : onCancel())}
      />
    </form>
  );
}
