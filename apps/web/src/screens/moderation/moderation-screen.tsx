/**
 * The moderation screen for app moderators and admins (workspace owners and admins): the
 * moderation queue (review reports: remove the message, ban its author, dismiss), the app's
 * bans (lift them) and the automod block lists. Self-contained — it needs only the chat
 * client — so the admin console can show it as tabs (`ModerationQueue`, `BansAndBlockLists`).
 */
import type { AutomodSettings, Ban, Flag } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';
import { Modal } from '../../components/modal.js';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The open reports, newest first, each with its review buttons. */
export function ModerationQueue() {
  const client = useChatClient();
  const [flags, setFlags] = useState<Flag[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    client.moderation.queryFlags({ status: 'open', limit: 100 }).then(
      (r) => setFlags(r.flags),
      (e: unknown) => setError(message(e)),
    );
  }, [client]);
  useEffect(() => {
    load();
    // New reports arrive as flag.new: reload the queue.
    return client.on('flag.new', load);
  }, [client, load]);
  const review = (f: Flag, action: 'remove' | 'ban' | 'dismiss') => {
    setError(null);
    client.moderation
      .reviewFlag(f.id, action === 'ban' ? { action, ban: { reason: f.reason } } : { action })
      .then(load, (e: unknown) => setError(message(e)));
  };
  // A shadow ban: the author goes on posting, seen only by themselves and moderators; the
  // report is then closed (dismissed: the message stays, now from a shadow-banned author).
  const shadowBan = (f: Flag) => {
    setError(null);
    client.moderation
      .ban({ user_id: f.user_id, shadow: true, reason: f.reason })
      .then(() => client.moderation.reviewFlag(f.id, { action: 'dismiss' }))
      .then(load, (e: unknown) => setError(message(e)));
  };
  if (flags === null) return <p className="app-muted">{error ?? 'Loading…'}</p>;
  return (
    <div data-testid="moderation-queue">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {flags.length === 0 ? <p className="app-muted">No open reports.</p> : null}
      <ul className="app-roster">
        {flags.map((f) => (
          <li key={f.id} className="app-roster__row" data-testid={`flag-${f.id}`}>
            <div className="app-roster__main">
              <span className="app-roster__text">
                <span className="app-roster__name">
                  {f.message_id ? 'Message' : 'User'} by {f.user_id}
                  {f.cid ? <span className="app-muted"> in {f.cid}</span> : null}
                </span>
                {f.text ? <span className="app-roster__email">“{f.text}”</span> : null}
                <span className="app-muted">
                  {f.reported_by ? `Reported by ${f.reported_by}` : 'Flagged by automod'}: {f.reason}
                </span>
              </span>
            </div>
            <div className="app-row app-row--end">
              {f.message_id ? (
                <button type="button" className="app-button app-button--small" onClick={() => review(f, 'remove')}>
                  Remove message
                </button>
              ) : null}
              <button
                type="button"
                className="app-button app-button--small app-button--danger-outline"
                onClick={() => review(f, 'ban')}
              >
                Ban {f.user_id}
              </button>
              <button
                type="button"
                className="app-button app-button--small"
                title="They can go on posting, but only they and moderators see their new messages"
                onClick={() => shadowBan(f)}
              >
                Shadow-ban
              </button>
              <button type="button" className="app-button app-button--small" onClick={() => review(f, 'dismiss')}>
                Dismiss
              </button>
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}

const lines = (s: string) =>
  s
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean);

/** Standing bans (lift them) and the automod block lists (app admins change them). */
export function BansAndBlockLists() {
  const client = useChatClient();
  const [bans, setBans] = useState<Ban[]>([]);
  const [automod, setAutomod] = useState<AutomodSettings | null>(null);
  const [draft, setDraft] = useState({ words: '', patterns: '', domains: '' });
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const load = useCallback(() => {
    client.moderation.queryBans().then(setBans, (e: unknown) => setError(message(e)));
    client.moderation.getAutomod().then(
      (a) => {
        setAutomod(a);
        setDraft({
          words: a.blocked_words.join('\n'),
          patterns: a.blocked_patterns.join('\n'),
          domains: a.blocked_domains.join('\n'),
        });
      },
      (e: unknown) => setError(message(e)),
    );
  }, [client]);
  useEffect(load, [load]);
  const save = () => {
    if (!automod) return;
    setError(null);
    setSaved(false);
    client.moderation
      .setAutomod({
        ...automod,
        blocked_words: lines(draft.words),
        blocked_patterns: lines(draft.patterns),
        blocked_domains: lines(draft.domains),
      })
      .then(
        (a) => {
          setAutomod(a);
          setSaved(true);
        },
        (e: unknown) => setError(message(e)),
      );
  };
  return (
    <div data-testid="moderation-bans">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <h3>Bans</h3>
      {bans.length === 0 ? <p className="app-muted">Nobody is banned.</p> : null}
      <ul className="app-roster">
        {bans.map((b) => (
          <li key={`${b.user_id}:${b.cid ?? ''}`} className="app-roster__row" data-testid={`ban-${b.user_id}`}>
            <span className="app-roster__text">
              <span className="app-roster__name">
                {b.user_id} {b.cid ? `in ${b.cid}` : '(whole workspace)'}
                {b.shadow ? ' · shadow ban' : ''}
              </span>
              <span className="app-muted">
                {b.reason ?? 'No reason given'}
                {b.expires_at ? ` · until ${new Date(b.expires_at).toLocaleString()}` : ''}
              </span>
            </span>
            <button
              type="button"
              className="app-button app-button--small"
              onClick={() =>
                client.moderation.unban(b.user_id, b.cid ?? undefined).then(load, (e: unknown) => setError(message(e)))
              }
            >
              Lift ban
            </button>
          </li>
        ))}
      </ul>
      <h3>Block lists</h3>
      {automod ? (
        <form
          className="app-form"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          {(
            [
              ['words', 'Blocked words (one a line)'],
              ['patterns', 'Blocked patterns (regular expressions, one a line)'],
              ['domains', 'Blocked link domains (one a line)'],
            ] as const
          ).map(([key, label]) => (
            <label key={key} className="app-field">
              <span className="app-field__label">{label}</span>
              <textarea
                className="app-input"
                rows={3}
                value={draft[key]}
                onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
              />
            </label>
          ))}
          <label className="app-field">
            <span className="app-field__label">When a message matches</span>
            <select
              className="app-input"
              value={automod.action}
              onChange={(e) => setAutomod({ ...automod, action: e.target.value as AutomodSettings['action'] })}
            >
              <option value="block">Block it</option>
              <option value="flag">Let it through and report it</option>
            </select>
          </label>
          <div className="app-row app-row--end">
            {saved ? <span className="app-muted">Saved.</span> : null}
            <button type="submit" className="app-button app-button--primary">
              Save block lists
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}

/** The entry point: one dialog with the two tabs. */
export function ModerationScreen({ onClose }: { onClose(): void }) {
  const [tab, setTab] = useState<'queue' | 'bans'>('queue');
  return (
    <Modal title="Moderation" onClose={onClose} size="large">
      <div className="app-row" role="tablist" aria-label="Moderation">
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'queue'}
          className={`app-button app-button--small${tab === 'queue' ? ' app-button--primary' : ''}`}
          onClick={() => setTab('queue')}
        >
          Reports
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === 'bans'}
          className={`app-button app-button--small${tab === 'bans' ? ' app-button--primary' : ''}`}
          onClick={() => setTab('bans')}
        >
          Bans and block lists
        </button>
      </div>
      {tab === 'queue' ? <ModerationQueue /> : <BansAndBlockLists />}
    </Modal>
  );
}
