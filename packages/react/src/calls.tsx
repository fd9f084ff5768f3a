/**
 * Calls in the kit, on the SDK's `client.calls` and `Call` (docs/calls.md): buttons to call a
 * channel (or join its live call), the incoming-call toast with its ringtone, the call view
 * (a grid of participants with speaking indicators, mute / camera / screen / hang-up, a
 * timer) and the call history.
 */
import type { Call, CallEndReason, CallPhase, CallsState } from '@parley/client';
import { type Call as CallRecord, formatCallClock } from '@parley/protocol';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useChatClient, useMe } from './context.js';
import { displayName } from './format.js';
import { Avatar, useUser } from './user.js';

/** The client's calls: the active one, the ringing ones, and each channel's live call. */
export function useCalls(): CallsState {
  const client = useChatClient();
  return useSyncExternalStore(
    (cb) => client.calls.state.subscribe(cb),
    () => client.calls.state.get(),
    () => client.calls.state.get(),
  );
}

/** One call's moving parts, re-rendered on its events. */
export function useCall(call: Call | null) {
  const [, bump] = useState(0);
  useEffect(() => {
    if (!call) return;
    const rerender = () => bump((n) => n + 1);
    const offs = [
      call.on('phase', rerender),
      call.on('updated', rerender),
      call.on('remotestream', rerender),
      call.on('remotestreamremoved', rerender),
      call.on('localstream', rerender),
      call.on('controls', rerender),
    ];
    return () => {
      for (const off of offs) off();
    };
  }, [call]);
  return {
    phase: call?.phase ?? ('ended' as CallPhase),
    info: call?.info ?? null,
    local: call?.localStream ?? null,
    remote: call?.remoteStreams ?? new Map<string, MediaStream>(),
    muted: call?.muted ?? false,
    camera: call?.cameraOn ?? false,
    screen: call?.screenSharing ?? false,
  };
}

/** Talk time as a clock: 0:07, 12:04, 1:02:03 — the protocol's one rounding rule (`callSeconds`). */
export const formatCallTime = formatCallClock;

// ---- buttons -----------------------------------------------------------------------------

const PhoneIcon = () => (
  <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
    <path
      fill="currentColor"
      d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.6a1 1 0 0 1-.25 1z"
    />
  </svg>
);
const VideoIcon = () => (
  <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
    <path
      fill="currentColor"
      d="M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11z"
    />
  </svg>
);

export interface CallButtonsProps {
  cid: string;
  /** Called with the error of a call that could not start (microphone refused, busy …). */
  onError?(err: Error): void;
}

/** Audio and video call buttons for a channel's header; "Join call" while the channel has a live call. */
export function CallButtons({ cid, onError }: CallButtonsProps) {
  const client = useChatClient();
  const { active, live } = useCalls();
  const [busy, setBusy] = useState(false);
  const liveHere = live[cid];
  const inIt = active?.cid === cid;
  const start = (video: boolean) => {
    setBusy(true);
    client
      .call(cid, { video })
      .catch((e: unknown) => onError?.(e instanceof Error ? e : new Error(String(e))))
      .finally(() => setBusy(false));
  };
  if (liveHere && !inIt && liveHere.state === 'active')
    return (
      <button
        type="button"
        className="parley-call-button parley-call-button--join"
        data-testid="call-join"
        disabled={busy || !!active}
        onClick={() => {
          setBusy(true);
          client.calls
            .join(liveHere)
            .catch((e: unknown) => onError?.(e instanceof Error ? e : new Error(String(e))))
            .finally(() => setBusy(false));
        }}
      >
        <PhoneIcon /> Join call
      </button>
    );
  return (
    <span className="parley-call-buttons">
      <button
        type="button"
        className="parley-call-button"
        aria-label="Start a voice call"
        title="Start a voice call"
        data-testid="call-audio"
        disabled={busy || !!active}
        onClick={() => start(false)}
      >
        <PhoneIcon />
      </button>
      <button
        type="button"
        className="parley-call-button"
        aria-label="Start a video call"
        title="Start a video call"
        data-testid="call-video"
        disabled={busy || !!active}
        onClick={() => start(true)}
      >
        <VideoIcon />
      </button>
    </span>
  );
}

// ---- ringtone ----------------------------------------------------------------------------

