/** Ctrl/⌘+K: jump to any of your conversations by typing part of its name. */
import { channelDisplayName, useClientState, useMe } from '@parley/react';
import { type KeyboardEvent, useState } from 'react';
import { Modal } from '../components/modal.js';

export function QuickSwitcher({ onClose, onOpen }: { onClose(): void; onOpen(cid: string): void }) {
  const me = useMe();
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const all = useClientState((s) =>
    s.channelList.flatMap((cid) => {
      const c = s.channels[cid];
      if (!c) return [];
      const dm = c.channel.type === 'dm';
      const name = channelDisplayName(c, s, me);
      return [`${cid}\u0000${dm ? name : `#${name}`}\u0000${c.unreadCount}`];
    }),
  );
  const q = query.trim().toLowerCase().replace(/^#/, '');
  const rows = all
    .map((r) => {
      const [cid = '', label = '', unread = '0'] = r.split('\u0000');
      return { cid, label, unread: Number(unread) };
    })
    .filter((r) => !q || r.label.toLowerCase().replace(/^#/, '').includes(q))
    .slice(0, 12);
  const index = Math.min(active, Math.max(0, rows.length - 1));

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = rows.length || 1;
      setActive((index + (e.key === 'ArrowDown' ? 1 : -1) + n) % n);
    } else if (e.key === 'Enter') {
      const r = rows[index];
      if (r) {
        e.preventDefault();
        onOpen(r.cid);
      }
    }
  };

  return (
    <Modal title="Jump to a conversation" onClose={onClose} size="small">
      <input
        className="app-input"
        aria-label="Conversation name"
        placeholder="Type a channel or person"
        value={query}
        // biome-ignore lint/a11y/noAutofocus: the switcher exists to type into
        autoFocus
        onChange={(e) => {
          setQuery(e.target.value);
          setActive(0);
        }}
        onKeyDown={onKeyDown}
      />
      <ul className="app-switcher" aria-label="Conversations">
        {rows.map((r, i) => (
          <li key={r.cid}>
            <button
              type="button"
              className={`app-switcher__row${i === index ? ' app-switcher__row--active' : ''}`}
              onClick={() => onOpen(r.cid)}
              onMouseEnter={() => setActive(i)}
            >
              <span>{r.label}</span>
              {r.unread > 0 ? <span className="app-switcher__unread">{r.unread}</span> : null}
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
