/**
 * The mails the accounts feature sends, as plain text. Links point at the web app's pages
 * (`/reset-password`, `/verify-email`, `/confirm-email`) under PARLEY_PUBLIC_URL — never at the
 * Host a request named, which anyone can set: a reset link must not lead elsewhere.
 */
import type { Config } from '../../platform/config.js';
import type { Mail } from '../../platform/mailer.js';

/** The web app's base address for links in mail. */
export function publicUrl(config: Config): string {
  return config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
}

const link = (config: Config, page: string, token: string) =>
  `${publicUrl(config)}/${page}?token=${encodeURIComponent(token)}`;

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

export function resetMail(config: Config, to: string, token: string, ttlSeconds: number): Mail {
  return {
    to,
    subject: 'Reset your Parley password',
    text: [
      'Someone (hopefully you) asked to reset the password of your Parley account.',
      '',
      `Choose a new password here (the link works once, for ${minutes(ttlSeconds * 1000)} minutes):`,
      link(config, 'reset-password', token),
      '',
      'Using it signs you out everywhere. If you did not ask for this, ignore this mail: your password stays as it is.',
    ].join('\n'),
  };
}

export function verifyMail(config: Config, to: string, token: string): Mail {
  return {
    to,
    subject: 'Confirm your email for Parley',
    text: [
      'Welcome to Parley. Confirm that this address is yours:',
      link(config, 'verify-email', token),
      '',
      'If you did not create a Parley account, ignore this mail.',
    ].join('\n'),
  };
}

export function changeEmailMail(config: Config, to: string, token: string, ttlSeconds: number): Mail {
  return {
    to,
    subject: 'Confirm your new email for Parley',
    text: [
      'Someone (hopefully you) asked to use this address for their Parley account.',
      '',
      `Confirm it here (the link works once, for ${minutes(ttlSeconds * 1000)} minutes):`,
      link(config, 'confirm-email', token),
      '',
      'If you did not ask for this, ignore this mail.',
    ].join('\n'),
  };
}

/** To a new address that already has an account: the same subject as a real confirmation, no link. */
export function emailTakenMail(config: Config, to: string): Mail {
  return {
    to,
    subject: 'Confirm your new email for Parley',
    text: [
      'Someone asked to move a Parley account to this address, but it already belongs to an account',
      '(perhaps yours). Nothing was changed. If you forgot your password, reset it here:',
      `${publicUrl(config)}/forgot-password`,
    ].join('\n'),
  };
}

/** To the old address when a change of email is asked for, so a hijacker cannot move it quietly. */
export function emailChangeNoticeMail(to: string, newEmail: string): Mail {
  return {
    to,
    subject: 'Your Parley email is about to change',
    text: [
      `Someone signed in to your Parley account asked to change its email to ${newEmail}.`,
      'It changes only once the new address is confirmed. If this was not you, change your password now.',
    ].join('\n'),
  };
}

export function lockedMail(config: Config, to: string, failures: number, lockMs: number): Mail {
  return {
    to,
    subject: 'Your Parley account was locked',
    text: [
      `After ${failures} failed sign-ins in a row, your Parley account is locked for ${minutes(lockMs)} minutes.`,
      '',
      'If that was not you, someone may be guessing your password. Reset it here:',
      `${publicUrl(config)}/forgot-password`,
    ].join('\n'),
  };
}

export function passwordChangedMail(to: string): Mail {
  return {
    to,
    subject: 'Your Parley password was changed',
    text: 'The password of your Parley account was just changed. If this was not you, reset it at once.',
  };
}

/** An invite to a workspace, sent on the inviter's behalf (features/accounts createInvite with `email`). */
export function inviteMail(
  config: Config,
  to: string,
  inviter: string,
  workspace: string,
  invite: { url_path: string; expires_at: string },
): Mail {
  return {
    to,
    subject: `${inviter} invited you to ${workspace} on Parley`,
    text: [
      `${inviter} invited you to join the workspace "${workspace}" on Parley.`,
      '',
      `Join here (the link works until ${invite.expires_at.slice(0, 16).replace('T', ' ')} UTC):`,
      `${publicUrl(config)}${invite.url_path}`,
      '',
      'If you do not know them, ignore this mail.',
    ].join('\n'),
  };
}
