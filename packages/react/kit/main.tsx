/**
 * The catalogue page: a list of stories on the left, the chosen one (`?story=ID`) on the right,
 * rendered for the demo's Ada. `?story=ID&bare` shows the story alone (for screenshots).
 */
import type { ChatClient, LocalMessage } from '@parley/client';
import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatProvider } from '../src/index.js';
import '../src/styles.css';
import './kit.css';
import { connectAs, DEMO } from './connect.js';
import { type Kit, STORIES } from './stories.js';

declare global {
  interface Window {
    /** For the kit's test: the stories and what shows each is ready. */
    __kit?: { stories: { id: string; ready: string }[]; connected: boolean; error: string | null };
  }
}
window.__kit = { stories: STORIES.map((s) => ({ id: s.id, ready: s.ready })), connected: false, error: null };

const CHANNELS = ['public:general', 'public:design', 'public:random'];

async function makeKit(): Promise<Kit> {
  // Grace first: the session cookie left is Ada's, the viewer's.
  const grace = await connectAs(DEMO.grace);
  const ada = await connectAs(DEMO.ada);
  const { channels: list } = await ada.queryChannels({}, [{ field: 'last_message_at', direction: -1 }], { limit: 50 });
  const dm = list.find((c) => c.type === 'dm');
  if (!dm) throw new Error('the demo has no DM');
  // Everyone's profile, as the web app loads it on opening a workspace (names in the inbox, polls).
  await ada.queryUsers('', 200);
  const cids = [...CHANNELS, dm.cid];
  await Promise.all(cids.map((cid) => ada.channel(...(cid.split(':') as [string, string])).watch()));
  await grace.channel('public', 'general').watch();
  const find = (cid: string, prefix: string): LocalMessage => {
    const m = ada.state.get().channels[cid]?.messages.find((x) => x.text.startsWith(prefix));
    if (!m) throw new Error(`no message "${prefix}…" in ${cid}`);
    return m;
  };
  return { ada, grace, find, dmCid: dm.cid };
}

function App() {
  const params = new URLSearchParams(window.location.search);
  const id = params.get('story') ?? STORIES[0]?.id;
  const bare = params.has('bare');
  const story = STORIES.find((s) => s.id === id);
  const [kit, setKit] = useState<Kit | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    makeKit().then(
      (k) => {
        setKit(k);
        if (window.__kit) window.__kit.connected = true;
      },
      (e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        setError(message);
        if (window.__kit) window.__kit.error = message;
      },
    );
  }, []);
  const body = error ? (
    <p className="parley-error" role="alert">
      {error}
    </p>
  ) : !kit ? (
    <p className="parley-muted">Connecting to the server…</p>
  ) : !story ? (
    <p className="parley-error">No story {id}</p>
  ) : (
    <ChatProvider client={kit.ada as ChatClient}>
      <div className="kit-story" data-story={story.id}>
        {story.render(kit)}
      </div>
    </ChatProvider>
  );
  if (bare) return <main className="kit-bare">{body}</main>;
  return (
    <div className="kit">
      <nav className="kit-nav" aria-label="Stories">
        <h1>@parley/react</h1>
        <ul>
          {STORIES.map((s) => (
            <li key={s.id}>
              <a href={`?story=${s.id}`} aria-current={s.id === id ? 'page' : undefined}>
                <strong>{s.component}</strong>
                <span>{s.state}</span>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main className="kit-main">
        {story ? (
          <header className="kit-header">
            <h2>{story.component}</h2>
            <p className="parley-muted">{story.state}</p>
          </header>
        ) : null}
        {body}
      </main>
    </div>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
