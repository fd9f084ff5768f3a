/**
 * Message sounds and in-app toasts for new DMs and mentions outside the open conversation.
 *
 * Their switches are per device, in localStorage, like the theme and the desktop-notification
 * permission: a sound is this tab's speaker and a toast this window's corner — wanted at the desk,
 * not on the laptop in a meeting room — while the server's notification preferences decide what
 * reaches a person at all (push, email, level, do-not-disturb), which these still obey.
 *
 * The sound is made with the Web Audio API (no file to download): two short sine notes.
 */
import type { Message, NotifyLevel } from '@parley/protocol';

const SOUND_KEY = 'parley.alerts.sound';
const TOAST_KEY = 'parley.alerts.toast';
/** Fired on window when a switch changes, so every listener in the tab reads it again. */
export const ALERTS_CHANGED = 'parley:alerts-changed';

export interface AlertPrefs {
  sound: boolean;
  toast: boolean;
}

function read(key: string): boolean {
  try {
    return localStorage.getItem(key) !== 'off';
  } catch {
    return true;
  }
}

/** This device's switches (both on unless turned off). */
export function alertPrefs(): AlertPrefs {
  return { sound: read(SOUND_KEY), toast: read(TOAST_KEY) };
}

export function setAlertPrefs(prefs: AlertPrefs): void {
  try {
    if (prefs.sound) localStorage.removeItem(SOUND_KEY);
    else localStorage.setItem(SOUND_KEY, 'off');
    if (prefs.toast) localStorage.removeItem(TOAST_KEY);
    else localStorage.setItem(TOAST_KEY, 'off');
  } catch {}
  window.dispatchEvent(new Event(ALERTS_CHANGED));
}

/** What a new message is to the viewer: a mention of them, a DM, or neither. */
export type AlertReason = 'mention' | 'dm';

/**
 * Whether a message should sound and toast: from someone else, a DM or a mention, not in the
 * conversation on screen, not in a muted one, and not while the level says none or
 * do-not-disturb is on.
 */
export function shouldAlert(o: {
  message: Pick<Message, 'user_id' | 'cid'>;
  me: string;
  reason: AlertReason;
  openCid: string | null;
  onScreen: boolean;
  muted: boolean;
  level: NotifyLevel;
  dnd: boolean;
}): boolean {
  if (o.message.user_id === o.me) return false;
  if (o.onScreen && o.openCid === o.message.cid) return false;
  if (o.muted || o.dnd || o.level === 'none') return false;
  return true;
}

let audio: AudioContext | null = null;

/**
 * A short two-note chime. Browsers start audio only after a user gesture on the page; before
 * one, it stays silent (and costs nothing).
 */
export function playMessageSound(): void {
  const AC = (globalThis as unknown as { AudioContext?: typeof AudioContext }).AudioContext;
  if (!AC) return;
  audio ??= new AC();
  const ctx = audio;
  if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
  const t = ctx.currentTime;
  for (const [i, f] of [880, 1320].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = f;
    const start = t + i * 0.09;
    gain.gain.setValueAtTime(0, start);
    gain.gain.linearRampToValueAtTime(0.06, start + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + 0.2);
  }
  document.documentElement.dataset.parleySounds = String(
    Number(document.documentElement.dataset.parleySounds ?? 0) + 1,
  );
}
