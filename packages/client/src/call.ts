/**
 * Calls in the SDK: `client.call(cid, { video })` starts one, `client.calls.on('incoming', …)`
 * rings, and a `Call` is the state machine of one call with its media (docs/calls.md).
 *
 *   outgoing ─┐                    ┌─▶ reconnecting ─┐
 *   incoming ─┴─accept─▶ connecting ─▶ connected ◀──┘ ─▶ ended
 *
 * Signalling rides the chat socket (`call.*` requests, `call.ring` / `call.updated` /
 * `call.signal` events); media flows peer to peer (a mesh). The rule that keeps offers from
 * crossing: whoever joins sends an offer to each participant already in; the others answer.
 * Each peer connection carries one audio and one video transceiver from the start, so mute,
 * camera on/off, screen share and device switching are `replaceTrack` and never renegotiate.
 * A network blip (ICE `disconnected` for a while, or `failed`) is healed by an ICE restart
 * from the side that made the offer; a new socket (the SDK reconnected) joins again on it and
 * offers afresh, and peers replace their connection to this device.
 *
 * The media APIs come from the browser (`navigator.mediaDevices`, `RTCPeerConnection`) or
 * from `CallMedia` passed to the client, so Node code can drive the signalling without media.
 */
import type {
  Call as CallRecord,
  CallSignal,
  CallState,
  EventOf,
  IceServer,
  IceServersResponse,
} from '@parley/protocol';
import type { ParleyError } from './errors.js';
import { Store } from './store.js';

/** Where a call is, as this device sees it. */
export type CallPhase = 'outgoing' | 'incoming' | 'connecting' | 'connected' | 'reconnecting' | 'ended';

/** Why a call ended on this device: the call's end state, or `answered_elsewhere` (another device of yours took it). */
export type CallEndReason = CallState | 'answered_elsewhere' | 'left';

/** The browser's media APIs a call uses (defaults: `navigator.mediaDevices` and `RTCPeerConnection`). */
export interface CallMedia {
  getUserMedia(c: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia?(c?: DisplayMediaStreamOptions): Promise<MediaStream>;
  RTCPeerConnection: typeof RTCPeerConnection;
}

/** The typed events of a `Call`. */
export interface CallEventMap {
  /** The phase changed. */
  phase: CallPhase;
  /** The call's record changed (participants joined, left …). */
  updated: CallRecord;
  /** A participant's media arrived or changed. */
  remotestream: { userId: string; stream: MediaStream };
  /** A participant's media went away (they left). */
  remotestreamremoved: { userId: string };
  /** This device's own media changed (camera on/off, screen share, device switch). */
  localstream: MediaStream | null;
  /** Mute, camera or screen share changed. */
  controls: { muted: boolean; camera: boolean; screen: boolean };
  /** The peer connection to a participant changed state. */
  peer: { userId: string; state: RTCPeerConnectionState };
  /** The call ended for this device. */
  ended: CallEndReason;
  /** Something failed (media refused, a signal refused …); the call may go on. */
  error: Error;
}

type Handler<T> = (value: T) => void;

class Emitter<M> {
  private readonly handlers = new Map<keyof M, Set<Handler<never>>>();
  on<K extends keyof M>(type: K, h: Handler<M[K]>): () => void {
    let set = this.handlers.get(type);
    if (!set) {
      set = new Set();
      this.handlers.set(type, set);
    }
    set.add(h as Handler<never>);
    return () => set.delete(h as Handler<never>);
  }
  emit<K extends keyof M>(type: K, value: M[K]): void {
    for (const h of this.handlers.get(type) ?? []) (h as Handler<M[K]>)(value);
  }
}

/** What a Call needs from the client: requests, REST, and who and where it is. */
export interface CallHost {
  request(type: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  iceServers(): Promise<IceServer[]>;
  me(): string;
  connectionId(): string | null;
  media(): CallMedia | null;
  /** The call no longer concerns this device. */
  forget(call: Call, reason: CallEndReason): void;
}

/** How long ICE may stay `disconnected` before the offerer restarts it, in ms. */
const ICE_RESTART_AFTER_MS = 2_500;

interface Peer {
  userId: string;
  connectionId: string | null;
  pc: RTCPeerConnection;
  /** Whether this side made the offer (and so restarts ICE). */
  offerer: boolean;
  stream: MediaStream;
  pending: RTCIceCandidateInit[];
  restartTimer: ReturnType<typeof setTimeout> | null;
  restarting: boolean;
}

/** One call, as this device takes part in it. */
export class Call {
  private readonly events = new Emitter<CallEventMap>();
  private readonly peers = new Map<string, Peer>();
  private record: CallRecord;
  private _phase: CallPhase;
  private _local: MediaStream | null = null;
  private camTrack: MediaStreamTrack | null = null;
  private screenTrack: MediaStreamTrack | null = null;
  private _muted = false;
  private joined = false;
  /** The connections this client was in the call with (the current one after a reconnect too). */
  private readonly myConnections = new Set<string>();
  private iceServers: IceServer[] | null = null;
  /** When media first arrived after this device joined (ms since the epoch), for measurements. */
  firstMediaAt: number | null = null;
  /** When this device accepted or started the call. */
  joinedAt: number | null = null;

