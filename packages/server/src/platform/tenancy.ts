/**
 * Apps (tenants): looked up by API key on every request, so they are cached in memory for a
 * short while. Secrets are unsealed once per cache fill, never logged, never sent again.
 */
import { randomUUID } from 'node:crypto';
import type { AutomodSettings, PermissionOverrides, UploadRules } from '@parley/protocol';
import { isSafeText } from '@parley/protocol';
import { eq, sql } from 'drizzle-orm';
import type { AppContext } from './auth.js';
import { type Db, type Queryable, rows, schema } from './db/index.js';
import { invalid } from './errors.js';
import { newCredential, type Sealer } from './secrets.js';

const TTL_MS = 30_000;

/**
 * The broker topic that tells every node an app's settings changed (permission overrides,
 * automod, name, search language): each forgets its copy and reads the app again on its next
 * request or socket frame, so a change applies at once everywhere, open sockets included.
 */
export const APPS_TOPIC = 'x:apps';

/** What the registry needs of the broker (realtime/broker.ts), without depending on it. */
export interface AppsBus {
  subscribe(topic: string): void;
  publish(topic: string, msg: { type: string; frame: string }): void;
}
/** Far longer than any key this server makes (`pk_` and 16 characters). */
const MAX_KEY_LENGTH = 200;

export class AppRegistry {
  private readonly cache = new Map<string, { app: AppContext | null; at: number }>();
  /**
   * Reads under way, by key: when a copy lapses, the handshakes and requests that need it at
   * that instant share one read (a reconnect storm made one each: 187 reads in 30 s).
   */
  private readonly reading = new Map<string, Promise<AppContext | null>>();
  /** Bumped by `forget`: a read that began before a change does not fill the cache. */
  private generation = 0;
  private bus: AppsBus | null = null;
  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  /** Announce changes on `bus` and take other nodes' announcements from it (`receive`). */
  listen(bus: AppsBus): void {
    this.bus = bus;
    bus.subscribe(APPS_TOPIC);
  }

  /**
   * The cached app of this key, if the cache has a fresh answer (null: no such app, or
   * disabled); undefined when it must be read (`byKey`). Lets a socket frame check its app
   * without a turn of the event loop.
   */
  cached(apiKey: string): AppContext | null | undefined {
    const hit = this.cache.get(apiKey);
    return hit && Date.now() - hit.at < TTL_MS ? hit.app : undefined;
  }

  /** Forget this node's copy of an app. */
  forget(appId: string): void {
    for (const [key, hit] of this.cache) if (hit.app?.id === appId) this.cache.delete(key);
    this.generation++;
    this.reading.clear();
  }

  /** An app changed (after commit): this node forgets it now, every other node on the broker's word. */
  changed(appId: string): void {
    this.forget(appId);
    this.bus?.publish(APPS_TOPIC, { type: 'app.changed', frame: JSON.stringify({ appId }) });
  }

  /** A broker message on APPS_TOPIC. */
  receive(msg: { frame: string }): void {
    try {
      const m = JSON.parse(msg.frame) as { appId?: unknown };
      if (typeof m.appId === 'string') this.forget(m.appId);
    } catch {
      // Not ours to answer: a malformed notice changes nothing.
    }
  }

  /** The app with this API key, or null. */
  async byKey(apiKey: string): Promise<AppContext | null> {
    // A key no app can have is unknown without asking: NUL in a query (`?api_key=%00`) made the
    // lookup itself fail (500, and 1013 "database unavailable" on the socket).
    if (apiKey.length > MAX_KEY_LENGTH || !isSafeText(apiKey)) return null;
    const hit = this.cache.get(apiKey);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.app;
    const under = this.reading.get(apiKey);
    if (under) return under;
    const generation = this.generation;
    const read = this.read(apiKey).then(
      (app) => {
        if (this.reading.get(apiKey) === read) this.reading.delete(apiKey);
        if (generation === this.generation) {
          if (this.cache.size > 10_000) this.cache.clear();
          this.cache.set(apiKey, { app, at: Date.now() });
        }
        return app;
      },
      (err: unknown) => {
        if (this.reading.get(apiKey) === read) this.reading.delete(apiKey);
        throw err;
      },
    );
    this.reading.set(apiKey, read);
    return read;
  }

