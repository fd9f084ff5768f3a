/**
 * Catch-up in a conversation: a "Catch up" button in the header when the channel had unread
 * messages as it was opened (and the workspace's assistant offers it), and a panel under the
 * header where the summary streams in as the model writes it. Each `[n]` it cites becomes a link
 * that jumps to that message (`?m=`). The range is fixed when the channel is opened — from the
 * read mark it had then — since opening it soon marks everything read. Smart replies sit over
 * the composer.
 */
import type { Channel as ChannelHandle } from '@parley/client';
import type { Citation } from '@parley/protocol';
import { useAssistant, useCatchUp, useChannelContext, useChannelState, useMe, useSmartReplies } from '@parley/react';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import type { ConversationInfo } from '../hooks/use-conversation.js';
import { navigate, useLocation, withQuery } from '../lib/router.js';

/** What was unread when the channel was opened: where a catch-up starts, and how many. */
export interface CatchUpOffer {
  afterSeq: number;
  unread: number;
}

/** The offer of this channel (null when there was nothing unread, or the assistant does not catch up). */
export function useCatchUpOffer(channel: ChannelHandle, info: ConversationInfo): CatchUpOffer | null {
  const { catch_up } = useAssistant();
  const first = useRef<{ cid: string; offer: CatchUpOffer | null } | null>(null);
  const state = info.state;
  const cid = channel.id ? channel.cid : null;
  if (cid && state && (!first.current || first.current.cid !== cid)) {
    const read = state.channel.membership?.last_read_seq ?? null;
    first.current = {
      cid,
      offer: read !== null && state.unreadCount > 0 ? { afterSeq: read, unread: state.unreadCount } : null,
    };
  }
  return catch_up && first.current?.cid === cid ? (first.current?.offer ?? null) : null;
}

export function CatchUpButton({ offer, open, onToggle }: { offer: CatchUpOffer; open: boolean; onToggle(): void }) {
  return (
    <button
      type="button"
      className="app-header-button app-catch-up-button"
      aria-pressed={open}
      title={`Summarise the ${offer.unread} message${offer.unread === 1 ? '' : 's'} you had not read`}
      onClick={onToggle}
      data-testid="catch-up-button"
    >
      <span aria-hidden="true">✨</span>
      <span>Catch up</span>
    </button>
  );
}

/** The summary's text with each `[n]` it cites as a link to that message. */
function Cited({ text, citations, link = true }: { text: string; citations: Citation[]; link?: boolean }) {
  const location = useLocation();
  const byN = new Map(citations.map((c) => [c.n, c]));
  const parts: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(/\[(\d{1,4})\]/g)) {
    const c = byN.get(Number(m[1]));
    if (!c) continue;
    const at = m.index ?? 0;
    parts.push(text.slice(last, at));
    const href = withQuery(location, { m: c.message_id, t: null });
    if (!link) {
      parts.push(
        <strong key={`${at}-${c.n}`} className="app-catch-up__cite" data-testid="catch-up-cite">
          [{c.n}]
        </strong>,
      );
      last = at + m[0].length;
      continue;
    }
    parts.push(
      <a
        key={`${at}-${c.n}`}
        className="app-catch-up__cite"
        href={href}
        title="Go to this message"
        data-testid="catch-up-cite"
        onClick={(e) => {
          e.preventDefault();
          navigate(href);
        }}
      >
        [{c.n}]
      </a>,
    );
    last = at + m[0].length;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}

export function CatchUpPanel({ cid, offer, onClose }: { cid: string; offer: CatchUpOffer; onClose(): void }) {
  const c = useCatchUp(cid);
  const { start } = c;
  useEffect(() => {
    start({ after_seq: offer.afterSeq });
  }, [start, offer.afterSeq]);
  return (
    <section className="app-catch-up" aria-label="Catch-up" data-testid="catch-up" aria-busy={c.status === 'streaming'}>
      <header className="app-catch-up__head">
        <strong>Catch up</strong>
        <span className="app-muted">
          {c.messages === null
            ? 'Reading…'
            : c.messages === 0
              ? 'Nothing new to summarise'
              : `${c.messages} message${c.messages === 1 ? '' : 's'} you had not read`}
        </span>
        <button type="button" className="app-icon-button" aria-label="Close catch-up" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </header>
      {c.error ? (
        <p className="app-form__error" role="alert">
          {c.error.code === 'ASSISTANT_UNAVAILABLE'
            ? 'The assistant did not answer. Try again in a moment.'
            : c.error.message}{' '}
          <button type="button" className="app-link-button" onClick={() => start({ after_seq: offer.afterSeq })}>
            Try again
          </button>
        </p>
      ) : null}
      {c.summary ? (
        <p className="app-catch-up__summary" data-testid="catch-up-summary">
          {c.status === 'done' ? <Cited text={c.summary} citations={c.citations} /> : c.summary}
        </p>
      ) : null}
    </section>
  );
}

