/**
 * Parley on a phone: sign in with a user token, see your conversations, open one, talk —
 * threads, reactions, "Seen by", typing, files — and get pushes while the app is in the
 * background. Set the server, API key, user and token in app.json's `extra` (or type them in).
 */

import type { ChatClient } from '@parley/client';
import {
  AsyncStorageAdapter,
  Channel,
  ChannelList,
  ChatProvider,
  createChatClient,
  MessageInput,
  MessageList,
  Thread,
  TypingIndicator,
  unregisterPushToken,
  useChannelState,
  watchAppLifecycle,
} from '@parley/react-native';
import AsyncStorage from '@react-native-async-storage/async-storage';
import NetInfo from '@react-native-community/netinfo';
import Constants from 'expo-constants';
import * as DocumentPicker from 'expo-document-picker';
import { StatusBar } from 'expo-status-bar';
import { useEffect, useState } from 'react';
import { Pressable, SafeAreaView, Text, TextInput, useColorScheme, View } from 'react-native';
import { registerForPush } from './push';

const extra = (Constants.expoConfig?.extra ?? {}) as Record<string, string>;
const storage = new AsyncStorageAdapter(AsyncStorage);

/** Files for the composer: the system's document picker, as `{ uri, name, type, size }`. */
async function pickFiles() {
  const r = await DocumentPicker.getDocumentAsync({ multiple: true, copyToCacheDirectory: true });
  if (r.canceled) return null;
  return r.assets.map((a) => ({ uri: a.uri, name: a.name, type: a.mimeType ?? '', size: a.size }));
}

function SignIn({ onSignedIn }: { onSignedIn(client: ChatClient): void }) {
  const [url, setUrl] = useState(extra.parleyUrl ?? '');
  const [apiKey, setApiKey] = useState(extra.parleyApiKey ?? '');
  const [user, setUser] = useState(extra.parleyUser ?? '');
  const [token, setToken] = useState(extra.parleyToken ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const signIn = async () => {
    setBusy(true);
    setError(null);
    const client = createChatClient({ url, apiKey, storage });
    try {
      await client.connectUser({ id: user }, token);
      onSignedIn(client);
    } catch (e) {
      setError((e as Error).message);
      await client.disconnectUser();
    } finally {
      setBusy(false);
    }
  };
  const field = (label: string, value: string, set: (v: string) => void) => (
    <TextInput
      accessibilityLabel={label}
      placeholder={label}
      value={value}
      onChangeText={set}
      autoCapitalize="none"
      autoCorrect={false}
      style={{ borderWidth: 1, borderColor: '#d1d5db', borderRadius: 8, padding: 10 }}
    />
  );
  return (
    <View style={{ padding: 24, gap: 12 }}>
      <Text style={{ fontSize: 28, fontWeight: '800' }}>Parley</Text>
      {field('Server URL', url, setUrl)}
      {field('API key', apiKey, setApiKey)}
      {field('User id', user, setUser)}
      {field('User token', token, setToken)}
      {error ? <Text style={{ color: '#b91c1c' }}>{error}</Text> : null}
      <Pressable
        role="button"
        disabled={busy}
        onPress={() => void signIn()}
        style={{ backgroundColor: '#4f46e5', padding: 12, borderRadius: 8, alignItems: 'center' }}
      >
        <Text style={{ color: '#fff', fontWeight: '700' }}>{busy ? 'Signing in…' : 'Sign in'}</Text>
      </Pressable>
    </View>
  );
}

function Conversation({ client, cid, onBack }: { client: ChatClient; cid: string; onBack(): void }) {
  const [type, id] = cid.split(/:(.*)/s) as [string, string];
  const channel = client.channel(type, id);
  const state = useChannelState(channel);
  return (
    <Channel channel={channel}>
      <View style={{ flexDirection: 'row', alignItems: 'center', gap: 12, padding: 12 }}>
        <Pressable role="button" accessibilityLabel="Back" onPress={onBack}>
          <Text style={{ color: '#4f46e5', fontSize: 16 }}>‹ Back</Text>
        </Pressable>
        <Text style={{ fontWeight: '700', fontSize: 17 }}>{state?.channel.name ?? ''}</Text>
      </View>
      <MessageList />
      <TypingIndicator />
      <MessageInput pickFiles={pickFiles} />
      <Thread pickFiles={pickFiles} />
    </Channel>
  );
}

export default function App() {
  const scheme = useColorScheme();
  const [client, setClient] = useState<ChatClient | null>(null);
  const [cid, setCid] = useState<string | null>(null);

  useEffect(() => {
    if (!client) return;
    const stop = watchAppLifecycle(client, { netInfo: NetInfo });
    void registerForPush(client, storage).catch(() => {});
    return stop;
  }, [client]);

  const signOut = async () => {
    if (!client) return;
    await unregisterPushToken(client, storage).catch(() => {});
    await client.disconnectUser();
    setCid(null);
    setClient(null);
  };

  return (
    <SafeAreaView style={{ flex: 1 }}>
      <StatusBar style="auto" />
      {!client ? (
        <SignIn onSignedIn={setClient} />
      ) : (
        <ChatProvider client={client} theme={scheme === 'dark' ? 'dark' : 'light'}>
          {cid ? (
            <Conversation client={client} cid={cid} onBack={() => setCid(null)} />
          ) : (
            <>
              <View style={{ flexDirection: 'row', justifyContent: 'space-between', padding: 12 }}>
                <Text style={{ fontSize: 22, fontWeight: '800' }}>Chats</Text>
                <Pressable role="button" onPress={() => void signOut()}>
                  <Text style={{ color: '#4f46e5' }}>Sign out</Text>
                </Pressable>
              </View>
              <ChannelList onSelect={setCid} />
            </>
          )}
        </ChatProvider>
      )}
    </SafeAreaView>
  );
}