  private async read(apiKey: string): Promise<AppContext | null> {
    const [row] = await this.db.select().from(schema.apps).where(eq(schema.apps.apiKey, apiKey)).limit(1);
    return row && !row.disabledAt
      ? {
          id: row.id,
          name: row.name,
          apiKey: row.apiKey,
          secretKey: new TextEncoder().encode(this.sealer.open(row.apiSecretSealed)),
          permissions: row.permissions,
          automod: row.automod,
          uploadRules: row.uploadRules,
        }
      : null;
  }

  /** Create an app with fresh credentials; the secret is returned once, here. */
  async create(name: string): Promise<{ id: string; name: string; api_key: string; api_secret: string }> {
    const id = randomUUID();
    const apiKey = newCredential('pk_', 12);
    const apiSecret = newCredential('sk_', 32);
    await this.db.insert(schema.apps).values({ id, name, apiKey, apiSecretSealed: this.sealer.seal(apiSecret) });
    return { id, name, api_key: apiKey, api_secret: apiSecret };
  }

  /**
   * Rename an app or change its search language. A new language re-indexes the app's messages
   * in the same transaction (one statement; long on a large app, and sends wait on it), so
   * search never mixes two configurations. Null when there is no such app.
   */
  async update(
    appId: string,
    patch: { name?: string | undefined; search_language?: string | undefined },
  ): Promise<{ id: string; name: string; search_language: string } | null> {
    const lang = patch.search_language;
    return this.db
      .transaction(async (tx) => {
        if (lang !== undefined) {
          const known = await rows<{ n: number }>(
            tx,
            sql`select count(*)::int as n from pg_ts_config where cfgname = ${lang}`,
          );
          if (!known[0]?.n) throw invalid(`Unknown search language "${lang}"`, { search_language: lang });
        }
        const [row] = await tx
          .update(schema.apps)
          .set({
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(lang !== undefined ? { searchLanguage: lang } : {}),
          })
          .where(eq(schema.apps.id, appId))
          .returning();
        if (!row) return null;
        if (lang !== undefined)
          await tx.execute(
            sql`update messages set search_tsv = to_tsvector(${lang}::regconfig, parley_search_document(text)) where app_id = ${appId} and deleted_at is null and type = 'regular'`,
          );
        return { id: row.id, name: row.name, search_language: row.searchLanguage };
      })
      .then((r) => {
        // After commit: a node that re-read the app before it would keep the old copy.
        if (r) this.changed(appId);
        return r;
      });
  }

  /**
   * Change an app's permission overrides or automod settings. Every node forgets its cached
   * copy at once (`changed`), and sockets read the app again on their next frame
   * (docs/permissions.md). Null: no such app.
   */
  async setModeration(
    appId: string,
    patch: { permissions?: PermissionOverrides; automod?: AutomodSettings | null },
  ): Promise<{ permissions: PermissionOverrides; automod: AutomodSettings | null } | null> {
    const [row] = await this.db.update(schema.apps).set(patch).where(eq(schema.apps.id, appId)).returning();
    if (!row) return null;
    this.changed(appId);
    return { permissions: row.permissions, automod: row.automod };
  }

  /**
   * Replace an app's upload rules (null: none) in `q` (the caller's transaction, with its audit
   * record); every node forgets its copy once `changed` is called after commit. False: no such app.
   */
  async setUploadRules(q: Queryable, appId: string, rules: UploadRules | null): Promise<boolean> {
    const r = await q
      .update(schema.apps)
      .set({ uploadRules: rules })
      .where(eq(schema.apps.id, appId))
      .returning({ id: schema.apps.id });
    return r.length > 0;
  }

  /** An app's permission overrides and automod settings as stored. */
  async moderationOf(
    appId: string,
  ): Promise<{ permissions: PermissionOverrides; automod: AutomodSettings | null } | null> {
    const [row] = await this.db.select().from(schema.apps).where(eq(schema.apps.id, appId)).limit(1);
    return row ? { permissions: row.permissions, automod: row.automod } : null;
  }

  /** Read back an app's secret (the CLI's `token` command). */
  async secretOf(appId: string): Promise<string | null> {
    const [row] = await this.db.select().from(schema.apps).where(eq(schema.apps.id, appId)).limit(1);
    return row ? this.sealer.open(row.apiSecretSealed) : null;
  }

  async list(): Promise<{ id: string; name: string; api_key: string; created_at: string }[]> {
    const rows = await this.db.select().from(schema.apps).orderBy(schema.apps.createdAt);
    return rows.map((r) => ({ id: r.id, name: r.name, api_key: r.apiKey, created_at: r.createdAt.toISOString() }));
  }
}
