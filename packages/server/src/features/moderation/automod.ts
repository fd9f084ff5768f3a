/**
 * Automod: checks every new message before it is written. Per app (`apps.automod`, read with
 * the app, so no query per send): blocked words, blocked patterns, blocked link domains, a
 * spam heuristic (the same text from one user `spam_channels` times within `spam_window_s`,
 * in any channels — counted on the shared rate limiter, so across nodes) and a mention-flood
 * cap. `action: block` refuses with MESSAGE_BLOCKED; `flag` lets the message through and files
 * it in the moderation queue. Apps add their own checks with `addMessageCheck` (the same
 * verdicts; the before-send webhook is the external form).
 *
 * The regex guard: app-supplied patterns are untrusted code for V8's backtracking engine, where
 * `(a+)+$` on `aaaa…!` runs for ages. Each run goes through `vm` with a `timeout` (default
 * 50 ms): V8 interrupts the regex and throws, so a pattern cannot hold the event loop longer
 * than its budget. A timed-out pattern counts as a match (fail closed: the message is blocked
 * or flagged, never passed unchecked) and is logged so the admin can fix it. Word and domain
 * lists compile to patterns of our own that are plain alternations (linear).
 */
import { createHash } from 'node:crypto';
import vm from 'node:vm';
import type { AutomodSettings, Message } from '@parley/protocol';
import type { Infra } from '../../infra.js';
import type { Caller } from '../../platform/auth.js';
import { ApiError, invalid } from '../../platform/errors.js';
import { parseMentions } from '../users/index.js';
import { fileFlag } from './flags.js';

/** What a check found: which rule, and a word for the moderators. */
export interface Verdict {
  rule: 'word' | 'pattern' | 'domain' | 'spam' | 'mentions' | string;
  detail: string;
  /** Overrides the app's action for this verdict. */
  action?: 'block' | 'flag';
}

/** A check of an app's own: return a verdict to block or flag, or null to pass. */
export type MessageCheck = (m: {
  appId: string;
  userId: string;
  cid: string;
  text: string;
}) => Verdict | null | Promise<Verdict | null>;

export const DEFAULT_AUTOMOD: AutomodSettings = {
  blocked_words: [],
  blocked_patterns: [],
  blocked_domains: [],
  action: 'block',
  spam_channels: 0,
  spam_window_s: 60,
  max_mentions: 0,
};

/** Time budget of one pattern run, in ms. */
export const PATTERN_BUDGET_MS = 50;

const checksOf = new WeakMap<object, MessageCheck[]>();
/** Register a check for every message of this server (run after the built-in rules). */
export function addMessageCheck(svc: Pick<Infra, 'apps'>, check: MessageCheck): void {
  checksOf.set(svc.apps, [...(checksOf.get(svc.apps) ?? []), check]);
}

/** A compiled rule set, cached per settings object (a new app row is a new object). */
interface Compiled {
  words: RegExp | null;
  context: vm.Context | null;
  script: vm.Script | null;
  domains: string[];
}
const compiled = new WeakMap<AutomodSettings, Compiled>();

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compile(s: AutomodSettings): Compiled {
  let c = compiled.get(s);
  if (c) return c;
  const words = s.blocked_words.length
    ? new RegExp(`(?<![\\p{L}\\p{N}_])(?:${s.blocked_words.map(escapeRegex).join('|')})(?![\\p{L}\\p{N}_])`, 'iu')
    : null;
  let context: vm.Context | null = null;
  let script: vm.Script | null = null;
  if (s.blocked_patterns.length) {
    // The RegExps live in their own context; the script returns the first matching index.
    context = vm.createContext({ sources: s.blocked_patterns, text: '' });
    vm.runInContext("var res = sources.map(function (p) { return new RegExp(p, 'iu'); });", context);
    script = new vm.Script(
      '(function () { for (var i = 0; i < res.length; i++) if (res[i].test(text)) return i; return -1; })()',
    );
  }
  c = { words, context, script, domains: s.blocked_domains.map((d) => d.toLowerCase().replace(/^\*?\./, '')) };
  compiled.set(s, c);
  return c;
}

