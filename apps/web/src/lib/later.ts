/**
 * `/remind` and `/schedule` in the composer. `/remind 20m stretch`, `/remind tomorrow call the
 * bank`, `/schedule 1h See you all at the standup`: a time (`Ns`, `Nm`, `Nh`, `Nd`,
 * `tomorrow`), then the text. The commands send nothing themselves; they call the client and
 * report back through `done`.
 */
import type { ChatClient } from '@parley/client';
import type { SlashCommand } from '@parley/react';

const WHEN = /^\s*(tomorrow|\d{1,5}[smhd])\s+([\s\S]+)$/i;

/** When `spec` (`90s`, `20m`, `tomorrow` = 9:00 tomorrow here) falls, from `now`. */
export function laterTime(spec: string, now = new Date()): Date {
  const s = spec.toLowerCase();
  if (s === 'tomorrow') {
    const t = new Date(now);
    t.setDate(t.getDate() + 1);
    t.setHours(9, 0, 0, 0);
    return t;
  }
  const n = Number(s.slice(0, -1));
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[s.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return new Date(now.getTime() + n * unit);
}

export function laterCommands(
  client: ChatClient,
  cid: () => string | null,
  done: (outcome: { ok: true; note: string } | { ok: false; error: string }) => void,
): SlashCommand[] {
  const fail = (e: unknown) => done({ ok: false, error: e instanceof Error ? e.message : String(e) });
  return [
    {
      name: 'remind',
      args: 'when what',
      description: 'Remind me: /remind 20m stretch, /remind tomorrow call the bank',
      run: (args) => {
        const m = WHEN.exec(args);
        if (!m) {
          done({ ok: false, error: 'Say when, then what: /remind 20m stretch' });
          return null;
        }
        const at = laterTime(m[1] as string);
        client
          .createReminder({ note: (m[2] as string).trim().slice(0, 500), remind_at: at.toISOString() })
          .then(() => done({ ok: true, note: `Reminder set for ${at.toLocaleString()}.` }))
          .catch(fail);
        return null;
      },
    },
    {
      name: 'schedule',
      args: 'when message',
      description: 'Send later: /schedule 1h See you at the standup',
      run: (args) => {
        const m = WHEN.exec(args);
        const target = cid();
        if (!m || !target) {
          done({ ok: false, error: 'Say when, then the message: /schedule 1h See you at the standup' });
          return null;
        }
        const at = laterTime(m[1] as string);
        client
          .scheduleMessage({ cid: target, text: (m[2] as string).trim(), send_at: at.toISOString() })
          .then(() => done({ ok: true, note: `Message scheduled for ${at.toLocaleString()}.` }))
          .catch(fail);
        return null;
      },
    },
  ];
}
