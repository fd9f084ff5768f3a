/**
 * One @name, one thing: a username and a user group's handle share one namespace per app, any
 * case, and the mention keywords are no one's. Every write path is tried — PATCH /v1/me, the
 * server's upsert, group create and rename, the Slack import, a raw insert past the actions —
 * and `GET /v1/usernames/{name}` must say what the writes do. Two writes taking one name at once
 * cannot both win: through the API, and (on PostgreSQL) two open transactions on the database.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSlackExport } from '../../src/features/imports/index.js';
import { isNameClash } from '../../src/features/users/index.js';
import { rows } from '../../src/platform/db/index.js';
import { buildAccount, buildWorkspace, chatHeaders, ok } from '../accounts/helpers.js';
import { eventually, type Harness, startHarness, type TestApp } from '../harness.js';

let h: Harness;
let app: TestApp;
beforeAll(async () => {
  h = await startHarness();
  app = await h.createApp('names');
  await h.users(app, [
    { id: 'ada', name: 'Ada' },
    { id: 'bob', name: 'Bob' },
    { id: 'root', name: 'Root', role: 'admin' },
  ]);
});
afterAll(async () => h?.close());

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const as = async (who: string, method: Method, url: string, payload?: object) =>
  h.call({ method, url, headers: await app.user(who), ...(payload ? { payload } : {}) });
const asServer = async (method: Method, url: string, payload?: object) =>
  h.call({ method, url, headers: await app.server(), ...(payload ? { payload } : {}) });
const available = async (name: string, who = 'ada') => (await as(who, 'GET', `/v1/usernames/${name}`)).body;
const newGroup = (handle: string) => as('root', 'POST', '/v1/user-groups', { handle, name: handle });
/** Who holds `name` in the app now, from the table the database keeps. */
const holders = async (name: string) =>
  rows<{ user_id: string | null; group_id: string | null }>(
    h.database.db,
    sql`select user_id, group_id from mention_names where app_id = ${app.id} and name = lower(${name})`,
  );