/**
 * A ringtone made with WebAudio (no file to ship): two tones, on for 1 s, off for 2 s, while
 * `on`. Browsers start audio only after a user gesture on the page; before one, it stays silent.
 */
export function useRingtone(on: boolean): void {
  useEffect(() => {
    if (!on) return;
    const AC = (globalThis as unknown as { AudioContext?: typeof AudioContext }).AudioContext;
    if (!AC) return;
    const ctx = new AC();
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    for (const f of [440, 480]) {
      const osc = ctx.createOscillator();
      osc.frequency.value = f;
      osc.connect(gain);
      osc.start();
    }
    const ring = () => {
      const t = ctx.currentTime;
      gain.gain.cancelScheduledValues(t);
      gain.gain.setValueAtTime(0.08, t);
      gain.gain.setValueAtTime(0, t + 1);
    };
    ring();
    const timer = setInterval(ring, 3000);
    return () => {
      clearInterval(timer);
      void ctx.close();
    };
  }, [on]);
}

// ---- incoming call toast -----------------------------------------------------------------

function IncomingOne({ call }: { call: Call }) {
  const client = useChatClient();
  const from = useUser(call.info.created_by);
  const [error, setError] = useState<string | null>(null);
  const video = call.info.kind === 'video';
  return (
    <div className="parley-call-toast" role="alertdialog" aria-label="Incoming call" data-testid="incoming-call">
      <Avatar user={from} id={call.info.created_by} size={40} />
      <div className="parley-call-toast__text">
        <strong>{displayName(from, call.info.created_by)}</strong>
        <span>{video ? 'Incoming video call' : 'Incoming call'}</span>
        {error ? <span className="parley-call-toast__error">{error}</span> : null}
      </div>
      <button
        type="button"
        className="parley-call-control parley-call-control--danger"
        aria-label="Decline"
        title="Decline"
        data-testid="call-decline"
        onClick={() => void call.decline().catch(() => {})}
      >
        <PhoneIcon />
      </button>
      <button
        type="button"
        className="parley-call-control parley-call-control--accept"
        aria-label="Accept"
        title="Accept"
        data-testid="call-accept"
        onClick={() =>
          void client.calls.accept(call).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
        }
      >
        {video ? <VideoIcon /> : <PhoneIcon />}
      </button>
    </div>
  );
}

/** The calls ringing this device, each with accept and decline, and the ringtone while any rings. */
export function IncomingCallToast() {
  const { incoming, active } = useCalls();
  useRingtone(incoming.length > 0 && !active);
  if (incoming.length === 0) return null;
  return (
    <div className="parley-call-toasts">
      {incoming.map((c) => (
        <IncomingOne key={c.id} call={c} />
      ))}
    </div>
  );
}

// ---- the call view -----------------------------------------------------------------------

/** Whether someone is speaking in `stream`: an analyser's level over a threshold. */
export function useSpeaking(stream: MediaStream | null, muted = false): boolean {
  const [speaking, setSpeaking] = useState(false);
  const track = stream?.getAudioTracks()[0] ?? null;
  useEffect(() => {
    if (!stream || !track || muted) {
      setSpeaking(false);
      return;
    }
    const AC = (globalThis as unknown as { AudioContext?: typeof AudioContext }).AudioContext;
    if (!AC) return;
    const ctx = new AC();
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    const data = new Uint8Array(analyser.fftSize);
    let quietSince = 0;
    const timer = setInterval(() => {
      analyser.getByteTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += ((v - 128) / 128) ** 2;
      const rms = Math.sqrt(sum / data.length);
      const now = Date.now();
      if (rms > 0.02) {
        quietSince = 0;
        setSpeaking(true);
      } else if (!quietSince) quietSince = now;
      else if (now - quietSince > 400) setSpeaking(false);
    }, 100);
    return () => {
      clearInterval(timer);
      source.disconnect();
      void ctx.close();
    };
  }, [stream, track, muted]);
  return speaking;
}

