/**
 * The Groups tab of the People page: the workspace's user groups (`client.groups`, live from
 * `user_group.updated`), searched by handle or name; admins (or everyone, when the workspace
 * allows it: the server says FORBIDDEN otherwise) create groups and add or remove members.
 * `@handle` in a message mentions a group's members who can read the channel.
 */
import type { User, UserGroup } from '@parley/protocol';
import { useChatClient, useClientState } from '@parley/react';
import { type FormEvent, useEffect, useState, useSyncExternalStore } from 'react';
import { UserPicker } from './user-picker.js';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

function useGroups(): UserGroup[] {
  const client = useChatClient();
  return useSyncExternalStore(
    (l) => client.groups.state.subscribe(l),
    () => client.groups.state.get().groups,
    () => client.groups.state.get().groups,
  );
}

function GroupCard({ group }: { group: UserGroup }) {
  const client = useChatClient();
  const users = useClientState((s) => s.users);
  const [adding, setAdding] = useState<User[]>([]);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const change = (body: { add?: string[]; remove?: string[] }) =>
    client.groups
      .members(group.id, body)
      .then(() => setError(null))
      .catch((e: unknown) => setError(message(e)));
  return (
    <li className="app-group" data-testid={`group-${group.handle}`}>
      <div className="app-group__head">
        <strong>@{group.handle}</strong>
        <span>{group.name}</span>
        <span className="app-muted">
          {group.member_count} member{group.member_count === 1 ? '' : 's'}
        </span>
        <button type="button" className="app-button app-group__edit" onClick={() => setEditing((e) => !e)}>
          {editing ? 'Done' : 'Edit members'}
        </button>
      </div>
      {group.description ? <p className="app-muted">{group.description}</p> : null}
      <ul className="app-group__members" aria-label={`Members of @${group.handle}`}>
        {group.members.map((id) => (
          <li key={id} className="app-group__member">
            {users[id]?.name ?? id}
            {editing ? (
              <button
                type="button"
                aria-label={`Remove ${users[id]?.name ?? id} from @${group.handle}`}
                onClick={() => void change({ remove: [id] })}
              >
                ×
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {editing ? (
        <div className="app-groups__form">
          <UserPicker
            selected={adding}
            onChange={setAdding}
            exclude={group.members}
            label={`Add people to @${group.handle}`}
            placeholder="Add people"
            max={50}
          />
          <button
            type="button"
            className="app-button"
            disabled={adding.length === 0}
            onClick={() => {
              void change({ add: adding.map((u) => u.id) }).then(() => setAdding([]));
            }}
          >
            Add
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}

export function GroupsTab() {
  const client = useChatClient();
  const groups = useGroups();
  const [q, setQ] = useState('');
  const [handle, setHandle] = useState('');
  const [name, setName] = useState('');
  const [members, setMembers] = useState<User[]>([]);
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void client.groups.load().catch((e: unknown) => setError(message(e)));
  }, [client]);
  const shown = groups.filter(
    (g) =>
      !q.trim() ||
      g.handle.toLowerCase().startsWith(q.trim().toLowerCase()) ||
      g.name.toLowerCase().startsWith(q.trim().toLowerCase()),
  );
  const create = (e: FormEvent) => {
    e.preventDefault();
    client.groups
      .create({ handle: handle.trim(), name: name.trim() || handle.trim(), members: members.map((u) => u.id) })
      .then(() => {
        setHandle('');
        setName('');
        setMembers([]);
        setCreating(false);
        setError(null);
      })
      .catch((err: unknown) => setError(message(err)));
  };
  return (
    <div className="app-groups" data-testid="groups-tab">
      <input
        type="search"
        className="app-input"
        placeholder="Search groups"
        aria-label="Search groups"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      {creating ? null : (
        <button type="button" className="app-button app-button--primary" onClick={() => setCreating(true)}>
          New group
        </button>
      )}
      {creating ? (
        <form className="app-groups__form" onSubmit={create} aria-label="New group">
          <input
            className="app-input"
            placeholder="handle, e.g. designers"
            aria-label="Group handle"
            value={handle}
            onChange={(e) => setHandle(e.target.value)}
          />
          <input
            className="app-input"
            placeholder="Name"
            aria-label="Group name"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
          <UserPicker selected={members} onChange={setMembers} label="Group members" placeholder="Members" max={50} />
          <button type="submit" className="app-button app-button--primary" disabled={!handle.trim()}>
            Create group
          </button>
        </form>
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <ul className="app-groups__list" aria-label="Groups">
        {shown.map((g) => (
          <GroupCard key={g.id} group={g} />
        ))}
      </ul>
      {shown.length === 0 ? <p className="app-muted">No groups yet.</p> : null}
    </div>
  );
}
