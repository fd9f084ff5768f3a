/**
 * The master key's check value. App secrets are sealed with the master key, which never
 * enters the database; nodes sharing one database with different keys would each seal and
 * fail to open the others' secrets, and every token would fail later with nothing pointing
 * at the cause. So the database keeps an HMAC of a fixed label under the key (which reveals
 * nothing about the key), and a start with another key refuses with a message naming
 * PARLEY_MASTER_KEY.
 */
import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { type Db, schema } from './db/index.js';
import { createSealer } from './secrets.js';

const LABEL = 'parley master key check v1';

/** The master key does not match the database's check value. */
export class MasterKeyMismatchError extends Error {
  constructor() {
    super(
      'the master key does not match this database: its app secrets were sealed with another key. ' +
        'Every process sharing a database needs the same PARLEY_MASTER_KEY (or the same <data>/master.key)',
    );
    this.name = 'MasterKeyMismatchError';
  }
}

export function masterKeyCheckValue(key: Buffer): string {
  return createHmac('sha256', key).update(LABEL).digest('base64url');
}

/**
 * Compare the key with the database's check value, writing it when there is none yet. A
 * database from before the check existed, which already holds apps, is checked by opening
 * one app's secret first. Throws `MasterKeyMismatchError`.
 */
export async function checkMasterKey(db: Db, key: Buffer): Promise<void> {
  const value = masterKeyCheckValue(key);
  const t = schema.masterKeyCheck;
  const [row] = await db.select().from(t).where(eq(t.id, 1)).limit(1);
  if (row) {
    if (row.checkValue !== value) throw new MasterKeyMismatchError();
    return;
  }
  const [app] = await db.select({ sealed: schema.apps.apiSecretSealed }).from(schema.apps).limit(1);
  if (app) {
    try {
      createSealer(key).open(app.sealed);
    } catch {
      throw new MasterKeyMismatchError();
    }
  }
  await db.insert(t).values({ id: 1, checkValue: value }).onConflictDoNothing();
  // Two first starts with different keys race for the row: the loser must see the winner's.
  const [now] = await db.select().from(t).where(eq(t.id, 1)).limit(1);
  if (now?.checkValue !== value) throw new MasterKeyMismatchError();
}
