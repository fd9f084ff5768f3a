/**
 * Admin and compliance calls of the SDK (`client.admin`): the audit log, usage analytics, the
 * app's channels, data exports and deletions. All but a user's own export need an app admin
 * (or a server token).
 */
import type {
  AdminChannelsQuery,
  AdminChannelsResponse,
  AnalyticsQuery,
  AnalyticsResponse,
  AuditQuery,
  AuditResponse,
  DataExport,
  DataExportResponse,
  DataExportsResponse,
  DeletionResponse,
} from '@parley/protocol';
import type { Http } from './http.js';

const query = (q: Record<string, string | number | undefined | null>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
};

export class AdminApi {
  constructor(private readonly http: Http) {}

  /** One page of the audit log, newest first; pass `next` as `cursor` for the following page. */
  audit(q: AuditQuery = {}): Promise<AuditResponse> {
    return this.http.call<AuditResponse>('GET', `/v1/audit${query({ ...q })}`);
  }

  /** Usage by UTC day (`from`/`to` as YYYY-MM-DD; default the last 30 days) and totals. */
  analytics(q: AnalyticsQuery = {}): Promise<AnalyticsResponse> {
    return this.http.call<AnalyticsResponse>('GET', `/v1/analytics${query({ ...q })}`);
  }

  /**
   * One page of every channel of the app (members or not; no DMs), by name, with its moderation
   * settings; pass `next` as `cursor` for the following page. Change one with
   * `client.channel(type, id).update(...)`, the call its own moderators use.
   */
  channels(q: AdminChannelsQuery = {}): Promise<AdminChannelsResponse> {
    return this.http.call<AdminChannelsResponse>('GET', `/v1/channels${query({ ...q })}`);
  }

  /** Ask for a user's data export; `export.ready` arrives on their connections when it is made. */
  async requestExport(userId: string): Promise<DataExport> {
    return (await this.http.call<DataExportResponse>('POST', `/v1/users/${encodeURIComponent(userId)}/exports`, {}))
      .export;
  }

  /** One export, with a fresh signed download link once ready. */
  async getExport(userId: string, exportId: string): Promise<DataExport> {
    return (
      await this.http.call<DataExportResponse>(
        'GET',
        `/v1/users/${encodeURIComponent(userId)}/exports/${encodeURIComponent(exportId)}`,
      )
    ).export;
  }

  /** A user's recent exports, newest first. */
  async listExports(userId: string): Promise<DataExport[]> {
    return (await this.http.call<DataExportsResponse>('GET', `/v1/users/${encodeURIComponent(userId)}/exports`))
      .exports;
  }

  /** The absolute URL of a ready export's archive (works without credentials until it expires). */
  downloadUrl(e: DataExport): string | null {
    return e.url ? this.http.resolve(e.url) : null;
  }

  /** Delete a user through the job queue: `soft` keeps their messages as "[deleted user]", `hard` removes them. */
  deleteUser(userId: string, mode: 'soft' | 'hard' = 'soft'): Promise<DeletionResponse> {
    return this.http.call<DeletionResponse>('DELETE', `/v1/users/${encodeURIComponent(userId)}?mode=${mode}`);
  }

  /** Delete a channel and everything in it, through the job queue. */
  deleteChannel(cid: string): Promise<DeletionResponse> {
    return this.http.call<DeletionResponse>('DELETE', `/v1/channels/${encodeURIComponent(cid)}`);
  }
}
