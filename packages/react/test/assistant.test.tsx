// @vitest-environment happy-dom
/**
 * The assistant's hooks against a real server and a fake OpenAI-compatible provider on
 * loopback: `useAssistant` says what is on, `useCatchUp` grows its summary as the stream comes
 * and ends with citations (or the error), `useSmartReplies` answers on request, or by itself
 * where the app set smart replies to `automatic` — and follows an admin's change of that setting
 * live, in a mounted hook.
 */
import type { ChatClient } from '@parley/client';
import { act, fireEvent, screen } from '@testing-library/react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../server/src/platform/outbound.js';
import { type FakeProvider, startFakeProvider } from '../../server/test/fake-openai.js';
import { useAssistant, useCatchUp, useSmartReplies } from '../src/index.js';
import { type Harness, makeClient, PEOPLE, renderFor, startHarness, type TestApp, until, waitFor } from './helpers.js';

let h: Harness;
let app: TestApp;
let fake: FakeProvider;
let alice: ChatClient;
let bob: ChatClient;
let asked = '';

beforeAll(async () => {
  fake = await startFakeProvider();
  h = await startHarness({ outboundAllow: outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW_ASSISTANT: fake.host }) });
  app = await h.createApp();
  await h.users(app, PEOPLE);
  alice = await makeClient(h, app, 'alice');
  bob = await makeClient(h, app, 'bob');
  await until(() => bob.state.get().user, 10_000, 'hello');
  await h.call({
    method: 'PUT',
    url: '/v1/assistant',
    headers: await app.server(),
    payload: { url: fake.url, model: 'm', enabled: true },
  });
  const ch = alice.channel('group', 'hooks');
  await ch.createChannel({ members: ['bob'] });
  asked = (await ch.sendMessage({ text: 'Lunch at noon?' })).id;
  await ch.sendMessage({ text: 'Bring the slides' });
});
afterAll(async () => {
  for (const c of [alice, bob]) await c?.disconnectUser().catch(() => {});
  await h?.close();
  await fake?.close();
});

function CatchUp() {
  const on = useAssistant();
  const c = useCatchUp('group:hooks');
  return (
    <div>
      <p data-testid="on">{on.catch_up ? 'on' : 'off'}</p>
      <button type="button" onClick={() => c.start({ after_seq: 0 })}>
        go
      </button>
      <p data-testid="status">{c.status}</p>
      <p data-testid="summary">{c.summary}</p>
      <p data-testid="cited">{c.citations.map((x) => x.n).join(',')}</p>
      <p data-testid="error">{c.error?.code ?? ''}</p>
    </div>
  );
}

function Replies({ auto = false }: { auto?: boolean }) {
  const r = useSmartReplies(asked, { auto });
  return (
    <div>
      <button type="button" onClick={r.request}>
        suggest
      </button>
      <ul>
        {r.suggestions.map((s) => (
          <li key={s}>{s}</li>
        ))}
      </ul>
    </div>
  );
}

/** No `auto`: the app's setting decides whether it asks by itself. */
function AppReplies() {
  const r = useSmartReplies(asked);
  return (
    <div>
      <p data-testid="mode">{r.mode}</p>
      <ul>
        {r.suggestions.map((s) => (
          <li key={s}>{s}</li>
        ))}
      </ul>
    </div>
  );
}

describe('assistant hooks', () => {
  it('useCatchUp streams the summary and ends with its citations, or its error', async () => {
    fake.answer = () => ({ text: 'Lunch at noon [1], and slides [2].' });
    renderFor(bob, <CatchUp />);
    await waitFor(() => expect(screen.getByTestId('on').textContent).toBe('on'));
    await act(async () => fireEvent.click(screen.getByText('go')));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('done'));
    expect(screen.getByTestId('summary').textContent).toBe('Lunch at noon [1], and slides [2].');
    expect(screen.getByTestId('cited').textContent).toBe('1,2');
    fake.answer = () => ({ status: 502, body: 'bad gateway' });
    await act(async () => fireEvent.click(screen.getByText('go')));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('error'));
    expect(screen.getByTestId('error').textContent).toBe('ASSISTANT_UNAVAILABLE');
  });

  it('useSmartReplies answers on request', async () => {
    fake.answer = () => ({ text: '["Yes!", "Make it 1pm"]' });
    renderFor(bob, <Replies />);
    expect(screen.queryAllByRole('listitem')).toHaveLength(0);
    await act(async () => fireEvent.click(screen.getByText('suggest')));
    await waitFor(() =>
      expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Yes!', 'Make it 1pm']),
    );
  });

  it('useSmartReplies asks by itself with `auto`, once per message', async () => {
    fake.answer = () => ({ text: '["Sure"]' });
    const before = fake.got.length;
    renderFor(bob, <Replies auto />);
    await waitFor(() => expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Sure']));
    expect(fake.got.length - before).toBe(1);
  });

  it('useSmartReplies follows the app: automatic asks by itself, on request waits for a click', async () => {
    const setMode = async (smart_replies_mode: string) =>
      h.call({ method: 'PUT', url: '/v1/assistant', headers: await app.server(), payload: { smart_replies_mode } });
    expect((await setMode('automatic')).status).toBe(200);
    fake.answer = () => ({ text: '["On my way"]' });
    const before = fake.got.length;
    const bob2 = await makeClient(h, app, 'bob');
    const first = renderFor(bob2, <AppReplies />);
    await waitFor(() => expect(screen.getByTestId('mode').textContent).toBe('automatic'));
    await waitFor(() => expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['On my way']));
    expect(fake.got.length - before).toBe(1);
    first.unmount();
    await bob2.disconnectUser();

    expect((await setMode('on_request')).status).toBe(200);
    const bob3 = await makeClient(h, app, 'bob');
    const asked = fake.got.length;
    renderFor(bob3, <AppReplies />);
    await waitFor(() => expect(screen.getByTestId('mode').textContent).toBe('on_request'));
    expect(screen.queryAllByRole('listitem')).toHaveLength(0);
    expect(fake.got.length).toBe(asked);

    // An admin's change reaches the mounted hook live (assistant.updated), without a reload:
    // automatic asks by itself at once; off says so.
    fake.answer = () => ({ text: '["Be right there"]' });
    expect((await setMode('automatic')).status).toBe(200);
    await waitFor(() => expect(screen.getByTestId('mode').textContent).toBe('automatic'));
    await waitFor(() =>
      expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['Be right there']),
    );
    expect(fake.got.length - asked).toBe(1);
    expect((await setMode('off')).status).toBe(200);
    await waitFor(() => expect(screen.getByTestId('mode').textContent).toBe('off'));
    await bob3.disconnectUser();
  });
});
