/**
 * Message search: the query language item by item, what may be read (and what may not), edits
 * and deletes at once, non-Latin and identifier queries, HTML-safe highlights, paging, and bad
 * input — on PGlite and PostgreSQL alike.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchDocument } from '../../src/features/messages/send-batch.js';
import { rows } from '../../src/platform/db/index.js';
import { upload } from '../files/helpers.js';
import { ADMIN, type Harness, startHarness } from '../harness.js';
import { expectError, expectWsError, makeWorld, type World } from '../messaging/world.js';

let h: Harness;
let w: World;
let other: World;
let general: string;
let secret: string;
let dm: string;
const sent: Record<string, any> = {};

const search = async (user: string | null, q: string, extra = '', world = w) => {
  const r = await world.rest(user, 'GET', `/v1/search/messages?q=${encodeURIComponent(q)}${extra}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { results: any[]; next: string | null };
};
const texts = async (user: string | null, q: string, extra = '') =>
  (await search(user, q, extra)).results.map((r) => r.message.text as string).sort();

beforeAll(async () => {
  h = await startHarness();
  w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }, { id: 'carol', username: 'Carol' }, { id: 'dave' }]);
  other = await makeWorld(h, [{ id: 'alice' }, { id: 'mallory' }]);
  general = await w.channel('alice', 'public', 'general', ['bob']);
  secret = await w.channel('alice', 'group', 'secret', ['bob']);
  dm = await w.channel('alice', 'dm', '', ['carol']);
  const s = async (key: string, user: string, cid: string, body: Record<string, unknown> | string) => {
    sent[key] = await w.send(user, cid, body);
  };
  await s('runners', 'alice', general, 'The runners were running fast yesterday');
  await s('link', 'bob', general, 'see https://example.com/docs for getUser and get_user_by_id');
  await s('japanese', 'alice', general, '日本語のテキストです');
  await s('script', 'bob', general, "<script>alert('x')</script> & deploy tonight");
  await s('mention', 'alice', general, 'hey @bob can you review the budget');
  await s('plan', 'alice', secret, 'the secret plan: deploy on friday');
  await s('dm', 'carol', dm, 'private deploy note for alice');
  await s('thread', 'bob', general, { text: 'a threaded answer about budget', parent_id: sent.mention.id });
  await s('pinned', 'alice', general, 'pinned rules of the house');
  await s('reacted', 'bob', general, 'a message with a thumbs up');
  await s('api', 'alice', general, 'the endpoint https://example.com/api/v2/users is slow');
  await s('tags', 'bob', general, '<b>shipit</b> and <script>zorbify(1)</script> done');
  await s('ident', 'alice', general, 'rename foo_bar.baz and write to ann.lee@example.org');
  expect((await w.rest('alice', 'POST', `/v1/messages/${sent.pinned.id}/pin`)).status).toBe(200);
  expect((await w.rest('alice', 'POST', `/v1/messages/${sent.reacted.id}/reactions`, { type: 'like' })).status).toBe(
    200,
  );
  const bait = await other.channel('mallory', 'public', 'general', ['alice']);
  await other.send('mallory', bait, 'deploy budget secret plan running from another app');
});
afterAll(async () => {
  await w.closeSockets();
  await h.close();
});

describe('words', () => {
  it('finds stemmed forms in the app language and words as typed', async () => {
    expect(await texts('bob', 'run')).toEqual([sent.runners.text]);
    expect(await texts('bob', 'RUNNING')).toEqual([sent.runners.text]);
    expect(await texts('bob', 'runners yesterday')).toEqual([sent.runners.text]);
  });

  it('"exact phrases" keep their order; -word excludes; OR widens', async () => {
    expect(await texts('bob', '"were running"')).toEqual([sent.runners.text]);
    expect(await texts('bob', '"running fast"')).toEqual([sent.runners.text]);
    expect(await texts('bob', '"fast running"')).toEqual([]);
    expect(await texts('bob', 'budget -threaded')).toEqual([sent.mention.text]);
    expect(await texts('bob', 'yesterday OR tonight')).toEqual([sent.runners.text, sent.script.text].sort());
  });

  it('finds code identifiers and URLs as typed', async () => {
    expect(await texts('bob', 'getUser')).toEqual([sent.link.text]);
    expect(await texts('bob', 'getuser')).toEqual([sent.link.text]);
    expect(await texts('bob', 'get_user_by_id')).toEqual([sent.link.text]);
  });

  it('finds a URL typed with its scheme, without it, and by its parts', async () => {
    for (const q of ['https://example.com/api/v2/users', 'example.com/api/v2/users', 'api/v2', 'example.com'])
      expect(await texts('bob', q), q).toContain(sent.api.text);
    expect(await texts('bob', 'https://example.com/api/v3/users')).toEqual([]);
  });

  it('indexes what a person sees inside text that looks like HTML tags', async () => {
    expect(await texts('bob', 'shipit')).toEqual([sent.tags.text]);
    expect(await texts('bob', 'zorbify')).toEqual([sent.tags.text]);
    expect(await texts('bob', 'alert')).toEqual([sent.script.text]);
  });

  it('finds parts of identifiers by one rule: separators _ . @ / : + - split them', async () => {
    expect(await texts('bob', 'foo_bar')).toEqual([sent.ident.text]);
    expect(await texts('bob', 'foo_bar.baz')).toEqual([sent.ident.text]);
    expect(await texts('bob', 'bar.baz')).toEqual([sent.ident.text]);
    expect(await texts('bob', 'ann.lee')).toEqual([sent.ident.text]);
    expect(await texts('bob', 'ann.lee@example.org')).toEqual([sent.ident.text]);
    expect(await texts('bob', 'get_user')).toEqual([sent.link.text]);
    // Parts in another order, or a part that is not there, are not the identifier.
    expect(await texts('bob', 'bar_foo')).toEqual([]);
    expect(await texts('bob', 'lee.ann')).toEqual([]);
    expect(await texts('bob', 'foo_qux')).toEqual([]);
  });

  it("the send batch's search document is parley_search_document's, for texts with identifiers and without", async () => {
    const samples = [
      'The runners were running fast yesterday',
      'see https://example.com/docs for getUser and get_user_by_id',
      "<script>alert('x')</script> & deploy tonight",
      'rename foo_bar.baz and write to ann.lee@example.org',
      'Hi. How are you? well - fine; 10 : 30',
      'at 10:30, v1.2-rc, a+b, x/y, @bob, e.g. this',
      '日本語のテキストです',
      'émigré_café.naïve',
      '',
      ' <<>> ',
      '-_-',
    ];
    const [row] = await rows<{ docs: { same: boolean; doc: string }[] }>(
      h.database.db,
      sql.raw(`select json_agg(json_build_object('same', ${searchDocument('t')} = parley_search_document(t),
        'doc', ${searchDocument('t')})) as docs
        from jsonb_array_elements_text('${JSON.stringify(samples).replaceAll("'", "''")}'::jsonb) as x(t)`),
    );
    expect(row?.docs.map((d) => d.same)).toEqual(samples.map(() => true));
    // Both branches ran: plain texts are the text with < and > blanked; identifiers add parts.
    expect(row?.docs[0]?.doc).toBe(samples[0]);
    expect(row?.docs[3]?.doc).toContain('foo bar baz');
  });

  it('finds words of scripts written without spaces by substring', async () => {
    expect(await texts('bob', '日本')).toEqual([sent.japanese.text]);
    expect(await texts('bob', 'テキスト')).toEqual([sent.japanese.text]);
    expect(await texts('bob', '中国')).toEqual([]);
    const [hit] = (await search('bob', '日本')).results;
    expect(hit.highlight).toBe('<mark>日本</mark>語のテキストです');
  });

  it('a query of stop words only is matched as text', async () => {
    expect(await texts('bob', '"the house"')).toEqual([sent.pinned.text]);
    expect(await texts('bob', '"of the"')).toEqual([sent.pinned.text]);
    const [hit] = (await search('bob', '"of the"')).results;
    expect(hit.highlight).toBe('pinned rules <mark>of the</mark> house');
    expect(await texts('bob', 'were')).toEqual([sent.runners.text]);
  });
});

describe('operators', () => {
  it('from:@user, from:@me, and an unknown user matches nothing', async () => {
    expect(await texts('bob', 'budget from:@bob')).toEqual([sent.thread.text]);
    expect(await texts('bob', 'budget from:@me')).toEqual([sent.thread.text]);
    expect(await texts('bob', 'budget from:alice')).toEqual([sent.mention.text]);
    expect(await texts('alice', 'deploy from:@carol')).toEqual([sent.dm.text]);
    expect(await texts('bob', 'budget from:@nobody')).toEqual([]);
  });

  it('in:#channel by name or cid; to:@user for DMs', async () => {
    expect(await texts('bob', 'deploy in:#secret')).toEqual([sent.plan.text]);
    expect(await texts('bob', `deploy in:${general}`)).toEqual([sent.script.text]);
    expect(await texts('alice', 'deploy to:@carol')).toEqual([sent.dm.text]);
    expect(await texts('alice', 'to:@Carol')).toEqual([sent.dm.text]);
  });

  it('has:link, has:reaction, has:file; is:thread, is:pinned; mentions:@me', async () => {
    expect(await texts('bob', 'has:link')).toEqual([sent.link.text, sent.api.text].sort());
    expect(await texts('bob', 'has:reaction')).toEqual([sent.reacted.text]);
    expect(await texts('bob', 'budget is:thread')).toEqual([sent.mention.text, sent.thread.text].sort());
    expect(await texts('bob', 'is:pinned')).toEqual([sent.pinned.text]);
    expect(await texts('bob', 'mentions:@me')).toEqual([sent.mention.text]);
    expect(await texts('alice', 'mentions:@me')).toEqual([]);
  });

  it('before:, after: and on: days', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(await texts('bob', `budget on:${today}`)).toHaveLength(2);
    expect(await texts('bob', `budget after:${yesterday}`)).toHaveLength(2);
    expect(await texts('bob', `budget before:${tomorrow}`)).toHaveLength(2);
    expect(await texts('bob', `budget before:${today}`)).toEqual([]);
    expect(await texts('bob', `budget after:${today}`)).toEqual([]);
  });
});

describe('has:file', () => {
  it('finds messages that carry an attachment', async () => {
    const base = await h.listen();
    const up = await upload(
      base,
      w.app,
      'alice',
      general,
      Buffer.from('quarterly numbers\n'),
      'numbers.txt',
      'text/plain',
    );
    expect(up.status, JSON.stringify(up.json)).toBe(200);
    const m = await w.send('alice', general, { text: 'the numbers, attached', attachments: [up.json.attachment.id] });
    expect(await texts('bob', 'has:file')).toEqual([m.text]);
    expect(await texts('bob', 'numbers has:file')).toEqual([m.text]);
    expect(await texts('bob', 'budget has:file')).toEqual([]);
  });
});

describe('what may be read', () => {
  it('finds public channels without membership, never groups or DMs of others', async () => {
    expect(await texts('dave', 'deploy')).toEqual([sent.script.text]);
    expect(await texts('dave', 'deploy in:#secret')).toEqual([]);
    expect(await texts('dave', 'deploy to:@carol')).toEqual([]);
  });

  it('never shows another app', async () => {
    const r = await search('alice', 'deploy budget secret plan running');
    expect(r.results).toEqual([]);
    const theirs = await search('alice', 'deploy', '', other);
    expect(theirs.results.map((x) => x.message.text)).toEqual(['deploy budget secret plan running from another app']);
  });

  it('a member removed from a private channel no longer finds its messages', async () => {
    const cid = await w.channel('alice', 'group', 'leaving', ['bob']);
    await w.send('alice', cid, 'quarterly numbers are confidential');
    expect(await texts('bob', 'confidential')).toEqual(['quarterly numbers are confidential']);
    const r = await w.rest('alice', 'POST', `/v1/channels/${cid}/members`, { remove: ['bob'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(await texts('bob', 'confidential')).toEqual([]);
    expect(await texts('alice', 'confidential')).toEqual(['quarterly numbers are confidential']);
  });

  it('edits are found at once; deleted messages vanish', async () => {
    const m = await w.send('alice', general, 'a typo in teh word');
    expect(await texts('bob', 'teh')).toEqual(['a typo in teh word']);
    expect((await w.rest('alice', 'PATCH', `/v1/messages/${m.id}`, { text: 'no typo in the wording' })).status).toBe(
      200,
    );
    expect(await texts('bob', 'teh')).toEqual([]);
    expect(await texts('bob', 'wording')).toEqual(['no typo in the wording']);
    expect((await w.rest('alice', 'DELETE', `/v1/messages/${m.id}`)).status).toBe(200);
    expect(await texts('bob', 'wording')).toEqual([]);
  });
});

describe('results', () => {
  it('highlights as text: markup in a message is escaped, matches are marked', async () => {
    const [hit] = (await search('bob', 'deploy in:#general')).results;
    expect(hit.message.id).toBe(sent.script.id);
    expect(hit.highlight).toContain('&lt;script&gt;');
    expect(hit.highlight).toContain('<mark>deploy</mark>');
    expect(hit.highlight).toContain('&amp;');
    expect(hit.highlight.replace(/<\/?mark>/g, '')).not.toMatch(/[<>]/);
    expect(hit.channel).toEqual({ cid: general, type: 'public', name: null });
  });

  it('pages with a cursor, newest first or by relevance, without repeats', async () => {
    const cid = await w.channel('alice', 'group', 'pages', ['bob']);
    for (let i = 0; i < 23; i++) await w.send('alice', cid, `pager item ${i}${i % 5 === 0 ? ' pager pager' : ''}`);
    for (const sort of ['newest', 'relevance']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await search('bob', 'pager', `&limit=10&sort=${sort}${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...r.results.map((x) => x.message.text));
        cursor = r.next;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(23);
      if (sort === 'newest') expect(seen[0]).toBe('pager item 22');
      else expect(seen.slice(0, 5).every((t) => t.endsWith('pager pager'))).toBe(true);
    }
  });

  it('the socket answers search.messages like REST', async () => {
    const s = await w.socket('bob');
    const reply = await s.request('search.messages', { q: 'run' });
    expect(reply.ok).toBe(true);
    expect(reply.results.map((x: any) => x.message.id)).toEqual([sent.runners.id]);
    expectWsError(await s.request('search.messages', { q: '' }), 'VALIDATION_ERROR');
  });
});

describe('people and channels, paged the same way', () => {
  it('user search pages with a cursor, in name order, without repeats', async () => {
    const pw = await makeWorld(
      h,
      Array.from({ length: 7 }, (_, i) => ({ id: `p${i}`, name: `Pat ${String.fromCharCode(71 - i)}` })),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { status: number; body: any } = await pw.rest(
        'p0',
        'GET',
        `/v1/users?q=pat&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      seen.push(...r.body.users.map((u: any) => u.name));
      cursor = r.body.next;
    } while (cursor);
    expect(seen).toEqual(['Pat A', 'Pat B', 'Pat C', 'Pat D', 'Pat E', 'Pat F', 'Pat G']);
    expectError(await pw.rest('p0', 'GET', '/v1/users?q=pat&cursor=garbage'), 400, 'VALIDATION_ERROR');
  });

  it('channel search finds words in the name, topic or description of channels the caller may see', async () => {
    const cw = await makeWorld(h, [{ id: 'kim' }, { id: 'lee' }]);
    const mk = async (id: string, type: 'public' | 'group', extra: Record<string, string>) => {
      const r = await cw.rest('kim', 'POST', '/v1/channels', {
        type,
        id,
        members: type === 'group' ? ['kim'] : [],
        ...extra,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    };
    await mk('ops', 'public', { name: 'ops', topic: 'Deploys and incidents' });
    await mk('random', 'public', { name: 'random', description: 'cats, memes and deploys of cats' });
    await mk('infra', 'public', { name: 'infra-deploys' });
    await mk('hidden', 'group', { name: 'deploy secrets' });
    const found = async (search: string, user = 'lee') => {
      const r = await cw.rest(user, 'POST', '/v1/channels/query', { filter: { search, joined: false }, limit: 2 });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as { channels: any[]; next: string | null };
    };
    const page1 = await found('DEPLOY');
    expect(page1.channels).toHaveLength(2);
    expect(page1.next).not.toBeNull();
    const r2 = await cw.rest('lee', 'POST', '/v1/channels/query', {
      filter: { search: 'DEPLOY', joined: false },
      limit: 2,
      cursor: page1.next,
    });
    const names = [...page1.channels, ...r2.body.channels].map((c: any) => c.name).sort();
    expect(names).toEqual(['infra-deploys', 'ops', 'random']);
    expect((await found('cats memes')).channels.map((c: any) => c.name)).toEqual(['random']);
    expect((await found('100%_sure')).channels).toEqual([]);
  });
});

describe('language', () => {
  it("an app's search language re-indexes its messages; an unknown one is refused", async () => {
    const de = await makeWorld(h, [{ id: 'anna' }]);
    const cid = await de.channel('anna', 'group', 'haus', []);
    await de.send('anna', cid, 'Die Häuser am Fluss sind groß');
    const find = async (q: string) => (await search('anna', q, '', de)).results.map((r) => r.message.text as string);
    expect(await find('Häuser')).toEqual(['Die Häuser am Fluss sind groß']);
    expect(await find('Haus')).toEqual([]);
    const patch = (id: string, body: unknown) =>
      h.call({
        method: 'PATCH',
        url: `/v1/admin/apps/${id}`,
        headers: { authorization: `Bearer ${ADMIN}` },
        payload: body as Record<string, unknown>,
      });
    const r = await patch(de.app.id, { search_language: 'german' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.search_language).toBe('german');
    expect(await find('Haus')).toEqual(['Die Häuser am Fluss sind groß']);
    await de.send('anna', cid, 'Ein neues Haus');
    expect((await find('Häuser')).sort()).toEqual(['Die Häuser am Fluss sind groß', 'Ein neues Haus']);
    expectError(await patch(de.app.id, { search_language: 'klingon' }), 400, 'VALIDATION_ERROR');
    expectError(await patch(de.app.id, { search_language: "english'; drop" }), 400, 'VALIDATION_ERROR');
    expectError(await patch(de.app.id, {}), 400, 'VALIDATION_ERROR');
    expectError(await patch('00000000-0000-4000-8000-000000000000', { search_language: 'simple' }), 404, 'NOT_FOUND');
    // The other app kept its language.
    expect(await texts('bob', 'run')).toEqual([sent.runners.text]);
  });
});

describe('the stored vectors', () => {
  it("are the app language's, whichever path wrote them: the send batch, the one-send path, an insert of its own", async () => {
    // Plain sends write their vector in the batch statement (migration 0023); thread replies,
    // edits and other inserts get it from the trigger. Both must give the same vector.
    const de = await makeWorld(h, [{ id: 'otto' }]);
    const cid = await de.channel('otto', 'group', 'vectors', []);
    const root = await de.send('otto', cid, 'Die Katzen liefen schnell');
    await de.send('otto', cid, { text: 'Antworten auf Fragen', parent_id: root.id });
    const patch = await h.call({
      method: 'PATCH',
      url: `/v1/admin/apps/${de.app.id}`,
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: { search_language: 'german' },
    });
    expect(patch.status, JSON.stringify(patch.body)).toBe(200);
    await de.send('otto', cid, 'Die Häuser standen leer');
    await de.send('otto', cid, { text: 'Kinder spielten draußen', parent_id: root.id });
    const drift = await rows<{ text: string; stored: string | null; want: string }>(
      h.database.db,
      sql`select m.text, m.search_tsv::text as stored,
            to_tsvector(a.search_language::regconfig, parley_search_document(m.text))::text as want
          from messages m join apps a on a.id = m.app_id
          where m.type = 'regular' and m.deleted_at is null
            and m.search_tsv is distinct from to_tsvector(a.search_language::regconfig, parley_search_document(m.text))`,
    );
    expect(drift).toEqual([]);
    const [german] = await rows<{ tsv: string }>(
      h.database.db,
      sql`select search_tsv::text as tsv from messages where app_id = ${de.app.id} and text = 'Die Häuser standen leer'`,
    );
    // German stems: 'häuser' → 'haus', 'standen' → 'stand'; 'die' is a stop word.
    expect(german?.tsv).toBe("'haus':2 'leer':4 'stand':3");
  });
});

describe('bad input', () => {
  it('is a VALIDATION_ERROR naming the problem, never a 500', async () => {
    const bad = async (q: string, extra = '') =>
      w.rest('bob', 'GET', `/v1/search/messages?q=${encodeURIComponent(q)}${extra}`);
    expectError(await bad(''), 400, 'VALIDATION_ERROR');
    expectError(await bad('   '), 400, 'VALIDATION_ERROR');
    expectError(await bad('-alone'), 400, 'VALIDATION_ERROR');
    expectError(await bad('before:2026-13-45'), 400, 'VALIDATION_ERROR');
    expectError(await bad('on:yesterday'), 400, 'VALIDATION_ERROR');
    expectError(await bad('has:everything'), 400, 'VALIDATION_ERROR');
    expectError(await bad('-from:@bob x'), 400, 'VALIDATION_ERROR');
    expectError(await bad('x'.repeat(501)), 400, 'VALIDATION_ERROR');
    expectError(await bad('x', '&cursor=nonsense'), 400, 'VALIDATION_ERROR');
    expectError(await bad('x', '&limit=51'), 400, 'VALIDATION_ERROR');
    expectError(await bad('x', '&sort=random'), 400, 'VALIDATION_ERROR');
    // A cursor of another search is refused rather than paging the wrong list.
    const cid = await w.channel('alice', 'group', 'cursor', ['bob']);
    for (let i = 0; i < 3; i++) await w.send('alice', cid, `cursor test ${i}`);
    const first = await search('bob', 'cursor', '&limit=1');
    expect(first.next).not.toBeNull();
    expectError(await bad('other', `&limit=1&cursor=${first.next}`), 400, 'VALIDATION_ERROR');
  });

  it('text that breaks naive parsers is searched, not executed', async () => {
    for (const q of ["'; drop table messages; --", '"unclosed phrase', '(((', '!!! & | <->', 'a:b:c', '\\', '%_%']) {
      const r = await w.rest('bob', 'GET', `/v1/search/messages?q=${encodeURIComponent(q)}`);
      expect([200, 400], `${q}: ${JSON.stringify(r.body)}`).toContain(r.status);
    }
    expect(await texts('bob', 'run')).toEqual([sent.runners.text]);
  });

  it('needs a known caller', async () => {
    const r = await h.call({ method: 'GET', url: '/v1/search/messages?q=x', headers: { 'x-api-key': w.app.apiKey } });
    expect(r.status).toBe(401);
  });
});
