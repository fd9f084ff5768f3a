/**
 * Polls in the kit: `Poll` shows a message's poll (options with bars and counts, your vote
 * marked, voters' names unless anonymous, closing), and `PollComposer` is the dialog that makes
 * one (a question, 2–10 options, single or multiple choice, anonymous, an optional end time).
 * Both act through the channel handle (`votePoll`, `closePoll`, `sendMessage({ poll })`); the
 * tallies move live with the channel's `poll.updated` events.
 */
import type { Poll as PollData } from '@parley/protocol';
import { MAX_POLL_OPTIONS, MIN_POLL_OPTIONS } from '@parley/protocol';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useChannelContext } from './channel.js';
import { useClientState, useMe } from './context.js';
import { cx, displayName, fullTime } from './format.js';

/** Props of {@link Poll}. */
export interface PollProps {
  messageId: string;
  /** Who made the poll (may close it). */
  authorId: string;
  question: string;
  poll: PollData;
  /** Whether the viewer may vote here (`vote-poll`). */
  canVote: boolean;
  /** Whether the viewer may close it (its author, or a moderator). */
  canClose: boolean;
  onError?(e: unknown): void;
}

/** A poll: options with bars and counts; click an option to vote (again to take it back). */
export function Poll({ messageId, question, poll, canVote, canClose, onError }: PollProps) {
  const { channel } = useChannelContext();
  const me = useMe();
  const users = useClientState((s) => s.users, Object.is);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const endsAt = poll.ends_at ? Date.parse(poll.ends_at) : null;
  // Shown closed once its end time passes, before the server's close event arrives.
  useEffect(() => {
    if (endsAt === null || poll.closed_at || endsAt <= now) return;
    const t = setTimeout(() => setNow(Date.now()), Math.min(endsAt - now + 50, 2 ** 31 - 1));
    return () => clearTimeout(t);
  }, [endsAt, now, poll.closed_at]);
  const closed = poll.closed_at !== null || (endsAt !== null && endsAt <= now);
  const total = poll.options.reduce((n, o) => n + o.vote_count, 0);
  const own = new Set(poll.own_votes);

  const run = (p: Promise<unknown>) => {
    setBusy(true);
    p.catch((e: unknown) => onError?.(e)).finally(() => setBusy(false));
  };
  const choose = (id: string) => {
    if (closed || !canVote || busy) return;
    let next: string[];
    if (poll.multiple) next = own.has(id) ? poll.own_votes.filter((x) => x !== id) : [...poll.own_votes, id];
    else next = own.has(id) ? [] : [id];
    run(channel.votePoll(messageId, next));
  };

  const names = (ids: readonly string[]) =>
    ids.map((id) => (id === me ? 'you' : displayName(users[id], id))).join(', ');
  const status = closed
    ? `Closed${poll.closed_at ? ` ${fullTime(poll.closed_at)}` : ''}`
    : poll.ends_at
      ? `Closes ${fullTime(poll.ends_at)}`
      : 'Open';

  return (
    <section className={cx('parley-poll', closed && 'parley-poll--closed')} aria-label={`Poll: ${question}`}>
      <p className="parley-poll__meta">
        <span className="parley-poll__kind">
          {poll.multiple ? 'Choose any' : 'Choose one'}
          {poll.anonymous ? ' · Anonymous' : ''}
        </span>
        <span className="parley-muted"> · {status}</span>
      </p>
      <ul className="parley-poll__options">
        {poll.options.map((o) => {
          const pct = total ? Math.round((o.vote_count / total) * 100) : 0;
          const mine = own.has(o.id);
          return (
            <li key={o.id}>
              <button
                type="button"
                className={cx('parley-poll__option', mine && 'parley-poll__option--own')}
                aria-pressed={mine}
                aria-label={`${o.text}: ${o.vote_count} ${o.vote_count === 1 ? 'vote' : 'votes'}${mine ? ', your vote' : ''}`}
                disabled={closed || !canVote || busy}
                onClick={() => choose(o.id)}
                title={o.voters.length ? names(o.voters) : undefined}
              >
                <span className="parley-poll__bar" style={{ width: `${pct}%` }} aria-hidden="true" />
                <span className="parley-poll__text">
                  {mine ? <span className="parley-poll__check">✓ </span> : null}
                  {o.text}
                </span>
                <span className="parley-poll__count" data-testid="poll-count">
                  {o.vote_count}
                </span>
              </button>
              {!poll.anonymous && o.voters.length ? (
                <span className="parley-poll__voters parley-muted">{names(o.voters)}</span>
              ) : null}
            </li>
          );
        })}
      </ul>
      <p className="parley-poll__footer parley-muted">
        <span role="status">
          {poll.voter_count} {poll.voter_count === 1 ? 'person' : 'people'} voted
        </span>
        {canClose && !closed ? (
          <>
            {' · '}
            <button
              type="button"
              className="parley-link-button"
              disabled={busy}
              onClick={() => run(channel.closePoll(messageId))}
            >
              Close poll
            </button>
          </>
        ) : null}
      </p>
    </section>
  );
}

