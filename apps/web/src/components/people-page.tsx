/**
 * The People page (`/w/<id>/people`): everyone in the workspace from the directory
 * (`client.queryPeople`), searched as you type, filtered by role (and, for admins, the
 * deactivated), by title and by the custom fields the viewer may see (a choice by its option,
 * text and links by the start of the value), with each person's live
 * presence, status and local time. A click opens their profile beside the list.
 */
import { keepLoading } from '@parley/client';
import { MAX_PEOPLE_FIELD_FILTERS, type Person, type ProfileField } from '@parley/protocol';
import { Avatar, localTime, PresenceDot, useChatClient, useClientState, useWatchPresence } from '@parley/react';
import { useEffect, useState } from 'react';
import { GroupsTab } from './groups-tab.js';
import { CloseIcon } from './icons.js';
import { NavButton } from './nav-button.js';
import { ProfilePanel } from './profile-panel.js';

type Filter = 'all' | 'admin' | 'moderator' | 'user' | 'guest' | 'deactivated';

const FILTERS: { value: Filter; label: string; admin?: boolean }[] = [
  { value: 'all', label: 'Everyone' },
  { value: 'admin', label: 'Admins' },
  { value: 'moderator', label: 'Moderators' },
  { value: 'user', label: 'Members' },
  { value: 'guest', label: 'Guests' },
  { value: 'deactivated', label: 'Deactivated', admin: true },
];

const PRESENCE_TEXT = { online: 'Active', away: 'Away', busy: 'Do not disturb', offline: 'Offline' } as const;

/** The current minute, re-rendering when it turns (local times stay right on an open page). */
function useMinute(): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(t);
  }, []);
  return now;
}

function PersonRow({
  person,
  now,
  selected,
  onSelect,
}: {
  person: Person;
  now: Date;
  selected: boolean;
  onSelect(): void;
}) {
  // The live user (presence and status change while the page is open) over the page's copy.
  const live = useClientState((s) => s.users[person.id]);
  const presence = live?.presence ?? person.presence ?? 'offline';
  const status = live?.status ?? person.status;
  const clock = localTime(person.time_zone, now);
  const time = clock && `${clock} local time`;
  return (
    <li>
      <button
        type="button"
        className={`app-person${selected ? ' app-person--selected' : ''}`}
        onClick={onSelect}
        data-testid={`person-${person.id}`}
        data-presence={presence}
      >
        <span className="app-avatar-with-dot">
          <Avatar user={live ?? person} id={person.id} size={40} />
          <PresenceDot presence={presence} className="app-avatar-with-dot__dot" />
        </span>
        <span className="app-person__text">
          <span className="app-person__name">
            {live?.name ?? person.name}
            {(live ?? person).username ? <span className="app-muted"> @{(live ?? person).username}</span> : null}
            {person.role === 'guest' ? <span className="app-person__tag">Guest</span> : null}
            {person.role === 'admin' ? <span className="app-person__tag">Admin</span> : null}
            {person.deactivated ? <span className="app-person__tag app-person__tag--off">Deactivated</span> : null}
          </span>
          <span className="app-person__meta">
            <span>{PRESENCE_TEXT[presence]}</span>
            {status?.text ? (
              <span>
                {status.emoji ? `${status.emoji} ` : ''}
                {status.text}
              </span>
            ) : null}
            {time ? <span>{time}</span> : null}
            {person.email ? <span className="app-person__email">{person.email}</span> : null}
          </span>
        </span>
      </button>
    </li>
  );
}

