// docs/node.md shows this file; packages/node/test/examples.pg.test.ts runs it against a server.
import { Parley } from '@parley/node';

export async function quickstart(env: { url: string; apiKey: string; apiSecret: string }) {
  const parley = new Parley({ url: env.url, apiKey: env.apiKey, apiSecret: env.apiSecret });

  // Your users, as your backend knows them (created or updated; 100 per request, batched for you).
  await parley.users.upsert([
    { id: 'ada', name: 'Ada Lovelace', username: 'ada' },
    { id: 'bob', name: 'Bob Babbage', username: 'bob' },
  ]);

  // A token for Ada's browser: @parley/client and @parley/react connect with it.
  const token = await parley.createToken('ada', { expiresIn: '12h' });

  // A channel made by the app on Ada's behalf, and messages as Ada and as the app.
  await parley.channels.ensure({
    type: 'group',
    id: 'launch',
    name: 'Launch',
    members: ['ada', 'bob'],
    created_by: 'ada',
  });
  await parley.messages.send('group:launch', { text: 'T-minus 10 minutes' }, { as: 'ada' });
  await parley.messages.sendSystem('group:launch', { text: 'Build 1042 deployed' });

  // Every message, newest first, fetched a page at a time as the loop asks.
  const texts: string[] = [];
  for await (const m of parley.messages.history('group:launch')) texts.push(m.text);
  return { token, texts };
}
