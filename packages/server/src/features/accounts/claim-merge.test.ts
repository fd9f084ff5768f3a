import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { schema } from '../../platform/db/index.js';
import { OTHER_USER_COLUMNS, USER_COLUMNS } from './claim-merge.js';

/** A column whose name says it holds a user of the app (text: accounts' columns are uuids). */
const NAMES_A_USER = /(^|_)user_ids?$|_by$|^(owner|assignee|actor|target)_id$/;

describe('the merge of a late claim', () => {
  it('moves every column of the schema that names a user, or says why not', () => {
    const listed = new Set([...USER_COLUMNS.map((c) => `${c.table}.${c.column}`), ...OTHER_USER_COLUMNS]);
    const missing: string[] = [];
    for (const value of Object.values(schema)) {
      if (typeof value !== 'object' || value === null || !('getSQL' in value)) continue;
      let config: ReturnType<typeof getTableConfig>;
      try {
        config = getTableConfig(value as PgTable);
      } catch {
        continue;
      }
      for (const col of config.columns)
        if (
          NAMES_A_USER.test(col.name) &&
          col.getSQLType().startsWith('text') &&
          !listed.has(`${config.name}.${col.name}`)
        )
          missing.push(`${config.name}.${col.name}`);
    }
    expect(missing).toEqual([]);
  });

  it('names only columns that exist', () => {
    const tables = new Map<string, Set<string>>();
    for (const value of Object.values(schema)) {
      if (typeof value !== 'object' || value === null || !('getSQL' in value)) continue;
      try {
        const c = getTableConfig(value as PgTable);
        tables.set(c.name, new Set(c.columns.map((x) => x.name)));
      } catch {}
    }
    for (const c of USER_COLUMNS) {
      const cols = tables.get(c.table);
      expect(cols, c.table).toBeDefined();
      for (const name of [c.column, ...(c.key ?? []), ...(c.only ? [c.only.column] : [])])
        expect(cols?.has(name), `${c.table}.${name}`).toBe(true);
    }
  });
});