function Tile({
  userId,
  stream,
  self,
  muted,
  label,
}: {
  userId: string;
  stream: MediaStream | null;
  self: boolean;
  muted: boolean;
  label?: string;
}) {
  const user = useUser(userId);
  const ref = useRef<HTMLVideoElement>(null);
  const speaking = useSpeaking(stream, muted);
  const [hasVideo, setHasVideo] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) void el.play().catch(() => {});
    const check = () =>
      setHasVideo(!!stream?.getVideoTracks().some((t) => t.readyState === 'live' && t.enabled && !t.muted));
    check();
    const timer = setInterval(check, 500);
    return () => clearInterval(timer);
  }, [stream]);
  return (
    <div
      className={`parley-call-tile${speaking ? ' parley-call-tile--speaking' : ''}`}
      data-testid={self ? 'call-tile-self' : 'call-tile'}
      data-user-id={userId}
      data-speaking={speaking ? 'true' : 'false'}
    >
      {/* Our own tile is muted (no echo); remote audio plays through the tile's element. */}
      <video ref={ref} autoPlay playsInline muted={self} className={hasVideo ? '' : 'parley-call-tile__hidden'} />
      {hasVideo ? null : (
        <div className="parley-call-tile__avatar">
          <Avatar user={user} id={userId} size={72} />
        </div>
      )}
      <span className="parley-call-tile__name">
        {label ?? displayName(user, userId)}
        {muted ? ' · muted' : ''}
      </span>
    </div>
  );
}

const PHASE_TEXT: Record<CallPhase, string> = {
  outgoing: 'Ringing…',
  incoming: 'Incoming call',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  ended: 'Call ended',
};

function Timer({ since }: { since: string | null }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  if (!since) return null;
  return (
    <span className="parley-call-view__timer" data-testid="call-timer">
      {formatCallTime(now - Date.parse(since))}
    </span>
  );
}

export interface CallViewProps {
  /** The channel's name, for the header. */
  title?: string;
  className?: string;
}

/** The active call: participants in a grid, controls, and a timer. Renders nothing without one. */
export function CallView({ title, className }: CallViewProps) {
  const { active } = useCalls();
  const me = useMe();
  const state = useCall(active);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!active) return;
    setError(null);
    return active.on('error', (e) => {
      if ((e as { code?: string }).code !== 'NOT_IN_CALL') setError(e.message);
    });
  }, [active]);
  const act = useCallback((p: Promise<unknown>) => {
    p.catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, []);
  const others = useMemo(
    () =>
      (state.info?.participants ?? []).filter(
        (p) => p.user_id !== me && (p.state === 'joined' || p.state === 'ringing'),
      ),
    [state.info, me],
  );
  if (!active || !me) return null;
  return (
    <section
      className={`parley-call-view${className ? ` ${className}` : ''}`}
      aria-label="Call"
      data-testid="call-view"
      data-phase={state.phase}
    >
      <header className="parley-call-view__header">
        <strong>{title ?? 'Call'}</strong>
        <span className="parley-call-view__phase" data-testid="call-phase">
          {PHASE_TEXT[state.phase]}
        </span>
        <Timer since={state.info?.started_at ?? null} />
      </header>
      <div className={`parley-call-grid parley-call-grid--${Math.min(4, others.length + 1)}`}>
        <Tile userId={me} stream={state.local} self muted={state.muted} label="You" />
        {others.map((p) => (
          <Tile
            key={p.user_id}
            userId={p.user_id}
            stream={state.remote.get(p.user_id) ?? null}
            self={false}
            muted={false}
            {...(p.state === 'ringing' ? { label: 'Ringing…' } : {})}
          />
        ))}
      </div>
      {error ? (
        <p className="parley-call-view__error" role="alert">
          {error}
        </p>
      ) : null}
      <footer className="parley-call-controls">
        <button
          type="button"
          className={`parley-call-control${state.muted ? ' parley-call-control--off' : ''}`}
          aria-pressed={state.muted}
          aria-label={state.muted ? 'Unmute' : 'Mute'}
          title={state.muted ? 'Unmute' : 'Mute'}
          data-testid="call-mute"
          onClick={() => active.setMuted(!state.muted)}
        >
          {state.muted ? 'Unmute' : 'Mute'}
        </button>
        <button
          type="button"
          className={`parley-call-control${state.camera ? '' : ' parley-call-control--off'}`}
          aria-pressed={!state.camera}
          aria-label={state.camera ? 'Turn camera off' : 'Turn camera on'}
          data-testid="call-camera"
          onClick={() => act(active.setCamera(!state.camera))}
        >
          {state.camera ? 'Camera off' : 'Camera on'}
        </button>
        <button
          type="button"
          className={`parley-call-control${state.screen ? ' parley-call-control--on' : ''}`}
          aria-pressed={state.screen}
          data-testid="call-screen"
          onClick={() => act(state.screen ? active.stopScreenShare() : active.startScreenShare())}
        >
          {state.screen ? 'Stop sharing' : 'Share screen'}
        </button>
        <button
          type="button"
          className="parley-call-control parley-call-control--danger"
          data-testid="call-hangup"
          onClick={() => act(active.hangUp())}
        >
          Hang up
        </button>
      </footer>
    </section>
  );
}