describe('a username and a group handle are one namespace', () => {
  it("refuses a group's handle as a username on PATCH /v1/me, in any case, and availability agrees", async () => {
    expect((await newGroup('eng')).status).toBe(201);
    expect(await available('ENG')).toEqual({ available: false, reason: 'taken' });
    const r = await as('ada', 'PATCH', '/v1/me', { username: 'Eng' });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({
      code: 'CONFLICT',
      details: { field: 'username', reason: 'taken', held_by: 'group' },
    });
    expect((await as('ada', 'GET', '/v1/users/ada')).body.user.username).toBeNull();
  });

  it("refuses it on the server's upsert, naming each user, and saves none of the batch", async () => {
    const r = await asServer('POST', '/v1/users', {
      users: [
        { id: 'cy', name: 'Cy', username: 'cy' },
        { id: 'dee', name: 'Dee', username: 'ENG' },
        { id: 'bob', username: 'here' },
      ],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(400); // a reserved word among them: the batch is invalid
    expect(r.body.error.details).toEqual({
      field: 'username',
      users: [
        { id: 'bob', username: 'here', reason: 'reserved' },
        { id: 'dee', username: 'ENG', reason: 'taken', held_by: 'group' },
      ],
    });
    const clash = await asServer('POST', '/v1/users', { users: [{ id: 'cy', name: 'Cy', username: 'Eng' }] });
    expect(clash.status).toBe(409);
    expect(clash.body.error.details.users).toEqual([{ id: 'cy', username: 'Eng', reason: 'taken', held_by: 'group' }]);
    // Nothing of either batch was written.
    expect((await asServer('GET', '/v1/users/cy')).status).toBe(404);
    expect((await asServer('GET', '/v1/users/bob')).body.user.username).toBeNull();
    // The app's server may give a person a name a person may not choose for themself.
    ok(await asServer('POST', '/v1/users', { users: [{ id: 'root', username: 'admin' }] }));
    expect((await as('ada', 'PATCH', '/v1/me', { username: 'support' })).status).toBe(400);
    expect(await available('support')).toEqual({ available: false, reason: 'reserved' });
    expect((await asServer('GET', '/v1/usernames/support')).body).toEqual({ available: true });
  });

  it("refuses a username as a group's handle on create and rename; a group keeps its own in another case", async () => {
    ok(await as('bob', 'PATCH', '/v1/me', { username: 'Bobby' }));
    const made = await newGroup('BOBBY');
    expect(made.status).toBe(409);
    expect(made.body.error.details).toMatchObject({ field: 'handle', reason: 'taken', held_by: 'user' });
    const ops = await newGroup('ops');
    expect(ops.status).toBe(201);
    const id = ops.body.group.id;
    const renamed = await as('root', 'PATCH', `/v1/user-groups/${id}`, { handle: 'bobby' });
    expect(renamed.status).toBe(409);
    expect((await as('root', 'PATCH', `/v1/user-groups/${id}`, { handle: 'eng' })).body.error.details).toMatchObject({
      reason: 'taken',
      held_by: 'group',
    });
    for (const keyword of ['here', 'Channel', 'everyone', 'all'])
      expect((await newGroup(keyword)).body.error).toMatchObject({
        code: 'VALIDATION_ERROR',
        details: { reason: 'reserved' },
      });
    ok(await as('root', 'PATCH', `/v1/user-groups/${id}`, { handle: 'OPS' }));
    expect(await holders('ops')).toEqual([{ user_id: null, group_id: id }]);
    // A name given up is free again: bob's old name can be a group's now.
    ok(await as('bob', 'PATCH', '/v1/me', { username: 'robert' }));
    expect(await available('bobby')).toEqual({ available: true });
    const bobby = await newGroup('bobby');
    expect(bobby.status).toBe(201);
    expect((await as('bob', 'PATCH', '/v1/me', { username: 'bobby' })).status).toBe(409);
    // And a deleted group's handle is free at once.
    ok(await as('root', 'DELETE', `/v1/user-groups/${bobby.body.group.id}`));
    ok(await as('bob', 'PATCH', '/v1/me', { username: 'bobby' }));
    expect(await holders('bobby')).toEqual([{ user_id: 'bob', group_id: null }]);
  });

  it('holds on a write that goes past the actions: the database refuses it', async () => {
    // As a bulk insert, a script or a future path would: the rule is the table's key.
    const raw = h.database.db.execute(
      sql`insert into users (app_id, id, name, username) values (${app.id}, 'raw', 'Raw', 'ENG')`,
    );
    const err = await raw.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ cause: { code: '23505', constraint: 'mention_names_app_id_name_pk' } });
    // What the actions read to answer a lost race with CONFLICT rather than INTERNAL.
    expect(isNameClash(err)).toBe(true);
    expect(await holders('eng')).toHaveLength(1);
  });

  it('lets one of two writes taking one name at once win, the other told CONFLICT', async () => {
    for (let round = 0; round < 4; round++) {
      const name = `race${round}`;
      // A person takes the name while an admin makes a group of it; even rounds start the user.
      const user = () => as('ada', 'PATCH', '/v1/me', { username: name });
      const group = () => newGroup(name);
      let u: Awaited<ReturnType<typeof user>>;
      let g: Awaited<ReturnType<typeof group>>;
      if (round % 2 === 0) [u, g] = await Promise.all([user(), group()]);
      else [g, u] = await Promise.all([group(), user()]);
      const said = JSON.stringify([u.body, g.body]);
      expect([u.status === 200, g.status === 201].filter(Boolean), said).toHaveLength(1);
      expect((u.status === 200 ? g : u).status, said).toBe(409);
      expect(await holders(name)).toHaveLength(1);
    }
  });
});

