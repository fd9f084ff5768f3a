/**
 * Every channel of the workspace (`GET /v1/channels`: members or not, no DMs), by name, with its
 * type, member count and moderation state, filtered by words, type and state, a page at a time.
 * Each row edits the channel's moderation settings in place with the fields and the call of the
 * channel's own "Moderation settings" dialog (screens/moderation/moderation-fields.tsx); the
 * row then shows what the server answered.
 */
import { ADMIN_CHANNEL_STATES, ADMIN_CHANNEL_TYPES, type AdminChannelsQuery, type Channel } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { type ModerationChange, ModerationFields, slowModeLabel } from '../screens/moderation/moderation-fields.js';
import type { AdminTabProps } from './tab-props.js';

const PAGE = 50;
const TYPE_LABELS: Record<(typeof ADMIN_CHANNEL_TYPES)[number], string> = {
  public: 'Public',
  announcement: 'Announcement',
  group: 'Private',
};
const STATE_LABELS: Record<(typeof ADMIN_CHANNEL_STATES)[number], string> = {
  frozen: 'Frozen',
  slow_mode: 'In slow mode',
};
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const nameOf = (c: Channel) => c.name ?? c.id;

/**
 * A page read before a change made here but answered after it must not put the old settings
 * back: of the listed row and the one the change answered, the later `updated_at` wins.
 */
function fresher(saved: Map<string, Channel>, c: Channel): Channel {
  const s = saved.get(c.cid);
  return s && Date.parse(s.updated_at) > Date.parse(c.updated_at) ? { ...c, ...s } : c;
}

export function ChannelsTab(_: AdminTabProps) {
  const client = useChatClient();
  const [filter, setFilter] = useState<AdminChannelsQuery>({});
  const [channels, setChannels] = useState<Channel[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Typing in the filter starts a load per keystroke: only the latest one's answer is shown.
  const latest = useRef(0);
  // What rows answered when changed here (see `fresher`).
  const saved = useRef(new Map<string, Channel>());

  const load = useCallback(
    async (cursor: string | null) => {
      const ticket = ++latest.current;
      setBusy(true);
      setError(null);
      try {
        const r = await client.admin.channels({ ...filter, limit: PAGE, ...(cursor ? { cursor } : {}) });
        if (ticket !== latest.current) return;
        const page = r.channels.map((c) => fresher(saved.current, c));
        setChannels((old) => (cursor && old ? [...old, ...page] : page));
        setNext(r.next);
      } catch (e) {
        if (ticket === latest.current) setError(message(e));
      } finally {
        if (ticket === latest.current) setBusy(false);
      }
    },
    [client, filter],
  );
  useEffect(() => {
    void load(null);
  }, [load]);

  const replace = (c: Channel) => {
    saved.current.set(c.cid, c);
    setChannels((list) => list?.map((x) => (x.cid === c.cid ? { ...x, ...c } : x)) ?? list);
  };
  const set = <K extends keyof AdminChannelsQuery>(k: K, v: string) =>
    setFilter((f) => ({ ...f, [k]: v.trim() === '' ? undefined : v }));

  return (
    <div className="app-admin-channels">
      <form
        className="app-audit__filters"
        aria-label="Filter the channels"
        onSubmit={(e) => {
          e.preventDefault();
          void load(null);
        }}
      >
        <label className="app-field">
          <span className="app-field__label">Name</span>
          <input
            className="app-input"
            type="search"
            value={filter.q ?? ''}
            placeholder="words in the name or id"
            onChange={(e) => set('q', e.target.value)}
          />
        </label>
        <label className="app-field">
          <span className="app-field__label">Type</span>
          <select className="app-input" value={filter.type ?? ''} onChange={(e) => set('type', e.target.value)}>
            <option value="">All types</option>
            {ADMIN_CHANNEL_TYPES.map((t) => (
              <option key={t} value={t}>
                {TYPE_LABELS[t]}
              </option>
            ))}
          </select>
        </label>
        <label className="app-field">
          <span className="app-field__label">State</span>
          <select className="app-input" value={filter.state ?? ''} onChange={(e) => set('state', e.target.value)}>
            <option value="">Any state</option>
            {ADMIN_CHANNEL_STATES.map((s) => (
              <option key={s} value={s}>
                {STATE_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
      </form>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {channels === null ? (
        <p className="app-muted">Loading…</p>
      ) : channels.length === 0 ? (
        <p className="app-muted">No channels{filter.q || filter.type || filter.state ? ' match' : ''}.</p>
      ) : (
        // `data-loaded`: the list shows the answer to the current filter (tests wait on it).
        <ul className="app-roster" aria-label="Channels" data-testid="admin-channels" data-loaded={!busy}>
          {channels.map((c) => (
            <ChannelRow key={c.cid} channel={c} onSaved={replace} />
          ))}
        </ul>
      )}
      {next ? (
        <div className="app-row app-row--end">
          <button
            type="button"
            className="app-button app-button--small"
            disabled={busy}
            onClick={() => void load(next)}
          >
            Load more
          </button>
        </div>
      ) : null}
    </div>
  );
}

function ChannelRow({ channel: c, onSaved }: { channel: Channel; onSaved(c: Channel): void }) {
  const client = useChatClient();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const change = (fields: ModerationChange) => {
    setError(null);
    setSaving(true);
    client
      .channel(c.type, c.id)
      .update(fields)
      .then(onSaved, (e: unknown) => setError(message(e)))
      .finally(() => setSaving(false));
  };
  const name = nameOf(c);
  return (
    <li
      className="app-roster__row"
      data-testid={`admin-channel-${c.cid}`}
      data-frozen={!!c.frozen}
      data-saving={saving}
    >
      <div className="app-roster__main">
        <span className="app-roster__text">
          <span className="app-roster__name">
            {c.type === 'public' || c.type === 'announcement' ? '#' : ''}
            {name}
            {c.frozen ? <span className="app-badge app-badge--danger"> Frozen</span> : null}
            {c.slow_mode_s ? <span className="app-badge"> Slow mode: {slowModeLabel(c.slow_mode_s)}</span> : null}
            {c.archived ? <span className="app-badge"> Archived</span> : null}
          </span>
          <span className="app-roster__email">
            {TYPE_LABELS[c.type as keyof typeof TYPE_LABELS] ?? c.type} · {c.member_count}{' '}
            {c.member_count === 1 ? 'member' : 'members'} · {c.cid}
          </span>
        </span>
        <ModerationFields settings={c} onChange={change} disabled={saving} compact channelName={name} />
      </div>
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}
