/**
 * Owners and admins: how people join the workspace (invite only, invite links for anyone,
 * requests that an admin approves, or anyone with a confirmed email at a domain), the join
 * page's link, and the queue of pending requests. Shown in the members dialog.
 */
import type { JoinPolicy, JoinRequest, Workspace } from '@parley/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';
import { accounts } from '../lib/api.js';
import { membership } from '../lib/membership-api.js';

const POLICIES: { value: JoinPolicy; label: string }[] = [
  { value: 'invite_only', label: 'Invite only — each link admits one person' },
  { value: 'link', label: 'Invite links — anyone with a link joins' },
  { value: 'request', label: 'Request to join — an admin approves each request' },
  { value: 'domain', label: 'Email domain — anyone with a confirmed email at a domain joins' },
];

const text = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function JoinSettings({ workspace, onJoined }: { workspace: Workspace; onJoined(): void }) {
  const [policy, setPolicy] = useState<JoinPolicy>(workspace.join_policy);
  const [domain, setDomain] = useState(workspace.join_domain ?? '');
  const [saved, setSaved] = useState<{ policy: JoinPolicy; domain: string | null }>({
    policy: workspace.join_policy,
    domain: workspace.join_domain,
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Set once the user picks a policy or a domain, or saves: from then on the form is theirs.
  const touched = useRef(false);
  // The workspace object the shell holds may predate a change made in an earlier visit here.
  // A reply that comes after the user touched the form is dropped: applied late (a slow
  // server), it put back the old policy over the one just chosen, or just saved.
  useEffect(() => {
    let live = true;
    accounts
      .workspace(workspace.id)
      .then((w) => {
        if (!live || touched.current) return;
        setPolicy(w.join_policy);
        setDomain(w.join_domain ?? '');
        setSaved({ policy: w.join_policy, domain: w.join_domain });
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [workspace.id]);

  const save = async () => {
    touched.current = true;
    setBusy(true);
    setError(null);
    try {
      const w = await accounts.updateWorkspace(workspace.id, {
        join_policy: policy,
        ...(policy === 'domain' ? { join_domain: domain.trim() } : {}),
      });
      setSaved({ policy: w.join_policy, domain: w.join_domain });
    } catch (e) {
      setError(text(e));
    } finally {
      setBusy(false);
    }
  };
  const dirty = policy !== saved.policy || (policy === 'domain' && domain.trim().toLowerCase() !== saved.domain);
  const joinUrl = new URL(`/join/${workspace.id}`, window.location.origin).href;

  return (
    <section className="app-join-settings" aria-label="How people join">
      <label className="app-field">
        <span className="app-field__label">How people join</span>
        <select
          className="app-input"
          value={policy}
          data-testid="join-policy"
          onChange={(e) => {
            touched.current = true;
            setPolicy(e.target.value as JoinPolicy);
          }}
        >
          {POLICIES.map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      {policy === 'domain' ? (
        <label className="app-field">
          <span className="app-field__label">Email domain</span>
          <input
            className="app-input"
            value={domain}
            placeholder="example.com"
            data-testid="join-domain"
            onChange={(e) => {
              touched.current = true;
              setDomain(e.target.value);
            }}
          />
        </label>
      ) : null}
      <div className="app-row app-row--end">
        <button
          type="button"
          className="app-button app-button--small app-button--primary"
          disabled={busy || !dirty || (policy === 'domain' && !domain.trim())}
          onClick={() => void save()}
          data-testid="join-policy-save"
        >
          Save
        </button>
      </div>
      {saved.policy === 'request' || saved.policy === 'domain' ? (
        <p className="app-field__hint">
          Join page: <span data-testid="join-url">{joinUrl}</span>
        </p>
      ) : null}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      {saved.policy === 'request' ? <JoinRequests workspace={workspace} onJoined={onJoined} /> : null}
    </section>
  );
}

/** The pending requests, oldest first, each with approve and decline. */
function JoinRequests({ workspace, onJoined }: { workspace: Workspace; onJoined(): void }) {
  const [requests, setRequests] = useState<JoinRequest[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    membership
      .requests(workspace.id)
      .then(setRequests)
      .catch((e: unknown) => setError(text(e)));
  }, [workspace.id]);
  useEffect(load, [load]);

  const decide = async (r: JoinRequest, approve: boolean) => {
    setError(null);
    try {
      await membership.decide(workspace.id, r.id, approve);
      if (approve) onJoined();
    } catch (e) {
      setError(text(e));
    }
    load();
  };

  return (
    <div className="app-join-requests">
      <h3 className="app-section-title">Requests to join</h3>
      {requests === null ? (
        <p className="app-muted">Loading…</p>
      ) : requests.length === 0 ? (
        <p className="app-muted" data-testid="join-requests-empty">
          No one is waiting.
        </p>
      ) : (
        <ul className="app-roster" aria-label="Requests to join">
          {requests.map((r) => (
            <li key={r.id} className="app-roster__row" data-testid={`join-request-${r.account_id}`}>
              <div className="app-roster__main">
                <span className="app-roster__text">
                  <span className="app-roster__name">{r.name}</span>
                  {r.email ? <span className="app-roster__email">{r.email}</span> : null}
                </span>
                <button
                  type="button"
                  className="app-button app-button--small app-button--primary"
                  aria-label={`Approve ${r.name}`}
                  onClick={() => void decide(r, true)}
                >
                  Approve
                </button>
                <button
                  type="button"
                  className="app-button app-button--small app-button--danger-outline"
                  aria-label={`Decline ${r.name}`}
                  onClick={() => void decide(r, false)}
                >
                  Decline
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