describe('two transactions taking one name at once (PostgreSQL)', () => {
  it.skipIf(!process.env.DATABASE_URL)(
    'the second waits for the first, then fails on the key: both cannot commit',
    async () => {
      const driver = h.database.driver;
      if (driver.kind !== 'postgres') throw new Error('this test needs PostgreSQL');
      const a = await driver.pool.connect();
      const b = await driver.pool.connect();
      try {
        const bPid = (await b.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
        await a.query('begin');
        await b.query('begin');
        // Each passes any check it would make: nothing is committed yet. A takes it as a username.
        await a.query(`update users set username = 'tx-race' where app_id = $1 and id = 'ada'`, [app.id]);
        const groupInsert = b
          .query(
            `insert into user_groups (app_id, id, handle, name) values ($1, gen_random_uuid(), 'TX-Race', 'Race')`,
            [app.id],
          )
          .then(
            () => 'inserted',
            (err: { code?: string }) => err.code,
          );
        // B's insert waits on A's uncommitted claim of the name.
        await eventually(
          async () =>
            (
              await driver.pool.query(`select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'`, [
                bPid,
              ])
            ).rowCount === 1,
        );
        await a.query('commit');
        expect(await groupInsert).toBe('23505');
        await b.query('rollback');
      } finally {
        a.release();
        b.release();
      }
      expect(await holders('tx-race')).toEqual([{ user_id: 'ada', group_id: null }]);
      expect((await as('ada', 'GET', '/v1/users/ada')).body.user.username).toBe('tx-race');
    },
  );
});

describe('the Slack import', () => {
  it('gives a user whose Slack name is taken or a keyword the first free suffix, and reports it', async () => {
    const owner = await buildAccount(h, 'Owner');
    const ws = await buildWorkspace(owner, 'Imported');
    const session = ok(await owner.session(ws.id));
    const chat = chatHeaders(session);
    const call = (method: Method, url: string, payload?: object) =>
      h.call({ method, url, headers: chat, ...(payload ? { payload } : {}) });
    expect((await call('POST', '/v1/user-groups', { handle: 'design', name: 'Design' })).status).toBe(201);
    expect((await call('POST', '/v1/user-groups', { handle: 'design-2', name: 'Design two' })).status).toBe(201);
    const slackUsers = [
      { id: 'U1', name: 'design', real_name: 'Dana' },
      { id: 'U2', name: 'here', real_name: 'Hera' },
      { id: 'U3', name: 'ok.name', real_name: 'Olga' },
      { id: 'U4', name: 'has space', real_name: 'Spacey' },
      { id: 'U5', name: 'DANA', real_name: 'Dana Two' },
      { id: 'U6', name: 'dana', real_name: 'Dana Three' },
    ];
    const files = new Map<string, Uint8Array>([
      ['users.json', Buffer.from(JSON.stringify(slackUsers))],
      ['channels.json', Buffer.from('[]')],
    ]);
    const dry = await importSlackExport(h.database, ws.id, files, { dryRun: true });
    const report = await importSlackExport(h.database, ws.id, files);
    const expected = [
      { slack_id: 'U1', wanted: 'design', username: 'design-3', reason: 'taken', held_by: 'group' },
      { slack_id: 'U2', wanted: 'here', username: 'here-2', reason: 'reserved' },
      { slack_id: 'U4', wanted: 'has space', username: null, reason: 'invalid' },
      { slack_id: 'U6', wanted: 'dana', username: 'dana-2', reason: 'taken', held_by: 'user' },
    ];
    expect(dry.users.renamed).toEqual(expected);
    expect(report.users.renamed).toEqual(expected);
    const names = await rows<{ id: string; username: string | null }>(
      h.database.db,
      sql`select id, username from users where app_id = ${ws.id} and id like 'slack-%' order by id`,
    );
    expect(names).toEqual([
      { id: 'slack-U1', username: 'design-3' },
      { id: 'slack-U2', username: 'here-2' },
      { id: 'slack-U3', username: 'ok.name' },
      { id: 'slack-U4', username: null },
      { id: 'slack-U5', username: 'DANA' },
      { id: 'slack-U6', username: 'dana-2' },
    ]);
    // A re-run renames no one again: the users are there, with the names they got.
    expect((await importSlackExport(h.database, ws.id, files)).users.renamed).toEqual([]);
  });
});
