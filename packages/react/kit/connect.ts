/**
 * How the catalogue gets real clients: it signs in to the server that serves it, as the people
 * `parley demo` made, exactly as the web app does (session cookie → workspace session →
 * ChatClient over the WebSocket). Nothing is faked: every story shows a real client's state.
 */
import { ChatClient } from '@parley/client';

/** The demo's credentials (packages/cli/src/demo.ts; the kit's test checks they agree). */
export const DEMO = {
  password: 'parley-demo-lighthouse',
  workspace: 'Lighthouse Labs',
  ada: 'ada@demo.parley.chat',
  grace: 'grace@demo.parley.chat',
};

const json = { 'content-type': 'application/json' };

async function ok<T>(r: Response, what: string): Promise<T> {
  const body = await r.json().catch(() => ({}));
  if (!r.ok)
    throw new Error(`${what}: ${r.status} ${body?.error?.message ?? ''} (did you run parley demo on this server?)`);
  return body;
}

/** Sign in as `email` and connect a client to the demo workspace. */
export async function connectAs(email: string): Promise<ChatClient> {
  await ok(
    await fetch('/v1/auth/signin', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email, password: DEMO.password }),
    }),
    `signing in as ${email}`,
  );
  const { workspaces } = await ok<{ workspaces: { id: string; name: string }[] }>(
    await fetch('/v1/workspaces'),
    'listing workspaces',
  );
  const ws = workspaces.find((w) => w.name === DEMO.workspace);
  if (!ws) throw new Error(`no "${DEMO.workspace}" workspace: run parley demo on this server`);
  const s = await ok<{ api_key: string; token: string; user_id: string }>(
    await fetch(`/v1/workspaces/${ws.id}/session`, { method: 'POST', headers: json, body: '{}' }),
    'opening the workspace',
  );
  const client = new ChatClient({ url: window.location.origin, apiKey: s.api_key });
  await client.connectUser({ id: s.user_id }, s.token);
  return client;
}