  constructor(
    private readonly host: CallHost,
    record: CallRecord,
    phase: CallPhase,
  ) {
    this.record = record;
    this._phase = phase;
  }

  get id(): string {
    return this.record.id;
  }
  get cid(): string {
    return this.record.cid;
  }
  /** The call as the server last described it. */
  get info(): CallRecord {
    return this.record;
  }
  get phase(): CallPhase {
    return this._phase;
  }
  /** This device's camera/microphone (or screen) stream. */
  get localStream(): MediaStream | null {
    return this._local;
  }
  /** Each other participant's media, by user id. */
  get remoteStreams(): Map<string, MediaStream> {
    return new Map([...this.peers.values()].map((p) => [p.userId, p.stream]));
  }
  get muted(): boolean {
    return this._muted;
  }
  get cameraOn(): boolean {
    return !!this.camTrack && this.camTrack.enabled && this.camTrack.readyState === 'live';
  }
  get screenSharing(): boolean {
    return !!this.screenTrack;
  }

  on<K extends keyof CallEventMap>(type: K, h: Handler<CallEventMap[K]>): () => void {
    return this.events.on(type, h);
  }

  private setPhase(p: CallPhase): void {
    if (this._phase === p || this._phase === 'ended') return;
    this._phase = p;
    this.events.emit('phase', p);
  }

  private controls(): void {
    this.events.emit('controls', { muted: this._muted, camera: this.cameraOn, screen: this.screenSharing });
  }

  // ---- actions -------------------------------------------------------------------------

  /** Answer the ring on this device. */
  async accept(): Promise<void> {
    await this.openMedia(this.record.kind === 'video');
    this.joinedAt = Date.now();
    await this.enter('call.accept');
  }

  /** Join a channel's live call (no ring), or move the call to this device. */
  async join(): Promise<void> {
    if (!this._local) await this.openMedia(this.record.kind === 'video');
    this.joinedAt ??= Date.now();
    await this.enter('call.join');
  }

  private async enter(type: 'call.accept' | 'call.join'): Promise<void> {
    this.setPhase('connecting');
    // Before the request: its call.updated may arrive before its reply.
    const conn = this.host.connectionId();
    if (conn) this.myConnections.add(conn);
    let reply: Record<string, unknown>;
    try {
      reply = await this.host.request(type, { call_id: this.id });
    } catch (err) {
      this.finish(((err as ParleyError).code === 'CALL_ENDED' ? 'answered_elsewhere' : 'left') as CallEndReason);
      throw err;
    }
    this.joined = true;
    this.apply(reply.call as CallRecord);
    // The newcomer offers to everyone already in.
    const me = this.host.me();
    for (const p of this.record.participants)
      if (p.state === 'joined' && p.user_id !== me) await this.offerTo(p.user_id, p.connection_id);
  }

  /** Decline the ring (every device of yours stops ringing). */
  async decline(): Promise<void> {
    try {
      await this.host.request('call.decline', { call_id: this.id });
    } finally {
      this.finish('declined');
    }
  }

  /** Hang up: leave the call (it ends when fewer than two are left; a caller's unanswered call is cancelled). */
  async hangUp(): Promise<void> {
    try {
      if (this.joined || this._phase === 'outgoing') await this.host.request('call.leave', { call_id: this.id });
    } finally {
      this.finish('left');
    }
  }

  /** End the call for everyone in it. */
  async end(): Promise<void> {
    try {
      await this.host.request('call.end', { call_id: this.id });
    } finally {
      this.finish('ended');
    }
  }

