/**
 * Apps (tenants): looked up by API key on every request, so they are cached in memory for a
 * short while. Secrets are unsealed once per cache fill, never logged, never sent again.
 */
import { randomUUID } from 'node:crypto';
import type { AutomodSettings, PermissionOverrides } from '@parley/protocol';
import { isSafeText } from '@parley/protocol';
import { eq, sql } from 'drizzle-orm';
import type { AppContext } from './auth.js';
import { type Db, rows, schema } from './db/index.js';
import { invalid } from './errors.js';
import { newCredential, type Sealer } from './secrets.js';

const TTL_MS = 30_000;
/** Far longer than any key this server makes (`pk_` and 16 characters). */
const MAX_KEY_LENGTH = 200;

export class AppRegistry {
  private readonly cache = new Map<string, { app: AppContext | null; at: number }>();
  constructor(
    private readonly db: Db,
    private readonly sealer: Sealer,
  ) {}

  /** The app with this API key, or null. */
  async byKey(apiKey: string): Promise<AppContext | null> {
    // A key no app can have is unknown without asking: NUL in a query (`?api_key=%00`) made the
    // lookup itself fail (500, and 1013 "database unavailable" on the socket).
    if (apiKey.length > MAX_KEY_LENGTH || !isSafeText(apiKey)) return null;
    const hit = this.cache.get(apiKey);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.app;
    const [row] = await this.db.select().from(schema.apps).where(eq(schema.apps.apiKey, apiKey)).limit(1);
    const app =
      row && !row.disabledAt
        ? {
            id: row.id,
            name: row.name,
            apiKey: row.apiKey,
            secretKey: new TextEncoder().encode(this.sealer.open(row.apiSecretSealed)),
            permissions: row.permissions,
            automod: row.automod,
          }
        : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(apiKey, { app, at: Date.now() });
    return app;
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
    return this.db.transaction(async (tx) => {
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
          sql`update messages set search_tsv = to_tsvector(${lang}::regconfig, text) where app_id = ${appId} and deleted_at is null and type = 'regular'`,
        );
      for (const [key, hit] of this.cache) if (hit.app?.id === appId) this.cache.delete(key);
      return { id: row.id, name: row.name, search_language: row.searchLanguage };
    });
  }

  /**
   * Change an app's permission overrides or automod settings. This node forgets its cached
   * copy at once; other nodes within the cache's 30 s (docs/permissions.md). Null: no such app.
   */
  async setModeration(
    appId: string,
    patch: { permissions?: PermissionOverrides; automod?: AutomodSettings | null },
  ): Promise<{ permissions: PermissionOverrides; automod: AutomodSettings | null } | null> {
    const [row] = await this.db.update(schema.apps).set(patch).where(eq(schema.apps.id, appId)).returning();
    if (!row) return null;
    for (const [key, hit] of this.cache) if (hit.app?.id === appId) this.cache.delete(key);
    return { permissions: row.permissions, automod: row.automod };
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
