/**
 * The built-in commands, parsed here (not only in a client): `/remind when what`, `/schedule
 * when message`, `/poll question | option | option`, `/giphy words`, `/me action`, `/shrug`.
 * `when` is `Ns`, `Nm`, `Nh`, `Nd` or `tomorrow` (9:00 the next day where the sender is, from
 * the request's `tz_offset`). Bad arguments answer an ephemeral note with the usage; nothing
 * is posted.
 */
import {
  type BuiltinCommand,
  MAX_MESSAGE_LENGTH,
  MAX_POLL_OPTION_LENGTH,
  MAX_POLL_OPTIONS,
  MIN_POLL_OPTIONS,
  type RunCommandBody,
  type RunCommandResponse,
} from '@parley/protocol';
import type { Caller } from '../../platform/auth.js';
import { ApiError } from '../../platform/errors.js';
import type { Services } from '../../services.js';
import type { ChannelAccess } from '../channels/index.js';
import { sendMessage } from '../messages/index.js';
import { can } from '../permissions/index.js';
import { createReminder, scheduleMessage } from '../reminders/index.js';
import { type EphemeralTarget, showEphemeral } from './ephemeral.js';
import { runGiphy } from './gif.js';
import { BUILTINS } from './registry.js';

type Me = Caller & { kind: 'user' };

const WHEN = /^(tomorrow|\d{1,5}[smhd])\s+([\s\S]+)$/i;

/** When `spec` (`90s`, `20m`, `tomorrow` = 9:00 tomorrow at `tzOffset`) falls, from `now`. */
export function laterTime(spec: string, now: number, tzOffset = 0): Date {
  const s = spec.toLowerCase();
  if (s === 'tomorrow') {
    const local = new Date(now - tzOffset * 60_000);
    return new Date(
      Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1, 9, 0, 0) + tzOffset * 60_000,
    );
  }
  const n = Number(s.slice(0, -1));
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[s.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return new Date(now + n * unit);
}

/** Split `/poll` arguments: `question | option | option`, each trimmed, empty parts dropped. */
export function pollParts(args: string): { question: string; options: string[] } | null {
  const parts = args
    .split('|')
    .map((p) => p.trim())
    .filter(Boolean);
  const [question, ...options] = parts;
  if (!question || options.length < MIN_POLL_OPTIONS || options.length > MAX_POLL_OPTIONS) return null;
  if (options.some((o) => o.length > MAX_POLL_OPTION_LENGTH)) return null;
  return { question, options };
}

export async function runBuiltin(
  svc: Services,
  me: Me,
  a: ChannelAccess,
  t: EphemeralTarget,
  name: BuiltinCommand,
  args: string,
  body: RunCommandBody,
): Promise<RunCommandResponse> {
  const note = async (text: string, error = false): Promise<RunCommandResponse> => ({
    result: 'ephemeral',
    ephemeral: await showEphemeral(svc, t, { text, error }),
  });
  const usage = () => note(`Usage: /${name} ${BUILTINS[name].usage}`, true);
  const thread = t.parentId ? { parent_id: t.parentId } : {};
  const post = async (text: string): Promise<RunCommandResponse> => {
    if (text.length > MAX_MESSAGE_LENGTH)
      return note(`Messages can be at most ${MAX_MESSAGE_LENGTH} characters.`, true);
    return { result: 'message', message: await sendMessage(svc, me, t.cid, { text, ...thread }) };
  };
  switch (name) {
    case 'me':
      return args ? post(`_${args}_`) : usage();
    case 'shrug':
      // Backslash and underscores escaped, so Markdown shows the shrug as typed.
      return post(`${args ? `${args} ` : ''}¯\\\\\\_(ツ)\\_/¯`);
    case 'giphy':
      if (!can(a, 'upload-file', svc.clock()))
        throw new ApiError('FORBIDDEN', 'You may not post files here, so not GIFs either');
      return { result: 'ephemeral', ephemeral: await runGiphy(svc, t, args) };
    case 'poll': {
      const p = pollParts(args);
      if (!p) return note('Usage: /poll Question? | first option | second option (2 to 10 options)', true);
      if (t.parentId) return note('A poll is posted in the channel, not in a thread.', true);
      return {
        result: 'message',
        message: await sendMessage(svc, me, t.cid, { text: p.question, poll: { options: p.options } }),
      };
    }
    case 'remind':
    case 'schedule': {
      const m = WHEN.exec(args);
      if (!m) return usage();
      const at = laterTime(m[1] as string, svc.clock(), body.tz_offset ?? 0);
      const what = (m[2] as string).trim();
      const when = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
      if (name === 'remind') {
        await createReminder(svc, me, { note: what.slice(0, 500), remind_at: at.toISOString() });
        return note(`Reminder set for ${when}: ${what.slice(0, 200)}`);
      }
      await scheduleMessage(svc, me, { cid: t.cid, text: what, send_at: at.toISOString(), ...thread });
      return note(`Message scheduled for ${when}.`);
    }
  }
}