  /** Ring more members of the channel into the call. */
  async invite(userIds: string[]): Promise<void> {
    const r = await this.host.request('call.invite', { call_id: this.id, user_ids: userIds });
    this.apply(r.call as CallRecord);
  }

  /** Mute or unmute the microphone (the track stays; it sends silence). */
  setMuted(muted: boolean): void {
    this._muted = muted;
    for (const t of this._local?.getAudioTracks() ?? []) t.enabled = !muted;
    this.controls();
  }

  /** Turn the camera on or off. Off stops the camera (its light goes out); on asks for it again. */
  async setCamera(on: boolean): Promise<void> {
    if (!on) {
      this.camTrack?.stop();
      if (this.camTrack) this._local?.removeTrack(this.camTrack);
      this.camTrack = null;
      if (!this.screenTrack) await this.sendVideo(null);
    } else if (!this.cameraOn) {
      const media = this.host.media();
      if (!media) throw new Error('No media devices here');
      const s = await media.getUserMedia({ video: true });
      const track = s.getVideoTracks()[0] ?? null;
      this.camTrack = track;
      if (track) this.localStreamOf().addTrack(track);
      if (!this.screenTrack) await this.sendVideo(track);
    }
    this.events.emit('localstream', this._local);
    this.controls();
  }

  /** Share the screen in place of the camera (getDisplayMedia); ends by itself when the browser's "stop sharing" is pressed. */
  async startScreenShare(): Promise<void> {
    const media = this.host.media();
    if (!media?.getDisplayMedia) throw new Error('Screen sharing is not available here');
    const s = await media.getDisplayMedia({ video: true, audio: false });
    const track = s.getVideoTracks()[0];
    if (!track) return;
    this.screenTrack = track;
    track.addEventListener('ended', () => void this.stopScreenShare());
    await this.sendVideo(track);
    this.events.emit('localstream', this._local);
    this.controls();
  }

  async stopScreenShare(): Promise<void> {
    if (!this.screenTrack) return;
    this.screenTrack.stop();
    this.screenTrack = null;
    await this.sendVideo(this.camTrack);
    this.controls();
  }

  /** The screen track while sharing (show it as your own preview). */
  get screenTrackNow(): MediaStreamTrack | null {
    return this.screenTrack;
  }

  /** Switch the microphone or camera to another device (`MediaDeviceInfo.deviceId`). */
  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<void> {
    const media = this.host.media();
    if (!media) throw new Error('No media devices here');
    const audio = kind === 'audioinput';
    const s = await media.getUserMedia(
      audio ? { audio: { deviceId: { exact: deviceId } } } : { video: { deviceId: { exact: deviceId } } },
    );
    const track = (audio ? s.getAudioTracks() : s.getVideoTracks())[0];
    if (!track) return;
    const local = this.localStreamOf();
    const old = audio ? local.getAudioTracks()[0] : this.camTrack;
    if (old) {
      old.stop();
      local.removeTrack(old);
    }
    local.addTrack(track);
    if (audio) {
      track.enabled = !this._muted;
      for (const p of this.peers.values()) await this.senderOf(p.pc, 'audio')?.replaceTrack(track);
    } else {
      this.camTrack = track;
      if (!this.screenTrack) await this.sendVideo(track);
    }
    this.events.emit('localstream', this._local);
  }

  /** WebRTC statistics of the connection to each participant. */
  async getStats(): Promise<Map<string, RTCStatsReport>> {
    const out = new Map<string, RTCStatsReport>();
    for (const p of this.peers.values()) out.set(p.userId, await p.pc.getStats());
    return out;
  }

  // ---- media ---------------------------------------------------------------------------

  private localStreamOf(): MediaStream {
    if (!this._local) this._local = new MediaStream();
    return this._local;
  }

  /** Ask for the microphone (and camera); a refused camera still lets the call go on with audio. */
  async openMedia(video: boolean): Promise<void> {
    const media = this.host.media();
    if (!media || this._local) return;
    let s: MediaStream;
    try {
      s = await media.getUserMedia({ audio: true, video });
    } catch (err) {
      if (!video) throw err;
      this.events.emit('error', err as Error);
      s = await media.getUserMedia({ audio: true, video: false });
    }
    this._local = s;
    this.camTrack = s.getVideoTracks()[0] ?? null;
    this.events.emit('localstream', s);
    this.controls();
  }

