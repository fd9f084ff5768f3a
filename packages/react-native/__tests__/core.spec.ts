/**
 * The SDK's core on React Native, against a real Parley server: offline state in AsyncStorage
 * across an app restart, the connection following AppState and NetInfo, and APNs/FCM tokens
 * registered to the server's push targets — with a push really delivered to an FCM endpoint
 * (a local HTTP/2 server speaking FCM's wire format) while the app is in the background.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { ChatClient } from '@parley/client';
import AsyncStorage from '@react-native-async-storage/async-storage';
import type { Mock } from 'jest-mock';
import { AppState } from 'react-native';
import {
  AsyncStorageAdapter,
  MMKVStorageAdapter,
  registerPushToken,
  unregisterPushToken,
  watchAppLifecycle,
} from '../src/index';
import { adminToken, api, createApp, makeClient, type TestApp, userToken, when } from './helpers';

jest.mock('@react-native-async-storage/async-storage', () =>
  require('@react-native-async-storage/async-storage/jest/async-storage-mock'),
);

let app: TestApp;
const clients: ChatClient[] = [];
const client = (storage?: AsyncStorageAdapter) => {
  const c = makeClient(app, storage);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  app = await createApp([
    { id: 'alice', name: 'Alice', username: 'alice' },
    { id: 'bob', name: 'Bob', username: 'bob' },
  ]);
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnectUser();
  await AsyncStorage.clear();
});

describe('AsyncStorageAdapter', () => {
  it('keeps values as JSON, splits long ones over rows and removes the parts it no longer needs', async () => {
    const s = new AsyncStorageAdapter(AsyncStorage, { chunkSize: 1024 });
    expect(await s.get('missing')).toBeUndefined();
    await s.set('k', { a: 1, text: 'é✓' });
    expect(await s.get('k')).toEqual({ a: 1, text: 'é✓' });
    const long = { text: 'x'.repeat(5000) };
    await s.set('k', long);
    expect(await s.get('k')).toEqual(long);
    const keys = await AsyncStorage.getAllKeys();
    expect(keys.filter((k) => k.startsWith('k#')).length).toBe(Math.ceil(JSON.stringify(long).length / 1024));
    for (const k of keys) expect(((await AsyncStorage.getItem(k)) as string).length).toBeLessThanOrEqual(1024);
    await s.set('k', { short: true });
    expect(await AsyncStorage.getAllKeys()).toEqual(['k']);
    await s.set('k', long);
    await s.delete('k');
    expect(await AsyncStorage.getAllKeys()).toEqual([]);
  });

  it('answers nothing, not a broken value, when a part is missing', async () => {
    const s = new AsyncStorageAdapter(AsyncStorage, { chunkSize: 1024 });
    await s.set('k', { text: 'y'.repeat(3000) });
    await AsyncStorage.removeItem('k#2');
    expect(await s.get('k')).toBeUndefined();
  });
});

describe('MMKVStorageAdapter', () => {
  it('works with v3 (delete) and v4 (remove) instances', async () => {
    for (const removeName of ['delete', 'remove'] as const) {
      const map = new Map<string, string>();
      const mmkv = {
        getString: (k: string) => map.get(k),
        set: (k: string, v: string) => void map.set(k, v),
        [removeName]: (k: string) => map.delete(k),
      };
      const s = new MMKVStorageAdapter(mmkv);
      await s.set('a', [1, { b: 'c' }]);
      expect(await s.get('a')).toEqual([1, { b: 'c' }]);
      await s.delete('a');
      expect(await s.get('a')).toBeUndefined();
    }
    expect(() => new MMKVStorageAdapter({ getString: () => undefined, set: () => {} })).toThrow(/MMKV instance/);
  });
});

describe('offline state across an app restart', () => {
  it('shows the channels, messages and unsent messages from AsyncStorage before the network answers, then sends', async () => {
    const bob = client();
    await bob.connectUser({ id: 'bob' }, userToken(app, 'bob'));
    const dm = bob.channel('dm', { members: ['alice', 'bob'] });
    await dm.watch();
    await dm.sendMessage({ text: 'before the restart' });

    // The first run of the app: it loads the DM, then loses the network and writes a message.
    const storage = new AsyncStorageAdapter(AsyncStorage);
    const first = client(storage);
    await first.connectUser({ id: 'alice' }, userToken(app, 'alice'));
    const ch = first.channel('dm', dm.id as string);
    await ch.watch();
    first.pauseConnection();
    const pending = ch.sendMessage({ text: 'written offline' });
    await when(first, () => first.outbox.length === 1, 'the outbox');
    // The app is killed (its socket and memory go; what is in storage stays).
    await first.disconnectUser();
    await pending.catch(() => {});

    // The next start: nothing may be asked of the network until we let the token through.
    let letIn: (t: string) => void = () => {};
    const token = new Promise<string>((r) => {
      letIn = r;
    });
    const second = client(storage);
    const connected = second.connectUser({ id: 'alice' }, () => token);
    const restored = await when(
      second,
      () => second.state.get().channels[dm.cid]?.messages.length === 2 && second.state.get(),
      'restored state',
    );
    expect(restored.connection).not.toBe('online');
    expect(restored.channels[dm.cid]?.messages.map((m) => [m.text, m.status])).toEqual([
      ['before the restart', 'sent'],
      ['written offline', 'sending'],
    ]);
    letIn(userToken(app, 'alice'));
    await connected;
    // Sent on connect, once: Bob gets it, stored with its seq.
    await when(bob, () => dm.state?.messages.some((m) => m.text === 'written offline'), 'Bob to get the message');
    await when(second, () => second.outbox.length === 0, 'the outbox to empty');
    expect(dm.state?.messages.filter((m) => m.text === 'written offline')).toHaveLength(1);
  });
});

describe('watchAppLifecycle', () => {
  it('closes the socket in the background, reconnects and catches up in the foreground', async () => {
    const alice = client();
    const bob = client();
    await alice.connectUser({ id: 'alice' }, userToken(app, 'alice'));
    await bob.connectUser({ id: 'bob' }, userToken(app, 'bob'));
    const b = bob.channel('dm', { members: ['alice', 'bob'] });
    await b.watch();
    const a = alice.channel('dm', b.id as string);
    await a.watch();

    // React Native's AppState, as its Jest preset provides it: the test plays the OS.
    const addListener = AppState.addEventListener as unknown as Mock;
    addListener.mockClear();
    const stop = watchAppLifecycle(alice);
    const onChange = addListener.mock.calls[0]?.[1] as (s: string) => void;

    onChange('inactive'); // iOS's app switcher: nothing changes
    expect(alice.state.get().connection).toBe('online');
    onChange('background');
    expect(alice.state.get().connection).toBe('offline');
    await b.sendMessage({ text: 'while you were away' });
    onChange('active');
    await when(alice, () => a.state?.messages.some((m) => m.text === 'while you were away'), 'the missed message');
    expect(alice.state.get().connection).toBe('online');
    stop();
  });

  it('follows NetInfo: paused while the network is gone, reconnected the moment it returns', async () => {
    const alice = client();
    await alice.connectUser({ id: 'alice' }, userToken(app, 'alice'));
    let emit: (s: { isConnected: boolean | null; isInternetReachable?: boolean | null }) => void = () => {};
    const netInfo = {
      addEventListener: (l: typeof emit) => {
        emit = l;
        return () => {
          emit = () => {};
        };
      },
    };
    const stop = watchAppLifecycle(alice, {
      netInfo,
      appState: { currentState: 'active', addEventListener: () => ({ remove() {} }) },
    });
    emit({ isConnected: true, isInternetReachable: null }); // NetInfo's first answer: no news
    expect(alice.state.get().connection).toBe('online');
    emit({ isConnected: true, isInternetReachable: false });
    expect(alice.state.get().connection).toBe('offline');
    emit({ isConnected: true, isInternetReachable: true });
    await when(alice, () => alice.state.get().connection === 'online', 'the reconnect');
    stop();
    emit({ isConnected: false });
    expect(alice.state.get().connection).toBe('online');
  });
});

/** A self-signed certificate for 127.0.0.1, for the local FCM server (the Parley server trusts it as its CA). */
function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-rn-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(dir, 'k.pem'),
        '-out',
        path.join(dir, 'c.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(path.join(dir, 'k.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'c.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('push tokens', () => {
  /** FCM sends by device token, as they arrive. */
  const sends = new Map<string, (body: { message: { token: string; data?: Record<string, string> } }) => void>();
  const sent = (token: string) =>
    new Promise<{ message: { token: string; data?: Record<string, string> } }>((resolve) => sends.set(token, resolve));
  let fcm: http2.Http2SecureServer;
  let origin = '';
  let tls: { key: string; cert: string };
  const sessions = new Set<http2.ServerHttp2Session>();

  beforeAll(async () => {
    tls = selfSigned();
    fcm = http2.createSecureServer(tls);
    // The Parley server keeps its HTTP/2 session open (as APNs asks): closed by hand at the end.
    fcm.on('session', (session) => sessions.add(session));
    fcm.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const p = String(headers[':path']);
        if (p === '/v1/projects/parley-rn/messages:send') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          sends.get(body.message.token)?.(body);
        }
        stream.respond({ ':status': 200, 'content-type': 'application/json' });
        stream.end(
          JSON.stringify(
            p === '/token'
              ? { access_token: 'ya29.rn-test', expires_in: 3599, token_type: 'Bearer' }
              : { name: 'projects/parley-rn/messages/1' },
          ),
        );
      });
    });
    await new Promise<void>((r) => fcm.listen(0, '127.0.0.1', r));
    origin = `https://127.0.0.1:${(fcm.address() as { port: number }).port}`;
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    await api('PUT', `/v1/admin/apps/${app.id}/push/fcm`, {
      token: adminToken(),
      body: {
        project_id: 'parley-rn',
        client_email: 'push@parley-rn.iam.gserviceaccount.com',
        private_key: String(key),
        token_uri: `${origin}/token`,
        endpoint: origin,
        ca: tls.cert,
      },
    });
  });
  afterAll(async () => {
    const closed = new Promise<void>((r) => fcm.close(() => r()));
    for (const s of sessions) s.destroy();
    await closed;
  });

  const targets = (id: string) =>
    api<{ devices: { id: string; provider: string }[] }>('GET', '/v1/push/targets', {
      token: userToken(app, id),
      apiKey: app.apiKey,
    });

  it('registers the token, replaces it when the OS hands out a new one, and removes it on sign-out', async () => {
    const storage = new AsyncStorageAdapter(AsyncStorage);
    const alice = client(storage);
    await alice.connectUser({ id: 'alice' }, userToken(app, 'alice'));
    const first = await registerPushToken(alice, { provider: 'apns', token: 'a1b2c3d4'.repeat(8) }, storage);
    expect((await targets('alice')).devices.map((d) => d.id)).toEqual([first]);
    // The same token again (every app start): the same device, nothing added.
    expect(await registerPushToken(alice, { provider: 'apns', token: 'a1b2c3d4'.repeat(8) }, storage)).toBe(first);
    const second = await registerPushToken(alice, { provider: 'apns', token: 'e5f6a7b8'.repeat(8) }, storage);
    expect(second).not.toBe(first);
    expect((await targets('alice')).devices.map((d) => d.id)).toEqual([second]);
    expect(await unregisterPushToken(alice, storage)).toBe(true);
    expect((await targets('alice')).devices).toEqual([]);
    expect(await unregisterPushToken(alice, storage)).toBe(false);
  });

  it('a message to a backgrounded app reaches its FCM token', async () => {
    const storage = new AsyncStorageAdapter(AsyncStorage);
    const alice = client(storage);
    const bob = client();
    await alice.connectUser({ id: 'alice' }, userToken(app, 'alice'));
    await bob.connectUser({ id: 'bob' }, userToken(app, 'bob'));
    const token = 'fcm-rn-token:APA91bRnTest';
    await registerPushToken(alice, { provider: 'fcm', token }, storage);
    const push = sent(token);
    const addListener = AppState.addEventListener as unknown as Mock;
    addListener.mockClear();
    const stop = watchAppLifecycle(alice);
    const onChange = addListener.mock.calls[0]?.[1] as (s: string) => void;
    onChange('background');
    const dm = bob.channel('dm', { members: ['alice', 'bob'] });
    await dm.watch();
    await dm.sendMessage({ text: 'ping from Bob' });
    const got = await push;
    expect(got.message.token).toBe(token);
    expect(JSON.stringify(got.message)).toContain('ping from Bob');
    stop();
  });
});