/** VALIDATION_ERROR for a pattern that does not compile. */
export function checkAutomodSettings(s: AutomodSettings): void {
  for (const p of s.blocked_patterns) {
    try {
      new RegExp(p, 'iu');
    } catch (err) {
      throw invalid(`blocked_patterns: ${(err as Error).message}`, { pattern: p });
    }
  }
}

/**
 * Run the app's patterns on `text` with a time budget: the index of the first match, -1 for
 * none, or `timeout` when the budget ran out (V8 interrupts the regex; the loop is not held).
 */
export function runPatterns(s: AutomodSettings, text: string, budgetMs = PATTERN_BUDGET_MS): number | 'timeout' {
  const c = compile(s);
  if (!c.script || !c.context) return -1;
  c.context.text = text;
  try {
    return c.script.runInContext(c.context, { timeout: budgetMs }) as number;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw err;
  } finally {
    c.context.text = '';
  }
}

const HOST = /\b(?:https?:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})\b/gi;

/** The built-in rules, in order; null when the text passes. */
export async function ruleVerdict(
  svc: Infra,
  s: AutomodSettings,
  appId: string,
  userId: string,
  text: string,
): Promise<Verdict | null> {
  const c = compile(s);
  const w = c.words?.exec(text);
  if (w) return { rule: 'word', detail: w[0] };
  const p = runPatterns(s, text);
  if (p === 'timeout') {
    svc.log.warn({ appId }, 'automod: a blocked pattern ran out of its time budget; counted as a match');
    return { rule: 'pattern', detail: 'a pattern ran out of time' };
  }
  if (p >= 0) return { rule: 'pattern', detail: s.blocked_patterns[p] as string };
  if (c.domains.length)
    for (const m of text.matchAll(HOST)) {
      const host = (m[1] as string).toLowerCase();
      const d = c.domains.find((x) => host === x || host.endsWith(`.${x}`));
      if (d) return { rule: 'domain', detail: d };
    }
  if (s.max_mentions > 0 && parseMentions(text).usernames.length > s.max_mentions)
    return { rule: 'mentions', detail: `more than ${s.max_mentions} mentions` };
  if (s.spam_channels > 1) {
    const digest = createHash('sha256').update(text.trim().toLowerCase()).digest('base64url').slice(0, 22);
    const r = await svc.limiter.hit(`spam:${appId}:${userId}:${digest}`, s.spam_channels - 1, s.spam_window_s * 1000);
    if (!r.ok) return { rule: 'spam', detail: `the same text ${s.spam_channels} times in ${s.spam_window_s} s` };
  }
  return null;
}

/**
 * Check a new message. Throws MESSAGE_BLOCKED for a `block` verdict; returns a `flag` verdict
 * (to file once the message is stored) or null. Server-token sends are not checked.
 */
export async function checkAutomod(
  svc: Infra,
  me: Caller & { kind: 'user' },
  cid: string,
  text: string,
): Promise<Verdict | null> {
  const settings = me.app.automod ?? null;
  const checks = checksOf.get(svc.apps) ?? [];
  if (!settings && checks.length === 0) return null;
  let v = settings ? await ruleVerdict(svc, settings, me.app.id, me.userId, text) : null;
  for (const check of checks) {
    if (v) break;
    v = await check({ appId: me.app.id, userId: me.userId, cid, text });
  }
  if (!v) return null;
  const action = v.action ?? settings?.action ?? 'block';
  if (action === 'block')
    throw new ApiError('MESSAGE_BLOCKED', 'This message was blocked by the app’s moderation rules', {
      rule: v.rule,
    });
  return v;
}

/** File a flagged message in the moderation queue (reporter: automod, `reported_by: null`). */
export async function fileAutomodFlag(svc: Infra, appId: string, message: Message, v: Verdict): Promise<void> {
  await fileFlag(svc, appId, {
    messageId: message.id,
    cid: message.cid,
    userId: message.user_id,
    reportedBy: null,
    reason: `automod: ${v.rule} (${v.detail})`.slice(0, 500),
    text: message.text,
  });
}