  private senderOf(pc: RTCPeerConnection, kind: 'audio' | 'video'): RTCRtpSender | undefined {
    return pc.getTransceivers().find((t) => (t.receiver.track?.kind ?? t.mid) === kind)?.sender;
  }

  private async sendVideo(track: MediaStreamTrack | null): Promise<void> {
    for (const p of this.peers.values()) await this.senderOf(p.pc, 'video')?.replaceTrack(track);
  }

  // ---- peers ---------------------------------------------------------------------------

  private async newPeer(userId: string, connectionId: string | null, offerer: boolean): Promise<Peer> {
    const old = this.peers.get(userId);
    if (old) this.closePeer(old, false);
    const media = this.host.media();
    if (!media) throw new Error('WebRTC is not available here');
    this.iceServers ??= await this.host.iceServers().catch(() => []);
    const pc = new media.RTCPeerConnection({ iceServers: this.iceServers });
    const peer: Peer = {
      userId,
      connectionId,
      pc,
      offerer,
      stream: new MediaStream(),
      pending: [],
      restartTimer: null,
      restarting: false,
    };
    this.peers.set(userId, peer);
    pc.onicecandidate = (e) => {
      if (!e.candidate) return;
      void this.signal(userId, {
        type: 'candidate',
        candidate: {
          candidate: e.candidate.candidate,
          sdp_mid: e.candidate.sdpMid,
          sdp_m_line_index: e.candidate.sdpMLineIndex,
          username_fragment: e.candidate.usernameFragment,
        },
      });
    };
    pc.ontrack = (e) => {
      if (!peer.stream.getTracks().includes(e.track)) peer.stream.addTrack(e.track);
      e.track.onunmute = () => this.events.emit('remotestream', { userId, stream: peer.stream });
      this.events.emit('remotestream', { userId, stream: peer.stream });
    };
    pc.onconnectionstatechange = () => {
      this.events.emit('peer', { userId, state: pc.connectionState });
      this.peerStates();
    };
    pc.oniceconnectionstatechange = () => this.watchIce(peer);
    return peer;
  }

  /** The call's phase from its peers: connected when any peer is, reconnecting while one recovers. */
  private peerStates(): void {
    const states = [...this.peers.values()].map((p) => p.pc.connectionState);
    if (states.includes('connected')) {
      if (this.firstMediaAt === null) this.firstMediaAt = Date.now();
      this.setPhase(states.some((s) => s === 'disconnected' || s === 'failed') ? 'reconnecting' : 'connected');
    } else if (states.some((s) => s === 'disconnected' || s === 'failed')) {
      this.setPhase('reconnecting');
    }
  }

  /** ICE went away: give it a moment, then the offerer restarts it. */
  private watchIce(peer: Peer): void {
    const s = peer.pc.iceConnectionState;
    if (s === 'connected' || s === 'completed') {
      if (peer.restartTimer) clearTimeout(peer.restartTimer);
      peer.restartTimer = null;
      peer.restarting = false;
      return;
    }
    if ((s === 'disconnected' || s === 'failed') && peer.offerer && !peer.restartTimer) {
      peer.restartTimer = setTimeout(
        () => {
          peer.restartTimer = null;
          const now = peer.pc.iceConnectionState;
          if (now === 'disconnected' || now === 'failed') void this.restartIce(peer);
        },
        s === 'failed' ? 0 : ICE_RESTART_AFTER_MS,
      );
    }
  }

  /** Offer again with new ICE credentials (after a network change). */
  async restartIce(peer?: Peer): Promise<void> {
    const targets = peer ? [peer] : [...this.peers.values()].filter((p) => p.offerer);
    for (const p of targets) {
      p.restarting = true;
      const offer = await p.pc.createOffer({ iceRestart: true });
      await p.pc.setLocalDescription(offer);
      await this.signal(p.userId, { type: 'offer', sdp: offer.sdp ?? '' });
    }
  }

  private attachLocal(pc: RTCPeerConnection, offerer: boolean): void {
    const audio = this._local?.getAudioTracks()[0] ?? null;
    const video = this.screenTrack ?? this.camTrack;
    if (offerer) {
      // Both kinds from the start, so later changes are replaceTrack, not renegotiation.
      pc.addTransceiver(audio ?? 'audio', { direction: 'sendrecv', streams: this._local ? [this._local] : [] });
      pc.addTransceiver(video ?? 'video', { direction: 'sendrecv', streams: this._local ? [this._local] : [] });
      return;
    }
    for (const t of pc.getTransceivers()) {
      const kind = t.receiver.track?.kind;
      t.direction = 'sendrecv';
      if (kind === 'audio' && audio) void t.sender.replaceTrack(audio);
      if (kind === 'video' && video) void t.sender.replaceTrack(video);
      if (this._local && kind) t.sender.setStreams?.(this._local);
    }
  }

