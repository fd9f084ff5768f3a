/**
 * The admin console's Commands tab: the GIF search `/giphy` uses (GIPHY or Tenor: API key and
 * base URL; the key is stored sealed and never shown again), and the slash commands of the
 * workspace — the built-ins, and the ones registered for an app's URL (name, description,
 * usage, URL; the signing secret is shown once, when it is made).
 */
import type { SlashCommand } from '@parley/protocol';
import { useChatClient } from '@parley/react';
import { useCallback, useEffect, useState } from 'react';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const BASES = { giphy: 'https://api.giphy.com', tenor: 'https://tenor.googleapis.com' } as const;

export function CommandsTab() {
  const client = useChatClient();
  const [error, setError] = useState<string | null>(null);
  // The GIF search.
  const [provider, setProvider] = useState<'giphy' | 'tenor'>('giphy');
  const [apiKey, setApiKey] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [current, setCurrent] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  // The registry.
  const [commands, setCommands] = useState<SlashCommand[]>([]);
  const [draft, setDraft] = useState({ name: '', description: '', usage: '', url: '' });
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);

  const load = useCallback(() => {
    client.commands.registry().then(setCommands, (e: unknown) => setError(message(e)));
    client.commands.gifProvider().then(
      (g) => {
        setCurrent(g ? `${g.provider === 'giphy' ? 'GIPHY' : 'Tenor'} at ${g.base_url}` : null);
        if (g) {
          setProvider(g.provider);
          setBaseUrl(g.base_url);
        }
      },
      (e: unknown) => setError(message(e)),
    );
  }, [client]);
  useEffect(load, [load]);

  const saveGif = () => {
    setError(null);
    setSaved(false);
    if (!apiKey.trim()) return setError('Give the API key of your GIPHY or Tenor account.');
    client.commands
      .setGifProvider({
        provider,
        api_key: apiKey.trim(),
        ...(baseUrl.trim() ? { base_url: baseUrl.trim() } : {}),
      })
      .then(
        () => {
          setApiKey('');
          setSaved(true);
          load();
        },
        (e: unknown) => setError(message(e)),
      );
  };

  const register = () => {
    setError(null);
    setSecret(null);
    client.commands
      .register({
        name: draft.name.trim().replace(/^\//, '').toLowerCase(),
        description: draft.description.trim(),
        ...(draft.usage.trim() ? { usage: draft.usage.trim() } : {}),
        url: draft.url.trim(),
      })
      .then(
        (r) => {
          setSecret({ name: r.command.name, secret: r.secret });
          setDraft({ name: '', description: '', usage: '', url: '' });
          load();
        },
        (e: unknown) => setError(message(e)),
      );
  };

  return (
    <div className="app-form" data-testid="commands-admin">
      {error ? (
        <p className="app-form__error" role="alert">
          {error}
        </p>
      ) : null}
      <form
        className="app-form"
        aria-label="GIF search"
        onSubmit={(e) => {
          e.preventDefault();
          saveGif();
        }}
      >
        <h3>GIF search for /giphy</h3>
        <p className="app-muted">{current ? `Now: ${current}.` : 'Not set up: /giphy says so to whoever tries it.'}</p>
        <div className="app-row">
          <label className="app-field">
            <span className="app-field__label">Provider</span>
            <select
              className="app-input"
              value={provider}
              onChange={(e) => setProvider(e.target.value as 'giphy' | 'tenor')}
            >
              <option value="giphy">GIPHY</option>
              <option value="tenor">Tenor</option>
            </select>
          </label>
          <label className="app-field">
            <span className="app-field__label">API key</span>
            <input
              className="app-input"
              type="password"
              autoComplete="off"
              value={apiKey}
              placeholder={current ? 'Stored (type a new one to replace it)' : ''}
              onChange={(e) => setApiKey(e.target.value)}
            />
          </label>
          <label className="app-field">
            <span className="app-field__label">Base URL</span>
            <input
              className="app-input"
              value={baseUrl}
              placeholder={BASES[provider]}
              onChange={(e) => setBaseUrl(e.target.value)}
            />
          </label>
        </div>
        <div className="app-row app-row--end">
          {saved ? <span className="app-muted">Saved.</span> : null}
          <button type="submit" className="app-button app-button--primary">
            Save GIF search
          </button>
        </div>
      </form>

      <h3>Slash commands</h3>
      <table className="app-table" aria-label="Slash commands">
        <thead>
          <tr>
            <th>Command</th>
            <th>What it does</th>
            <th>Runs</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {commands.map((c) => (
            <tr key={c.name}>
              <td>
                /{c.name}
                {c.usage ? <span className="app-muted"> {c.usage}</span> : null}
              </td>
              <td>{c.description}</td>
              <td className="app-muted">{c.builtin ? 'built in' : c.url}</td>
              <td>
                {c.id ? (
                  <button
                    type="button"
                    className="app-link-button"
                    aria-label={`Remove /${c.name}`}
                    onClick={() =>
                      client.commands.unregister(c.id as string).then(load, (e: unknown) => setError(message(e)))
                    }
                  >
                    Remove
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="app-form"
        aria-label="Add a command"
        onSubmit={(e) => {
          e.preventDefault();
          register();
        }}
      >
        <div className="app-row">
          <label className="app-field">
            <span className="app-field__label">Name</span>
            <input
              className="app-input"
              value={draft.name}
              placeholder="deploy"
              onChange={(e) => setDraft({ ...draft, name: e.target.value })}
            />
          </label>
          <label className="app-field">
            <span className="app-field__label">Usage hint</span>
            <input
              className="app-input"
              value={draft.usage}
              placeholder="[branch]"
              onChange={(e) => setDraft({ ...draft, usage: e.target.value })}
            />
          </label>
        </div>
        <label className="app-field">
          <span className="app-field__label">Description</span>
          <input
            className="app-input"
            value={draft.description}
            onChange={(e) => setDraft({ ...draft, description: e.target.value })}
          />
        </label>
        <label className="app-field">
          <span className="app-field__label">Request URL</span>
          <input
            className="app-input"
            value={draft.url}
            placeholder="https://example.com/parley/commands"
            onChange={(e) => setDraft({ ...draft, url: e.target.value })}
          />
        </label>
        <div className="app-row app-row--end">
          <button type="submit" className="app-button app-button--primary">
            Add command
          </button>
        </div>
      </form>
      {secret ? (
        <div className="app-callout" role="status">
          <p>
            /{secret.name} signs its requests with <code data-testid="command-secret">{secret.secret}</code>: copy it
            now, it is not shown again.
          </p>
        </div>
      ) : null}
    </div>
  );
}
