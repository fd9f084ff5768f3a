/**
 * `parley import slack` on a large synthetic export (docs/benchmarks.md, "Slack import"): makes a
 * workspace through a `parley start` on a fresh data folder, stops it, writes an export of
 * `--messages` messages over `--channels` channels (20 a day a channel, 50 people, a mention in
 * each), then runs the real CLI twice — `--dry-run` (read and check everything) and the import —
 * and reports wall time, messages/s and the CLI process's peak RSS (read at its exit through a
 * preloaded hook: `process.resourceUsage().maxRSS`).
 *
 *   node --conditions=@parley/source --import tsx bench/slack-import.ts [--messages 100000] [--channels 20]
 *
 * With DATABASE_URL set, the import goes to that PostgreSQL database (use a scratch one).
 * Run `npm run build` first to measure the built CLI (else it runs its sources through tsx).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { strToU8, zipSync } from 'fflate';
import { timeImports, workspaceToImportInto } from './lib/import-cli.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '100000' }, channels: { type: 'string', default: '20' } },
});
const MESSAGES = Number(values.messages);
const CHANNELS = Number(values.channels);
const target = await workspaceToImportInto('parley-bench-import-');
const { dir } = target;

const users = Array.from({ length: 50 }, (_, i) => ({ id: `U${i}`, name: `user${i}`, real_name: `User ${i}` }));
const entries: Record<string, Uint8Array> = { 'users.json': strToU8(JSON.stringify(users)) };
const T0 = 1_600_000_000;
const perChannel = Math.ceil(MESSAGES / CHANNELS);
let n = 0;
for (let c = 0; c < CHANNELS; c++) {
  for (let d = 0; d * 20 < perChannel; d++) {
    const day = [];
    for (let k = 0; k < 20 && d * 20 + k < perChannel; k++) {
      n++;
      day.push({
        type: 'message',
        user: `U${(k * 7 + d) % 50}`,
        text: `message ${n} for <@U${k}>, with *some* words`,
        ts: `${T0 + d * 86_400 + k * 60}.000100`,
      });
    }
    entries[`chan${c}/${new Date((T0 + d * 86_400) * 1000).toISOString().slice(0, 10)}.json`] = strToU8(
      JSON.stringify(day),
    );
  }
}
entries['channels.json'] = strToU8(
  JSON.stringify(
    Array.from({ length: CHANNELS }, (_, c) => ({
      id: `C${c}`,
      name: `chan${c}`,
      created: T0,
      members: users.map((u) => u.id),
    })),
  ),
);
const zip = path.join(dir, 'export.zip');
writeFileSync(zip, zipSync(entries));
console.log(
  `export: ${n} messages, ${CHANNELS} channels, ${Object.keys(entries).length} entries, zip ${(readFileSync(zip).length / 1048576).toFixed(1)} MiB`,
);
await timeImports('slack', zip, target);