  private async offerTo(userId: string, connectionId: string | null): Promise<void> {
    try {
      const peer = await this.newPeer(userId, connectionId, true);
      this.attachLocal(peer.pc, true);
      const offer = await peer.pc.createOffer();
      await peer.pc.setLocalDescription(offer);
      await this.signal(userId, { type: 'offer', sdp: offer.sdp ?? '' });
    } catch (err) {
      this.events.emit('error', err as Error);
    }
  }

  private async signal(userId: string, signal: CallSignal): Promise<void> {
    try {
      await this.host.request('call.signal', { call_id: this.id, to_user_id: userId, signal });
    } catch (err) {
      // A peer that left meanwhile: its call.updated closes the connection.
      this.events.emit('error', err as Error);
    }
  }

  /** A `call.signal` for this call. */
  async onSignal(e: EventOf<'call.signal'>): Promise<void> {
    if (!this.joined) return;
    const s = e.signal;
    try {
      if (s.type === 'offer') {
        let peer = this.peers.get(e.from_user_id);
        // A first offer, or one from a device that replaced the one we knew: a new connection.
        if (!peer || peer.connectionId !== e.from_connection_id || peer.offerer) {
          peer = await this.newPeer(e.from_user_id, e.from_connection_id, false);
          await peer.pc.setRemoteDescription({ type: 'offer', sdp: s.sdp });
          this.attachLocal(peer.pc, false);
        } else {
          await peer.pc.setRemoteDescription({ type: 'offer', sdp: s.sdp }); // an ICE restart
        }
        const answer = await peer.pc.createAnswer();
        await peer.pc.setLocalDescription(answer);
        await this.flushCandidates(peer);
        await this.signal(e.from_user_id, { type: 'answer', sdp: answer.sdp ?? '' });
      } else if (s.type === 'answer') {
        const peer = this.peers.get(e.from_user_id);
        if (!peer) return;
        if (peer.pc.signalingState !== 'have-local-offer') return;
        peer.connectionId = e.from_connection_id;
        await peer.pc.setRemoteDescription({ type: 'answer', sdp: s.sdp });
        await this.flushCandidates(peer);
      } else if (s.type === 'candidate' && s.candidate) {
        const peer = this.peers.get(e.from_user_id);
        if (!peer) return;
        const cand = s.candidate;
        const c: RTCIceCandidateInit = {
          candidate: cand.candidate,
          sdpMid: cand.sdp_mid,
          sdpMLineIndex: cand.sdp_m_line_index,
        };
        if (cand.username_fragment) c.usernameFragment = cand.username_fragment;
        if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(c);
        else peer.pending.push(c);
      }
    } catch (err) {
      this.events.emit('error', err as Error);
    }
  }

  private async flushCandidates(peer: Peer): Promise<void> {
    for (const c of peer.pending.splice(0)) await peer.pc.addIceCandidate(c).catch(() => {});
  }

  private closePeer(peer: Peer, announce: boolean): void {
    if (peer.restartTimer) clearTimeout(peer.restartTimer);
    peer.pc.onicecandidate = null;
    peer.pc.ontrack = null;
    peer.pc.onconnectionstatechange = null;
    peer.pc.oniceconnectionstatechange = null;
    peer.pc.close();
    if (this.peers.get(peer.userId) === peer) this.peers.delete(peer.userId);
    if (announce) this.events.emit('remotestreamremoved', { userId: peer.userId });
  }

  // ---- the server's view -------------------------------------------------------------

  /** A newer record of the call (a reply or a `call.updated`). */
  apply(record: CallRecord): void {
    this.record = record;
    this.events.emit('updated', record);
    const me = this.host.me();
    const mine = record.participants.find((p) => p.user_id === me);
    if (['ended', 'missed', 'declined', 'cancelled', 'busy'].includes(record.state)) {
      this.finish(record.state);
      return;
    }
    if (mine?.state === 'joined' && mine.connection_id && !this.myConnections.has(mine.connection_id)) {
      // Answered (or moved) on another device of mine (not this client's own earlier socket).
      this.finish('answered_elsewhere');
      return;
    }
    if (this._phase === 'incoming' && mine && mine.state !== 'ringing') {
      this.finish(mine.state === 'declined' ? 'declined' : mine.state === 'missed' ? 'missed' : 'left');
      return;
    }
    // Peers who are no longer in: their connection goes.
    for (const peer of [...this.peers.values()]) {
      const p = record.participants.find((x) => x.user_id === peer.userId);
      if (p?.state !== 'joined') this.closePeer(peer, true);
    }
    if (this._phase === 'outgoing' && record.participants.some((p) => p.user_id !== me && p.state === 'joined'))
      this.setPhase('connecting');
  }