export function PeoplePage({
  isAdmin,
  onOpenConversation,
  onOpenNav,
}: {
  isAdmin: boolean;
  onOpenConversation(cid: string): void;
  onOpenNav(): void;
}) {
  const client = useChatClient();
  const [q, setQ] = useState('');
  const [filter, setFilter] = useState<Filter>('all');
  const [title, setTitle] = useState('');
  /** Field id → the option picked or the text typed ('' or absent: any). */
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [refineFields, setRefineFields] = useState<ProfileField[]>([]);
  const [people, setPeople] = useState<Person[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [tab, setTab] = useState<'people' | 'groups'>('people');
  const now = useMinute();
  useWatchPresence(people.map((p) => p.id));

  // The fields this viewer may see (the server leaves out admins-only ones for members).
  useEffect(() => {
    let live = true;
    const stop = keepLoading(() => client.profiles.fields().then((f) => live && setRefineFields(f)));
    return () => {
      live = false;
      stop();
    };
  }, [client]);

  const fieldFilters = Object.fromEntries(
    Object.entries(picked)
      .map(([id, v]) => [id, v.trim()] as const)
      .filter(([, v]) => v),
  );
  const fieldKey = JSON.stringify(fieldFilters);
  const refined = title.trim() !== '' || Object.keys(fieldFilters).length > 0;
  const clearRefine = () => {
    setTitle('');
    setPicked({});
  };

  const query = (cursor: string | null) =>
    client.queryPeople({
      q: q.trim() || undefined,
      title: title.trim() || undefined,
      fields: fieldFilters,
      role: filter === 'all' || filter === 'deactivated' ? undefined : filter,
      deactivated: filter === 'deactivated' || undefined,
      cursor,
      limit: 50,
    });

  // A new search or filter starts over; the answer to an older one is dropped when it lands late.
  // Asked again after 1, 2, 4… 30 s while it fails on the network.
  // biome-ignore lint/correctness/useExhaustiveDependencies: query reads q, filter, title and the fields, the keys here
  useEffect(() => {
    let stale = false;
    setLoading(true);
    setError(null);
    const stop = keepLoading(
      () =>
        query(null)
          .then((r) => {
            if (stale) return;
            setPeople(r.people);
            setNext(r.next);
            setError(null);
          })
          .finally(() => !stale && setLoading(false)),
      { onError: (e) => !stale && setError(e instanceof Error ? e.message : String(e)) },
    );
    return () => {
      stale = true;
      stop();
    };
  }, [client, q, filter, title, fieldKey]);

  const more = () => {
    if (!next) return;
    setLoading(true);
    query(next)
      .then((r) => {
        setPeople((list) => [...list, ...r.people]);
        setNext(r.next);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setLoading(false));
  };

  return (
    <div className="app-people-layout">
      <section className="app-people" aria-label="People">
        <header className="app-channel-header">
          <NavButton onClick={onOpenNav} />
          <div className="app-channel-header__main">
            <h1 className="app-channel-header__name">People</h1>
          </div>
          <div className="app-people__filters" role="tablist" aria-label="People or groups">
            {(['people', 'groups'] as const).map((t) => (
              <button
                key={t}
                type="button"
                role="tab"
                aria-selected={tab === t}
                className={`app-people__filter${tab === t ? ' app-people__filter--on' : ''}`}
                onClick={() => setTab(t)}
                data-testid={`people-tab-${t}`}
              >
                {t === 'people' ? 'People' : 'Groups'}
              </button>
            ))}
          </div>
        </header>
        {tab === 'groups' ? <GroupsTab /> : null}
        {tab === 'people' ? (
          <div className="app-people__controls">
            <input
              type="search"
              className="app-input app-people__search"
              placeholder={
                // Emails are searched by whoever is shown them (admins; members where the workspace says so).
                isAdmin || people.some((p) => p.email !== undefined)
                  ? 'Search by name, username, title or email'
                  : 'Search by name, username or title'
              }
              aria-label="Search people"
              value={q}
              onChange={(e) => setQ(e.target.value)}
              data-testid="people-search"
            />
            <fieldset className="app-people__refine" aria-label="Filter people">
              <input
                type="search"
                className="app-input app-people__refine-title"
                placeholder="Filter by title"
                aria-label="Filter by title"
                maxLength={100}
                value={title}
                onChange={(e) => setTitle(e.target.value)}
                data-testid="people-title"
              />
              {refineFields.map((f) => {
                const value = picked[f.id] ?? '';
                const full = !value.trim() && Object.keys(fieldFilters).length >= MAX_PEOPLE_FIELD_FILTERS;
                const pick = (v: string) => setPicked((p) => ({ ...p, [f.id]: v }));
                if (f.kind !== 'choice')
                  return (
                    <input
                      key={f.id}
                      type="search"
                      className={`app-input app-people__refine-field${value.trim() ? ' app-people__refine-field--on' : ''}`}
                      placeholder={`Filter by ${f.name.toLowerCase()}`}
                      aria-label={`Filter by ${f.name}`}
                      title={full ? `At most ${MAX_PEOPLE_FIELD_FILTERS} field filters at once` : undefined}
                      maxLength={200}
                      value={value}
                      disabled={full}
                      onChange={(e) => pick(e.target.value)}
                      data-testid={`people-field-${f.id}`}
                    />
                  );
                return (
                  <select
                    key={f.id}
                    className={`app-input app-people__refine-field${value ? ' app-people__refine-field--on' : ''}`}
                    aria-label={`Filter by ${f.name}`}
                    value={value}
                    disabled={full}
                    title={full ? `At most ${MAX_PEOPLE_FIELD_FILTERS} field filters at once` : undefined}
                    onChange={(e) => pick(e.target.value)}
                    data-testid={`people-field-${f.id}`}
                  >
                    <option value="">Any {f.name.toLowerCase()}</option>
                    {f.options.map((o) => (
                      <option key={o} value={o}>
                        {f.name}: {o}
                      </option>
                    ))}
                  </select>
                );
              })}
              {refined ? (
                <button
                  type="button"
                  className="app-button app-people__refine-clear"
                  onClick={clearRefine}
                  data-testid="people-clear-filters"
                >
                  Clear filters
                </button>
              ) : null}
            </fieldset>
            <fieldset className="app-people__filters" aria-label="Show">
              {FILTERS.filter((f) => !f.admin || isAdmin).map((f) => (
                <button
                  key={f.value}
                  type="button"
                  aria-pressed={filter === f.value}
                  className={`app-people__filter${filter === f.value ? ' app-people__filter--on' : ''}`}
                  onClick={() => setFilter(f.value)}
                >
                  {f.label}
                </button>
              ))}
            </fieldset>
          </div>
        ) : null}
        {error ? (
          <p className="app-form__error" role="alert">
            {error}
          </p>
        ) : null}
        <ul
          className="app-people__list"
          aria-label="People"
          aria-busy={loading}
          data-testid="people-list"
          style={tab === 'people' ? undefined : { display: 'none' }}
        >
          {people.map((p) => (
            <PersonRow
              key={p.id}
              person={p}
              now={now}
              selected={selected === p.id}
              onSelect={() => setSelected(p.id)}
            />
          ))}
        </ul>
        {tab === 'people' && !loading && people.length === 0 && !error ? (
          <p className="app-muted app-people__empty">No one matches.</p>
        ) : null}
        {tab === 'people' && next ? (
          <button type="button" className="app-button app-people__more" disabled={loading} onClick={more}>
            Show more
          </button>
        ) : null}
      </section>
      {selected ? (
        <aside className="app-panel" aria-label="Profile">
          <header className="app-panel__header">
            <h2 className="app-panel__title">Profile</h2>
            <button
              type="button"
              className="app-icon-button"
              aria-label="Close panel"
              onClick={() => setSelected(null)}
            >
              <CloseIcon />
            </button>
          </header>
          <div className="app-panel__body">
            <ProfilePanel userId={selected} onOpenConversation={onOpenConversation} />
          </div>
        </aside>
      ) : null}
    </div>
  );
}