/**
 * Smart replies over the composer, as the workspace set them (admin console, Assistant): for the
 * latest message someone else wrote here, short replies shown as chips — asked for with a button
 * (`on_request`), or by themselves as that message comes in (`automatic`); nothing when `off`.
 * A chip sends its reply.
 */
export function SmartReplies({ channel }: { channel: ChannelHandle }) {
  const { smart_replies } = useAssistant();
  const me = useMe();
  const state = useChannelState(channel);
  const last = state?.messages.findLast((m) => m.seq > 0 && m.user_id !== me && m.type === 'regular');
  const member = !!state?.channel.membership;
  // Only a member's composer asks (by itself too): a reader who cannot answer gets none.
  const r = useSmartReplies(smart_replies && last && member ? last.id : null);
  const [error, setError] = useState<string | null>(null);
  if (!smart_replies || !last || !member) return null;
  // Automatic: nothing to show until they come (or a failure offers to ask again).
  if (r.mode === 'automatic' && r.suggestions.length === 0 && !r.loading && !r.error) return null;
  const send = (text: string) => {
    setError(null);
    channel.sendMessage({ text }).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <div className="app-smart-replies" data-testid="smart-replies">
      {r.suggestions.length === 0 ? (
        <button type="button" className="app-link-button" onClick={r.request} disabled={r.loading}>
          {r.loading ? 'Thinking…' : r.error ? 'Suggest replies again' : 'Suggest replies'}
        </button>
      ) : (
        r.suggestions.map((s) => (
          <button
            key={s}
            type="button"
            className="app-smart-replies__chip"
            title="Send this reply"
            onClick={() => send(s)}
            data-testid="smart-reply"
          >
            {s}
          </button>
        ))
      )}
      {r.error || error ? (
        <span className="app-form__error" role="alert">
          {error ?? 'No suggestions: the assistant did not answer.'}
        </span>
      ) : null}
    </div>
  );
}

/**
 * At the top of an open thread: "Summarise thread" (when the assistant catches up and the
 * thread has replies) and, asked, the summary of the whole thread, its citations in bold (the
 * replies are all in view beside it). Lives inside <Channel>, to know the open thread.
 */
export function ThreadCatchUp() {
  const { catch_up } = useAssistant();
  const { channel, thread } = useChannelContext();
  const state = useChannelState(channel);
  const replies = thread ? (state?.threads[thread]?.length ?? 0) : 0;
  const c = useCatchUp(channel.cid, thread ? { threadOf: thread } : {});
  const [asked, setAsked] = useState<string | null>(null);
  if (!catch_up || !thread || replies === 0) return null;
  if (asked !== thread)
    return (
      <div className="app-smart-replies">
        <button
          type="button"
          className="app-link-button"
          data-testid="thread-catch-up-button"
          onClick={() => {
            setAsked(thread);
            c.start({ after_seq: 0 });
          }}
        >
          ✨ Summarise thread
        </button>
      </div>
    );
  return (
    <section className="app-catch-up" aria-label="Thread summary" data-testid="thread-catch-up">
      <header className="app-catch-up__head">
        <strong>Thread summary</strong>
        <button type="button" className="app-icon-button" aria-label="Close summary" onClick={() => setAsked(null)}>
          <span aria-hidden="true">×</span>
        </button>
      </header>
      {c.error ? (
        <p className="app-form__error" role="alert">
          {c.error.message}
        </p>
      ) : null}
      {c.summary ? (
        <p className="app-catch-up__summary" data-testid="thread-catch-up-summary">
          {c.status === 'done' ? <Cited text={c.summary} citations={c.citations} link={false} /> : c.summary}
        </p>
      ) : null}
    </section>
  );
}
