/**
 * The search index's pending list (features/search/index-flush.ts): a send only appends to it,
 * a message is searchable the moment it commits all the same, and the server's loop merges the
 * list into the index's trees without any send waiting for it — on PGlite and PostgreSQL.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_INDEX } from '../../src/features/search/index-flush.js';
import { rows } from '../../src/platform/db/index.js';
import { eventually, type Harness, startHarness } from '../harness.js';
import { makeWorld, type World } from '../messaging/world.js';

const flushNow = async (h: Harness) =>
  (
    await rows<{ pages: number }>(
      h.database.db,
      sql`select gin_clean_pending_list(${SEARCH_INDEX}::regclass)::int as pages`,
    )
  )[0]!.pages;

const found = async (w: World, q: string) => {
  const r = await w.rest('alice', 'GET', `/v1/search/messages?q=${encodeURIComponent(q)}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.results as { message: { text: string } }[]).map((x) => x.message.text);
};

describe('with the loop off (PARLEY_SEARCH_FLUSH_MS=0)', () => {
  let h: Harness;
  let w: World;
  let general: string;
  beforeAll(async () => {
    h = await startHarness({ searchFlushMs: 0 });
    w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
    general = await w.channel('alice', 'public', 'general', ['bob']);
  });
  afterAll(async () => {
    await w.closeSockets();
    await h.close();
  });

  it('keeps a pending list on the index', async () => {
    const [idx] = await rows<{ opts: string[] }>(
      h.database.db,
      sql`select reloptions as opts from pg_class where relname = ${SEARCH_INDEX}`,
    );
    expect(idx!.opts).toEqual(expect.arrayContaining(['fastupdate=on', 'gin_pending_list_limit=65536']));
  });

  it('finds a message while its entries are still pending, and after they are merged', async () => {
    await flushNow(h);
    await w.send('bob', general, 'the quarterly zanzibar rollout starts monday');
    await w.send('bob', general, 'unrelated chatter about lunch');
    // Found at once: the pending list is part of the index, written in the send's transaction.
    expect(await found(w, 'zanzibar')).toEqual(['the quarterly zanzibar rollout starts monday']);
    expect(await found(w, '"zanzibar rollout"')).toHaveLength(1);
    // The entries were pending (nothing else merged them): the merge empties at least a page.
    expect(await flushNow(h)).toBeGreaterThan(0);
    expect(await flushNow(h)).toBe(0);
    expect(await found(w, 'zanzibar')).toEqual(['the quarterly zanzibar rollout starts monday']);
  });

  it('reflects edits and deletes whether or not the list was merged', async () => {
    const m = await w.send('bob', general, 'draft about kilimanjaro');
    expect(await found(w, 'kilimanjaro')).toHaveLength(1);
    expect((await w.rest('bob', 'PATCH', `/v1/messages/${m.id}`, { text: 'final about everest' })).status).toBe(200);
    expect(await found(w, 'kilimanjaro')).toEqual([]);
    expect(await found(w, 'everest')).toEqual(['final about everest']);
    await flushNow(h);
    expect((await w.rest('bob', 'DELETE', `/v1/messages/${m.id}`)).status).toBe(200);
    expect(await found(w, 'everest')).toEqual([]);
  });
});

describe('with the loop on', () => {
  let h: Harness;
  let w: World;
  let general: string;
  beforeAll(async () => {
    h = await startHarness({ searchFlushMs: 50 });
    w = await makeWorld(h, [{ id: 'alice' }, { id: 'bob' }]);
    general = await w.channel('alice', 'public', 'general', ['bob']);
  });
  afterAll(async () => {
    await w.closeSockets();
    await h.close();
  });

  const flushes = async () => {
    const m = h.server.svc.metrics.registry.getSingleMetric('parley_search_index_flush_seconds');
    const v = (await m!.get()).values.find(
      (x) => (x as { metricName?: string }).metricName === 'parley_search_index_flush_seconds_count',
    );
    return v?.value ?? 0;
  };

  it('merges what sends left pending, on its own', async () => {
    for (let i = 0; i < 20; i++) await w.send('bob', general, `status report ${i} mentions timbuktu`);
    const after = await flushes();
    // Two more flushes: the second began after the last send had committed.
    await eventually(async () => (await flushes()) >= after + 2);
    expect(await flushNow(h)).toBe(0);
    expect(await found(w, 'timbuktu')).toHaveLength(20);
  });
});
