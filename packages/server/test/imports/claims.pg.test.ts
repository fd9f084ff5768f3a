/**
 * Imported people claimed by their owners (issue 59): an account whose verified email is that
 * of a person a Slack import brought in becomes that person when it joins the workspace — by an
 * invite or by the domain rule — with their messages, channels and reactions as its own. An
 * unverified address claims nothing, a person deleted in Slack is not claimable, and a person is
 * claimed once.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSlackExport } from '../../src/features/imports/index.js';
import { rows } from '../../src/platform/db/index.js';
import { type Browser, buildAccount, buildWorkspace, chatHeaders, join, ok, send } from '../accounts/helpers.js';
import { linkToken, startSmtp, type TestSmtp } from '../accounts/smtp.js';
import { type Harness, startHarness } from '../harness.js';

let smtp: TestSmtp;
let h: Harness;
beforeAll(async () => {
  smtp = await startSmtp();
  h = await startHarness({ smtpUrl: smtp.url, publicUrl: 'http://chat.example.test' });
});
afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const T0 = 1_700_000_000;
const ts = (s: number) => `${T0 + s}.000100`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const unique = (name: string, domain = 'example.com') => `${name}.${Math.random().toString(36).slice(2)}@${domain}`;

/** An account whose email is verified, by following the link the SMTP server received. */
async function verifiedAccount(name: string, mail: string): Promise<Browser> {
  const since = smtp.mails.length;
  const a = await buildAccount(h, name, mail);
  const token = linkToken(await smtp.waitFor(mail, { subject: /Confirm your email/, since }));
  ok(await send(h, { method: 'POST', url: '/v1/auth/email/verify', payload: { token } }));
  return a;
}

/** A Slack export: Ada, Bob (deleted) and Cat in #general, Ada's message with Cat's reaction. */
function slackExport(emails: { ada: string; bob: string; cat: string }) {
  return new Map<string, Uint8Array>([
    [
      'users.json',
      json([
        { id: 'UADA', name: 'ada', real_name: 'Ada Lovelace', profile: { email: emails.ada.toUpperCase() } },
        { id: 'UBOB', name: 'bob', real_name: 'Bob', deleted: true, profile: { email: emails.bob } },
        { id: 'UCAT', name: 'cat', real_name: 'Cat', profile: { email: emails.cat } },
      ]),
    ],
    ['channels.json', json([{ id: 'CGEN', name: 'general', created: T0, members: ['UADA', 'UCAT'] }])],
    [
      'general/2023-11-14.json',
      json([
        {
          type: 'message',
          user: 'UADA',
          text: 'from before the move',
          ts: ts(10),
          reactions: [{ name: 'tada', users: ['UCAT', 'UADA'], count: 2 }],
        },
        { type: 'message', user: 'UBOB', text: 'bye', ts: ts(20) },
        { type: 'message', user: 'UCAT', text: 'welcome', ts: ts(30) },
      ]),
    ],
  ]);
}

const claimsOf = (appId: string) =>
  rows<{ email: string; user_id: string; source: string; claimed_by: string | null }>(
    h.database.db,
    sql`select email, user_id, source, claimed_by from import_claims where app_id = ${appId} order by email`,
  );

describe('claiming an imported person', () => {
  it('an invited account with the verified email becomes that person, history and all', async () => {
    const owner = await buildAccount(h, 'Owner');
    const ws = await buildWorkspace(owner, 'Moved');
    const emails = { ada: unique('ada'), bob: unique('bob'), cat: unique('cat') };
    const files = slackExport(emails);
    // A dry run records nothing; the import records Ada and Cat (lower case), not Bob (deleted).
    await importSlackExport(h.database, ws.id, files, { dryRun: true });
    expect(await claimsOf(ws.id)).toEqual([]);
    await importSlackExport(h.database, ws.id, files);
    expect(await claimsOf(ws.id)).toEqual(
      [
        { email: emails.ada.toLowerCase(), user_id: 'slack-UADA', source: 'slack', claimed_by: null },
        { email: emails.cat, user_id: 'slack-UCAT', source: 'slack', claimed_by: null },
      ].sort((a, b) => a.email.localeCompare(b.email)),
    );
    // A re-run keeps them as they are.
    await importSlackExport(h.database, ws.id, files);
    expect(await claimsOf(ws.id)).toHaveLength(2);

    const ada = await verifiedAccount('Ada L.', emails.ada);
    const joined = await join(owner, ws.id, ada);
    expect(joined.id).toBe(ws.id);
    const session = ok(await ada.session(ws.id));
    expect(session.user_id).toBe('slack-UADA');
    const get = (url: string) => h.call({ method: 'GET', url, headers: chatHeaders(session) });
    // Her channel, her message, her reaction.
    const mine = await get('/v1/channels/public:general/messages');
    expect(mine.status).toBe(200);
    const first = mine.body.messages.find((m: { text: string }) => m.text === 'from before the move');
    expect(first.user_id).toBe('slack-UADA');
    expect(first.own_reactions).toEqual(['tada']);
    const channel = await get('/v1/channels/public:general');
    expect(channel.body.channel.membership).toMatchObject({ role: 'member' }); // hers, from Slack
    // Recorded as claimed, by her account, and in the audit log.
    expect((await claimsOf(ws.id)).find((c) => c.user_id === 'slack-UADA')?.claimed_by).toBe(ada.account.id);
    const audit = await rows<{ details: { claimed_user_id?: string } }>(
      h.database.db,
      sql`select details from audit_log where app_id = ${ws.id} and action = 'invite.accepted'`,
    );
    expect(audit.map((a) => a.details.claimed_user_id)).toEqual(['slack-UADA']);
  });

  it('claims nothing with an unverified email, and never a person deleted in Slack', async () => {
    const owner = await buildAccount(h, 'Owner');
    const ws = await buildWorkspace(owner, 'Careful');
    const emails = { ada: unique('ada'), bob: unique('bob'), cat: unique('cat') };
    await importSlackExport(h.database, ws.id, slackExport(emails));

    // Cat signs up with her Slack address but has not verified it: a new person, Cat stays unclaimed.
    const cat = await buildAccount(h, 'Cat', emails.cat);
    await join(owner, ws.id, cat);
    const catSession = ok(await cat.session(ws.id));
    expect(catSession.user_id).not.toBe('slack-UCAT');
    expect((await claimsOf(ws.id)).find((c) => c.user_id === 'slack-UCAT')?.claimed_by).toBeNull();

    // Bob, deleted in Slack, verified here: a new person; his old messages stay Bob's.
    const bob = await verifiedAccount('Bob', emails.bob);
    await join(owner, ws.id, bob);
    expect(ok(await bob.session(ws.id)).user_id).not.toBe('slack-UBOB');
  });

  it('lets a verified account at the domain claim its person when it joins by the domain rule', async () => {
    const domain = `${Math.random().toString(36).slice(2)}.example.org`;
    const owner = await buildAccount(h, 'Owner');
    const ws = await buildWorkspace(owner, 'Domain');
    ok(await owner.patch(`/v1/workspaces/${ws.id}`, { join_policy: 'domain', join_domain: domain }));
    const emails = { ada: unique('ada', domain), bob: unique('bob', domain), cat: unique('cat', domain) };
    await importSlackExport(h.database, ws.id, slackExport(emails));
    const cat = await verifiedAccount('Cat', emails.cat);
    ok(await cat.post(`/v1/join/${ws.id}`));
    expect(ok(await cat.session(ws.id)).user_id).toBe('slack-UCAT');
  });
});
