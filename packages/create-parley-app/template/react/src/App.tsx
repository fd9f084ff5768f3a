import { ChatClient } from '@parley/client';
import { Channel, ChannelList, ChatProvider, MessageInput, MessageList, Thread, TypingIndicator } from '@parley/react';
import { type FormEvent, useEffect, useMemo, useState } from 'react';

interface Session {
  user_id: string;
  token: string;
  api_key: string;
  url: string;
}

/** Sign in with a name (server/index.mjs makes the token), then chat. */
export function App() {
  const [client, setClient] = useState<ChatClient | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function signIn(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError(null);
    const name = new FormData(e.currentTarget).get('name');
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    const body = await res.json();
    if (!res.ok) return setError(body.error ?? `Sign-in failed (${res.status})`);
    const s = body as Session;
    const c = new ChatClient({ url: s.url, apiKey: s.api_key });
    await c.connectUser({ id: s.user_id }, s.token);
    setClient(c);
  }

  if (!client)
    return (
      <form className="sign-in" onSubmit={signIn}>
        <h1>{'{{title}}'}</h1>
        <label>
          Your name <input name="name" autoComplete="name" required />
        </label>
        <button type="submit">Start chatting</button>
        {error && <p role="alert">{error}</p>}
      </form>
    );
  return <Chat client={client} />;
}

function Chat({ client }: { client: ChatClient }) {
  const [cid, setCid] = useState<string>('public:general');
  useEffect(() => () => void client.disconnectUser(), [client]);
  const channel = useMemo(() => {
    const [type, id] = cid.split(':') as [string, string];
    return client.channel(type, id);
  }, [client, cid]);
  return (
    <ChatProvider client={client} theme="light">
      <div className="chat">
        <nav>
          <ChannelList activeCid={cid} onSelect={setCid} />
        </nav>
        <main>
          <Channel channel={channel}>
            <div className="messages">
              <MessageList />
            </div>
            <TypingIndicator />
            <MessageInput />
            <Thread />
          </Channel>
        </main>
      </div>
    </ChatProvider>
  );
}
