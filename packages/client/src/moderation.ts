/**
 * Moderation through the SDK (`client.moderation`): report messages and users, and — for
 * moderators and admins — bans, the moderation queue, the transparency report, automod settings
 * and the app's permission table. Channel settings (freeze, slow mode, reactions) are `channel.update`.
 * What the caller may do in a channel is its `own_capabilities` (`Channel.can`).
 *
 * Mutes are personal: `mute(userId)` hides that user's messages from the caller. The server
 * leaves them out of history, search and unread counts; live `message.new` frames reach every
 * subscriber alike, so the client drops a muted author's (ingest.ts) while its seq still
 * advances. The list is loaded on every hello and kept here (`isMuted`).
 */
import type {
  AutomodSettings,
  Ban,
  BanBody,
  Flag,
  Mute,
  PermissionOverrides,
  PermissionsResponse,
  ReviewFlagBody,
  TransparencyQuery,
  TransparencyResponse,
} from '@parley/protocol';
import type { Http } from './http.js';

/** What mutes need from the client: to drop or reload what is already in state. */
export interface MuteHost {
  /** Muted users changed: `added` are to be taken out of state, `removed` brought back. */
  mutesChanged(added: string[], removed: string[]): void;
}

export class Moderation {
  readonly #muted = new Set<string>();

  constructor(
    private readonly http: Http,
    private readonly host?: MuteHost,
  ) {}

  /** Whether the connected user muted `userId` (as last loaded or changed through this client). */
  isMuted(userId: string): boolean {
    return this.#muted.has(userId);
  }

  /** Mute a user: their messages leave your history, search, unread counts and live events. */
  async mute(userId: string): Promise<Mute> {
    const { mute } = await this.http.call<{ mute: Mute }>('POST', '/v1/moderation/mutes', { user_id: userId });
    if (!this.#muted.has(userId)) {
      this.#muted.add(userId);
      this.host?.mutesChanged([userId], []);
    }
    return mute;
  }

  /** Unmute a user; their messages come back (loaded channels reload). */
  async unmute(userId: string): Promise<Mute> {
    const { mute } = await this.http.call<{ mute: Mute }>(
      'DELETE',
      `/v1/moderation/mutes/${encodeURIComponent(userId)}`,
    );
    if (this.#muted.delete(userId)) this.host?.mutesChanged([], [userId]);
    return mute;
  }

  /** The users you muted, newest first (also refreshes `isMuted`). */
  async mutes(): Promise<Mute[]> {
    const { mutes } = await this.http.call<{ mutes: Mute[] }>('GET', '/v1/moderation/mutes');
    const now = new Set(mutes.map((m) => m.user_id));
    const added = [...now].filter((id) => !this.#muted.has(id));
    const removed = [...this.#muted].filter((id) => !now.has(id));
    this.#muted.clear();
    for (const id of now) this.#muted.add(id);
    if (added.length || removed.length) this.host?.mutesChanged(added, removed);
    return mutes;
  }

  /** Forget the list (disconnectUser). */
  resetMutes(): void {
    this.#muted.clear();
  }

  /** Report a message with a reason; the answer is the (open) flag. */
  async flagMessage(messageId: string, reason: string): Promise<Flag> {
    return (await this.http.call<{ flag: Flag }>('POST', '/v1/moderation/flags', { message_id: messageId, reason }))
      .flag;
  }

  /** Report a user with a reason. */
  async flagUser(userId: string, reason: string): Promise<Flag> {
    return (await this.http.call<{ flag: Flag }>('POST', '/v1/moderation/flags', { user_id: userId, reason })).flag;
  }

  /** The moderation queue (moderators): open flags by default, newest first; pass `next` back as `cursor`. */
  async queryFlags(
    opts: { status?: Flag['status']; limit?: number; cursor?: string } = {},
  ): Promise<{ flags: Flag[]; next?: string }> {
    const p = new URLSearchParams();
    if (opts.status) p.set('status', opts.status);
    if (opts.limit) p.set('limit', String(opts.limit));
    if (opts.cursor) p.set('cursor', opts.cursor);
    const qs = p.toString();
    return this.http.call('GET', `/v1/moderation/flags${qs ? `?${qs}` : ''}`);
  }

  /** Review a flag: remove the message, ban its author (and remove), or dismiss. */
  async reviewFlag(flagId: string, review: ReviewFlagBody): Promise<Flag> {
    return (await this.http.call<{ flag: Flag }>('POST', `/v1/moderation/flags/${flagId}/review`, review)).flag;
  }

  /** Ban a user in a channel (`cid`) or app-wide, with a reason and an optional timeout in seconds. */
  async ban(body: BanBody): Promise<Ban> {
    return (await this.http.call<{ ban: Ban }>('POST', '/v1/moderation/bans', body)).ban;
  }

  /** Lift a ban. */
  async unban(userId: string, cid?: string): Promise<Ban> {
    return (
      await this.http.call<{ ban: Ban }>('POST', '/v1/moderation/unban', { user_id: userId, ...(cid ? { cid } : {}) })
    ).ban;
  }

  /** Standing bans of a channel, or of the app. */
  async queryBans(cid?: string): Promise<Ban[]> {
    const qs = cid ? `?cid=${encodeURIComponent(cid)}` : '';
    return (await this.http.call<{ bans: Ban[] }>('GET', `/v1/moderation/bans${qs}`)).bans;
  }

  /** The app's automod settings (moderators). */
  async getAutomod(): Promise<AutomodSettings> {
    return (await this.http.call<{ automod: AutomodSettings }>('GET', '/v1/moderation/automod')).automod;
  }

  /** Replace the app's automod settings (app admins). */
  async setAutomod(settings: AutomodSettings): Promise<AutomodSettings> {
    return (await this.http.call<{ automod: AutomodSettings }>('PUT', '/v1/moderation/automod', settings)).automod;
  }

  /**
   * The transparency report (moderators): moderation actions per day, week or month
   * (`transparencyCsv` from @parley/protocol makes it a CSV file).
   */
  report(query: Omit<TransparencyQuery, 'format'> = {}): Promise<TransparencyResponse> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) p.set(k, String(v));
    const qs = p.toString();
    return this.http.call('GET', `/v1/moderation/report${qs ? `?${qs}` : ''}`);
  }

  /** The app's permission overrides and its effective table. */
  getPermissions(): Promise<PermissionsResponse> {
    return this.http.call('GET', '/v1/moderation/permissions');
  }

  /** Replace the app's permission overrides (app admins). */
  setPermissions(overrides: PermissionOverrides): Promise<PermissionsResponse> {
    return this.http.call('PUT', '/v1/moderation/permissions', { overrides });
  }
}