  /** After the SDK's socket came back: be in the call on the new connection, and offer again. */
  async rejoin(): Promise<void> {
    if (!this.joined || this._phase === 'ended') return;
    this.setPhase('reconnecting');
    try {
      await this.enter('call.join');
    } catch {
      // finish() ran in enter
    }
  }

  /** Stop everything on this device. */
  finish(reason: CallEndReason): void {
    if (this._phase === 'ended') return;
    for (const p of [...this.peers.values()]) this.closePeer(p, true);
    for (const t of this._local?.getTracks() ?? []) t.stop();
    this.screenTrack?.stop();
    this.screenTrack = null;
    this.camTrack = null;
    this._local = null;
    this.joined = false;
    this._phase = 'ended';
    this.events.emit('phase', 'ended');
    this.events.emit('ended', reason);
    this.host.forget(this, reason);
  }

  /** The caller's own start: the server's record, and this device is in. */
  begin(record: CallRecord): void {
    this.record = record;
    this.joined = true;
    const conn = this.host.connectionId();
    if (conn) this.myConnections.add(conn);
    this.joinedAt = Date.now();
    this.apply(record);
  }
}

/** The calls of one client: the one this device is in, and those ringing it. */
export interface CallsState {
  /** The call this device is in (or calling out with). */
  active: Call | null;
  /** Calls ringing this device, oldest first. */
  incoming: Call[];
  /** The live call of each channel this client heard of (`call.updated`), for "join" buttons. */
  live: Record<string, CallRecord>;
}

export interface CallsEventMap {
  /** A call rings this device. */
  incoming: Call;
  /** A call of this device ended. */
  ended: { call: Call; reason: CallEndReason };
}

/** What `Calls` needs from the client. */
export interface CallsHost {
  request(type: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  get<T>(path: string): Promise<T>;
  me(): string;
  connectionId(): string | null;
  media(): CallMedia | null;
}

/** `client.calls`: start calls, hear rings, read history. */
export class Calls {
  /** Re-render from this: the active call and the ringing ones. */
  readonly state = new Store<CallsState>({ active: null, incoming: [], live: {} });
  private readonly events = new Emitter<CallsEventMap>();
  private readonly byId = new Map<string, Call>();
  /** Calls this device ended, declined or saw end (the latest 100): a late update never rings them again. */
  private readonly gone = new Set<string>();
  private ice: { servers: IceServer[]; until: number } | null = null;

  constructor(private readonly host: CallsHost) {}

  on<K extends keyof CallsEventMap>(type: K, h: Handler<CallsEventMap[K]>): () => void {
    return this.events.on(type, h);
  }

  /** The call this device is in. */
  get active(): Call | null {
    return this.state.get().active;
  }

  private callHost(): CallHost {
    return {
      request: (t, b) => this.host.request(t, b),
      iceServers: () => this.iceServers(),
      me: () => this.host.me(),
      connectionId: () => this.host.connectionId(),
      media: () => this.host.media(),
      forget: (call, reason) => this.forget(call, reason),
    };
  }

  /** STUN/TURN for RTCPeerConnection, cached until a little before the TURN credential expires. */
  async iceServers(): Promise<IceServer[]> {
    if (this.ice && this.ice.until > Date.now()) return this.ice.servers;
    const r = await this.host.get<IceServersResponse>('/v1/calls/ice-servers');
    const until = r.expires_at ? Date.parse(r.expires_at) - 60_000 : Date.now() + 3600_000;
    this.ice = { servers: r.ice_servers, until };
    return r.ice_servers;
  }

