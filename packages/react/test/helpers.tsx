/**
 * Component tests drive the kit with a real ChatClient connected to a real server in this
 * process (never a mock). happy-dom provides the DOM; its fetch enforces the same-origin policy
 * against its own page URL, which a test server on a loopback port never matches, so it is
 * turned off here. happy-dom does no layout: react-virtuoso is given fixed sizes through its
 * mock context, which makes it render every row of these small lists. Virtuoso also keeps its
 * rows `visibility: hidden` until it has scrolled to its initial position, which happy-dom
 * reports only sometimes; role queries skip hidden elements, so inside a message list the
 * tests find elements with {@link button} and selectors instead.
 */
import type { ChatClient } from '@parley/client';
import { cleanup, render, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { VirtuosoMockContext } from 'react-virtuoso';
import { afterEach } from 'vitest';
import { type Harness, makeClient, startHarness, type TestApp, until } from '../../client/test/setup.js';
import { ChatProvider } from '../src/index.js';

(
  globalThis as unknown as { happyDOM: { settings: { fetch: { disableSameOriginPolicy: boolean } } } }
).happyDOM.settings.fetch.disableSameOriginPolicy = true;

afterEach(() => {
  cleanup();
});

export { type Harness, makeClient, startHarness, type TestApp, until, waitFor };

export const PEOPLE = [
  { id: 'alice', name: 'Alice Liddell', username: 'alice' },
  { id: 'bob', name: 'Bob Stone', username: 'bob' },
  { id: 'carol', name: 'Carol Danvers', username: 'carol' },
];

/** A server, an app with Alice, Bob and Carol, and a way to connect each. */
export async function world() {
  const h = await startHarness();
  const app = await h.createApp();
  await h.users(app, PEOPLE);
  const clients: ChatClient[] = [];
  return {
    h,
    app,
    async connect(userId: string): Promise<ChatClient> {
      const c = await makeClient(h, app, userId);
      clients.push(c);
      await until(() => c.state.get().user, 10_000, 'hello');
      return c;
    },
    async close() {
      for (const c of clients) await c.disconnectUser().catch(() => {});
      // Let REST calls already on their way (count refreshes after a read) finish first.
      await new Promise((r) => setTimeout(r, 200));
      await h.close();
    },
  };
}

/** Wrap UI in the provider and a layout-free Virtuoso that renders every row. */
export function ui(client: ChatClient, children: ReactNode): ReactNode {
  return (
    <ChatProvider client={client}>
      <VirtuosoMockContext.Provider value={{ viewportHeight: 20_000, itemHeight: 20 }}>
        {children}
      </VirtuosoMockContext.Provider>
    </ChatProvider>
  );
}

/** Render `children` for `client`. */
export function renderFor(client: ChatClient, children: ReactNode) {
  return render(ui(client, children));
}

let counter = 0;
/** A fresh channel id per test, so tests do not see each other's messages. */
export function freshId(prefix = 'c'): string {
  counter += 1;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 6)}`;
}

/** The button in `within` whose accessible label (aria-label, else text) matches. */
export function button(within: ParentNode, name: string | RegExp): HTMLButtonElement {
  const all = [...within.querySelectorAll<HTMLButtonElement>('button')];
  const found = all.find((b) => {
    const label = (b.getAttribute('aria-label') ?? b.textContent ?? '').trim();
    return typeof name === 'string' ? label === name : name.test(label);
  });
  if (!found)
    throw new Error(
      `no button ${String(name)} among: ${all.map((b) => b.getAttribute('aria-label') ?? b.textContent).join(' | ')}`,
    );
  return found;
}
