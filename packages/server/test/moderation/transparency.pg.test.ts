/**
 * The transparency report (`GET /v1/moderation/report`): an app's moderation actions per day,
 * ISO week or month, as JSON and CSV — reports by people and automatic flags from the queue;
 * reviews by outcome, bans, shadow bans, unbans and the assistant's verdicts from the audit log —
 * counted into the period they happened in, empty periods included, never another app's; for
 * app moderators and admins and the server token only; bad ranges refused with a clear error.
 */
import { TRANSPARENCY_COLUMNS } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit, SYSTEM } from '../../src/features/audit/index.js';
import { expectError, ok, world } from '../channels/helpers.js';
import { type Harness, startHarness } from '../harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const today = () => new Date().toISOString().slice(0, 10);

describe('GET /v1/moderation/report', () => {
  it('counts each kind of action into its period, as JSON and CSV, and never another app’s', async () => {
    const w = await world(h, [{ id: 'mod', role: 'moderator' }]);
    const mod = w.as('mod');
    ok(await w.alice.create({ type: 'public', id: 'town', members: ['bob', 'carol', 'dave', 'erin'] }));
    // Automod flags messages with "spoiler" (an automatic flag, no reporter).
    const put = await h.call({
      method: 'PUT',
      url: '/v1/moderation/automod',
      headers: await w.app.server(),
      payload: {
        blocked_words: ['spoiler'],
        blocked_patterns: [],
        blocked_domains: [],
        action: 'flag',
        spam_channels: 0,
        spam_window_s: 60,
        max_mentions: 0,
      },
    });
    expect(put.status).toBe(200);
    ok(await w.dave.send('public:town', 'a spoiler for everyone'));

    // Three reports by people, each reviewed a different way.
    const m1 = ok(await w.bob.send('public:town', 'rude one')).message;
    const m2 = ok(await w.carol.send('public:town', 'rude two')).message;
    const m3 = ok(await w.erin.send('public:town', 'fine really')).message;
    const f1 = ok(await w.dave.post('/v1/moderation/flags', { message_id: m1.id, reason: 'rude' })).flag;
    const f2 = ok(await w.dave.post('/v1/moderation/flags', { message_id: m2.id, reason: 'rude' })).flag;
    const f3 = ok(await w.alice.post('/v1/moderation/flags', { message_id: m3.id, reason: 'hmm' })).flag;
    ok(await mod.post(`/v1/moderation/flags/${f1.id}/review`, { action: 'remove' }));
    ok(await mod.post(`/v1/moderation/flags/${f2.id}/review`, { action: 'ban' })); // bans carol app-wide
    ok(await mod.post(`/v1/moderation/flags/${f3.id}/review`, { action: 'dismiss' }));
    // A shadow ban, a ban and its lifting.
    ok(await mod.post('/v1/moderation/bans', { user_id: 'erin', shadow: true }));
    ok(await mod.post('/v1/moderation/bans', { user_id: 'bob', cid: 'public:town', reason: 'cool off' }));
    ok(await mod.post('/v1/moderation/unban', { user_id: 'bob', cid: 'public:town' }));
    // The assistant's verdicts, as its moderation step records them.
    for (const action of [
      'assistant.message_blocked',
      'assistant.message_blocked',
      'assistant.message_flagged',
    ] as const)
      await recordAudit(h.database.db, {
        appId: w.app.id,
        actor: SYSTEM,
        action,
        target: { kind: 'user', id: 'dave' },
        details: {},
      });

    // One report and one ban moved back into last month; another app's actions beside.
    const lastMonth = new Date();
    lastMonth.setUTCDate(1);
    lastMonth.setUTCMonth(lastMonth.getUTCMonth() - 1);
    const back = lastMonth.toISOString();
    await h.database.db.execute(sql`update moderation_flags set created_at = ${back}::timestamptz
      where app_id = ${w.app.id} and id = ${f3.id}`);
    await h.database.db.execute(sql`update audit_log set at = ${back}::timestamptz
      where id = (select id from audit_log where app_id = ${w.app.id} and action = 'moderation.ban' order by id desc limit 1)`);
    const other = await world(h, [{ id: 'mod', role: 'moderator' }]);
    ok(await other.alice.create({ type: 'public', id: 'town', members: ['bob'] }));
    const om = ok(await other.bob.send('public:town', 'elsewhere')).message;
    ok(await other.alice.post('/v1/moderation/flags', { message_id: om.id, reason: 'x' }));

    const r = ok(await mod.get('/v1/moderation/report'));
    expect(r.period).toBe('month');
    expect(r.periods).toHaveLength(12);
    expect(r.to).toBe(today());
    const [prev, cur] = r.periods.slice(-2);
    expect(cur.end).toBe(today());
    expect(cur.start).toBe(`${today().slice(0, 7)}-01`);
    expect(cur).toMatchObject({
      reports: 2,
      flagged_automatically: 1,
      reviewed_removed: 1,
      reviewed_banned: 1,
      reviewed_dismissed: 1,
      bans: 1, // the review's ban; the channel ban went back a month
      shadow_bans: 1,
      unbans: 1,
      ai_blocked: 2,
      ai_flagged: 1,
    });
    expect(prev).toMatchObject({ start: back.slice(0, 10), reports: 1, bans: 1, reviewed_removed: 0 });
    // Every other period is there, empty.
    for (const p of r.periods.slice(0, -2)) for (const c of TRANSPARENCY_COLUMNS) expect(p[c]).toBe(0);
    expect(r.totals).toMatchObject({ reports: 3, bans: 2, ai_blocked: 2, flagged_automatically: 1 });

    // By day (today alone), and by ISO week (Monday first).
    const days = ok(await mod.get(`/v1/moderation/report?period=day&from=${today()}&to=${today()}`));
    expect(days.periods).toEqual([{ start: today(), end: today(), ...days.totals }]);
    expect(days.totals.reports).toBe(2);
    const weeks = ok(await mod.get('/v1/moderation/report?period=week&from=2026-11-01&to=2026-11-30'));
    expect(weeks.periods.map((p: { start: string; end: string }) => `${p.start}..${p.end}`)).toEqual([
      '2026-11-01..2026-11-01',
      '2026-11-02..2026-11-08',
      '2026-11-09..2026-11-15',
      '2026-11-16..2026-11-22',
      '2026-11-23..2026-11-29',
      '2026-11-30..2026-11-30',
    ]);

    // CSV: a header, a line a period, the totals; a file to save.
    const csv = await h.call({
      method: 'GET',
      url: `/v1/moderation/report?format=csv&period=day&from=${today()}&to=${today()}`,
      headers: await w.app.user('mod'),
    });
    expect(csv.status).toBe(200);
    const lines = String(csv.body).trim().split('\r\n');
    expect(lines[0]).toBe(`period_start,period_end,${TRANSPARENCY_COLUMNS.join(',')}`);
    expect(lines[1]).toBe(`${today()},${today()},2,1,1,1,1,1,1,1,2,1`);
    expect(lines[2]).toBe('total,,2,1,1,1,1,1,1,1,2,1');
    expect(lines).toHaveLength(3);
    const raw = await h.app.inject({
      method: 'GET',
      url: '/v1/moderation/report?format=csv',
      headers: await w.app.server(),
    });
    expect(raw.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(raw.headers['content-disposition']).toMatch(/^attachment; filename="moderation-report-\d{4}-\d{2}-\d{2}-/);

    // The other app sees its one report only.
    const theirs = ok(await other.as('mod').get('/v1/moderation/report?period=day'));
    expect(theirs.totals).toMatchObject({ reports: 1, bans: 0, reviewed_removed: 0 });
  });

  it('is for moderators and admins; bad ranges are refused and say why', async () => {
    const w = await world(h, [{ id: 'mod', role: 'moderator' }]);
    expectError(await w.bob.get('/v1/moderation/report'), 'FORBIDDEN');
    ok(await w.server.get('/v1/moderation/report'));
    const mod = w.as('mod');
    expectError(await mod.get('/v1/moderation/report?from=2026-05-02&to=2026-05-01'), 'VALIDATION_ERROR');
    const feb = await mod.get('/v1/moderation/report?from=2026-02-31');
    expectError(feb, 'VALIDATION_ERROR');
    expect(feb.body.error.message).toContain('2026-02-31');
    const many = await mod.get('/v1/moderation/report?period=day&from=2020-01-01&to=2026-01-01');
    expectError(many, 'VALIDATION_ERROR');
    expect(many.body.error.message).toContain('400');
    expectError(await mod.get('/v1/moderation/report?period=day&from=9999-12-31&to=9999-12-31'), 'VALIDATION_ERROR');
    expectError(await mod.get('/v1/moderation/report?from=0000-01-01'), 'VALIDATION_ERROR');
    expectError(await mod.get('/v1/moderation/report?period=year'), 'VALIDATION_ERROR');
    expectError(await mod.get('/v1/moderation/report?format=xml'), 'VALIDATION_ERROR');
  });
});