/** Props of {@link PollComposer}. */
export interface PollComposerProps {
  /** The question to start with (what followed `/poll`). */
  initialQuestion?: string;
  onClose(): void;
  /** Called once the poll is handed to the client for sending. */
  onSent?(): void;
}

/** The dialog that makes a poll in the current channel (see the module comment). */
export function PollComposer({ initialQuestion = '', onClose, onSent }: PollComposerProps) {
  const { channel } = useChannelContext();
  const id = useId();
  const [question, setQuestion] = useState(initialQuestion);
  // Each option keeps a key of its own, so removing one does not move the others' inputs.
  const nextKey = useRef(2);
  const [options, setOptions] = useState<{ key: number; text: string }[]>([
    { key: 0, text: '' },
    { key: 1, text: '' },
  ]);
  const [multiple, setMultiple] = useState(false);
  const [anonymous, setAnonymous] = useState(false);
  const [endsAt, setEndsAt] = useState('');
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  const filled = options.map((o) => o.text.trim()).filter(Boolean);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!question.trim()) return setError('Write a question.');
    if (filled.length < MIN_POLL_OPTIONS) return setError(`Give at least ${MIN_POLL_OPTIONS} options.`);
    if (new Set(filled.map((o) => o.toLowerCase())).size !== filled.length) return setError('Options must differ.');
    let ends: string | null = null;
    if (endsAt) {
      const t = new Date(endsAt).getTime();
      if (Number.isNaN(t) || t <= Date.now()) return setError('The end time must be in the future.');
      ends = new Date(t).toISOString();
    }
    channel
      .sendMessage({ text: question.trim(), poll: { options: filled, multiple, anonymous, ends_at: ends } })
      .catch(() => {
        // the message shows as failed, with Retry and the server's reason
      });
    onSent?.();
    onClose();
  };

  return (
    <div
      className="parley-dialog parley-poll-composer"
      role="dialog"
      aria-modal="true"
      aria-labelledby={`${id}-title`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <form onSubmit={submit}>
        <h2 id={`${id}-title`} className="parley-dialog__title">
          Create a poll
        </h2>
        <label className="parley-field">
          <span>Question</span>
          <input
            ref={first}
            className="parley-input-text"
            value={question}
            maxLength={500}
            onChange={(e) => setQuestion(e.target.value)}
          />
        </label>
        <fieldset className="parley-poll-composer__options">
          <legend>Options</legend>
          {options.map((o, i) => (
            <div key={o.key} className="parley-poll-composer__option">
              <input
                className="parley-input-text"
                aria-label={`Option ${i + 1}`}
                value={o.text}
                maxLength={200}
                onChange={(e) => setOptions(options.map((x, j) => (j === i ? { ...x, text: e.target.value } : x)))}
              />
              {options.length > MIN_POLL_OPTIONS ? (
                <button
                  type="button"
                  className="parley-icon-button"
                  aria-label={`Remove option ${i + 1}`}
                  onClick={() => setOptions(options.filter((_, j) => j !== i))}
                >
                  <span aria-hidden="true">×</span>
                </button>
              ) : null}
            </div>
          ))}
          {options.length < MAX_POLL_OPTIONS ? (
            <button
              type="button"
              className="parley-link-button"
              onClick={() => setOptions([...options, { key: nextKey.current++, text: '' }])}
            >
              Add option
            </button>
          ) : null}
        </fieldset>
        <label className="parley-check">
          <input type="checkbox" checked={multiple} onChange={(e) => setMultiple(e.target.checked)} /> Allow several
          choices
        </label>
        <label className="parley-check">
          <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.target.checked)} /> Anonymous (no
          one sees who voted)
        </label>
        <label className="parley-field">
          <span>Ends (optional)</span>
          <input
            type="datetime-local"
            className="parley-input-text"
            value={endsAt}
            onChange={(e) => setEndsAt(e.target.value)}
          />
        </label>
        {error ? (
          <p className="parley-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="parley-dialog__actions">
          <button type="button" className="parley-button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="parley-button parley-button--primary">
            Create poll
          </button>
        </div>
      </form>
    </div>
  );
}