  /** Start a call in a channel (a DM rings the other person; a group channel its members). */
  async start(cid: string, opts: { video?: boolean; invite?: string[] } = {}): Promise<Call> {
    const video = opts.video ?? false;
    const probe = new Call(this.callHost(), placeholder(cid, video), 'outgoing');
    // Media first: a refused microphone must not ring anyone.
    await probe.openMedia(video);
    const body: Record<string, unknown> = { cid, kind: video ? 'video' : 'audio' };
    if (opts.invite) body.invite = opts.invite;
    let reply: Record<string, unknown>;
    try {
      reply = await this.host.request('call.start', body);
    } catch (err) {
      for (const t of probe.localStream?.getTracks() ?? []) t.stop();
      throw err;
    }
    const record = reply.call as CallRecord;
    this.noteLive(record);
    this.byId.set(record.id, probe);
    this.state.update((s) => ({ ...s, active: probe }));
    probe.begin(record);
    return probe;
  }

  /** Join a channel's live call (`call.updated` with `change: 'started'` told you of it). */
  async join(record: CallRecord): Promise<Call> {
    const call = this.byId.get(record.id) ?? new Call(this.callHost(), record, 'connecting');
    this.byId.set(call.id, call);
    this.state.update((s) => ({ ...s, active: call, incoming: s.incoming.filter((c) => c !== call) }));
    await call.join();
    return call;
  }

  /** Answer a ringing call (it becomes the active one). */
  async accept(call: Call): Promise<void> {
    this.state.update((s) => ({ ...s, active: call, incoming: s.incoming.filter((c) => c !== call) }));
    await call.accept();
  }

  /** Call history (`GET /v1/calls`): yours, or a channel's with `cid`. */
  history(q: { cid?: string; state?: string; limit?: number; before?: string } = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.host.get<{ calls: CallRecord[]; next: string | null }>(`/v1/calls${qs ? `?${qs}` : ''}`);
  }

  /** A call event from the socket (the client routes them here). */
  onEvent(e: EventOf<'call.ring'> | EventOf<'call.updated'> | EventOf<'call.signal'>): void {
    if (e.type !== 'call.signal') this.noteLive(e.call);
    if (e.type === 'call.ring') {
      this.ring(e.call);
      return;
    }
    const call = this.byId.get(e.type === 'call.signal' ? e.call_id : e.call.id);
    if (!call) {
      // A ring goes only to sockets open when the call started (it is not in the channel's
      // log); a device that connected just after it learns of the call from its next update,
      // and rings then if it still waits on this user. Not a call this device already left.
      if (e.type === 'call.updated' && !this.gone.has(e.call.id) && this.ringsMe(e.call)) {
        this.ring(e.call);
      }
      return;
    }
    if (e.type === 'call.signal') void call.onSignal(e);
    else call.apply(e.call);
  }

  private ring(record: CallRecord): void {
    if (this.byId.has(record.id)) return;
    const call = new Call(this.callHost(), record, 'incoming');
    this.byId.set(call.id, call);
    this.state.update((s) => ({ ...s, incoming: [...s.incoming, call] }));
    this.events.emit('incoming', call);
  }

  private ringsMe(record: CallRecord): boolean {
    if (record.state !== 'ringing' && record.state !== 'active') return false;
    const me = this.host.me();
    return record.participants.some((p) => p.user_id === me && p.state === 'ringing');
  }

  private noteLive(record: CallRecord): void {
    const isLive = record.state === 'ringing' || record.state === 'active';
    this.state.update((s) => {
      const cur = s.live[record.cid];
      if (!isLive && (!cur || cur.id !== record.id)) return s;
      const live = { ...s.live };
      if (isLive) live[record.cid] = record;
      else delete live[record.cid];
      return { ...s, live };
    });
  }

  /** The socket came back (a new connection): the active call moves to it. */
  reconnected(): void {
    void this.active?.rejoin();
  }

  private forget(call: Call, reason: CallEndReason): void {
    this.byId.delete(call.id);
    this.gone.add(call.id);
    if (this.gone.size > 100) this.gone.delete(this.gone.values().next().value as string);
    this.state.update((s) => ({
      ...s,
      active: s.active === call ? null : s.active,
      incoming: s.incoming.filter((c) => c !== call),
    }));
    this.events.emit('ended', { call, reason });
  }
}

function placeholder(cid: string, video: boolean): CallRecord {
  return {
    id: '00000000-0000-7000-8000-000000000000',
    cid,
    created_by: '',
    kind: video ? 'video' : 'audio',
    state: 'ringing',
    created_at: new Date().toISOString(),
    started_at: null,
    ended_at: null,
    duration_ms: null,
    participants: [],
  };
}