// ---- history -----------------------------------------------------------------------------

const END_TEXT: Record<string, string> = {
  ended: 'Call',
  missed: 'Missed call',
  declined: 'Declined',
  cancelled: 'Cancelled',
  busy: 'Busy',
  ringing: 'Ringing',
  active: 'In progress',
};

function HistoryRow({ call, me, onOpen }: { call: CallRecord; me: string; onOpen?(cid: string): void }) {
  const outgoing = call.created_by === me;
  const mine = call.participants.find((p) => p.user_id === me);
  const other = call.participants.find((p) => p.user_id !== me)?.user_id ?? call.created_by;
  const user = useUser(outgoing ? other : call.created_by);
  const missedByMe = !outgoing && (mine?.state === 'missed' || call.state === 'missed' || call.state === 'cancelled');
  const state = missedByMe ? 'missed' : call.state;
  return (
    <li
      className={`parley-call-history__row${missedByMe ? ' parley-call-history__row--missed' : ''}`}
      data-testid="call-history-row"
      data-state={state}
    >
      <button type="button" onClick={() => onOpen?.(call.cid)}>
        <Avatar user={user} id={outgoing ? other : call.created_by} size={32} />
        <span className="parley-call-history__who">
          <strong>{displayName(user, outgoing ? other : call.created_by)}</strong>
          <span>
            {outgoing ? '↗ ' : '↙ '}
            {END_TEXT[state] ?? state}
            {call.kind === 'video' ? ' · video' : ''}
            {call.duration_ms !== null ? ` · ${formatCallTime(call.duration_ms)}` : ''}
          </span>
        </span>
        <time dateTime={call.created_at}>{new Date(call.created_at).toLocaleString()}</time>
      </button>
    </li>
  );
}

export interface CallHistoryProps {
  /** Only this channel's calls. */
  cid?: string;
  /** Open the channel of a call. */
  onOpen?(cid: string): void;
}

/** Your calls, newest first, paged; missed calls stand out. */
export function CallHistory({ cid, onOpen }: CallHistoryProps) {
  const client = useChatClient();
  const me = useMe();
  const [calls, setCalls] = useState<CallRecord[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const { active } = useCalls();
  const load = useCallback(
    (before?: string) => {
      setLoading(true);
      client.calls
        .history({ ...(cid ? { cid } : {}), ...(before ? { before } : {}), limit: 30 })
        .then((r) => {
          setCalls((c) => (before ? [...c, ...r.calls] : r.calls));
          setNext(r.next);
        })
        .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
        .finally(() => setLoading(false));
    },
    [client, cid],
  );
  // Reloaded when a call of this device ends, so the newest is there.
  useEffect(() => {
    if (!active) load();
  }, [load, active]);
  if (!me) return null;
  return (
    <div className="parley-call-history" data-testid="call-history">
      {error ? <p role="alert">{error}</p> : null}
      {!loading && calls.length === 0 ? <p className="parley-muted">No calls yet.</p> : null}
      <ul>
        {calls.map((c) => (
          <HistoryRow key={c.id} call={c} me={me} {...(onOpen ? { onOpen } : {})} />
        ))}
      </ul>
      {next ? (
        <button type="button" className="parley-call-history__more" disabled={loading} onClick={() => load(next)}>
          Older calls
        </button>
      ) : null}
    </div>
  );
}

/** Why a call ended on this device, as a line of text. */
export function endReasonText(reason: CallEndReason): string {
  switch (reason) {
    case 'answered_elsewhere':
      return 'Answered on another device';
    case 'missed':
      return 'Missed call';
    case 'declined':
      return 'Call declined';
    case 'busy':
      return 'Busy';
    case 'cancelled':
      return 'Call cancelled';
    default:
      return 'Call ended';
  }
}
