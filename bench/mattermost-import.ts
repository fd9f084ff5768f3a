/**
 * `parley import mattermost` on a large synthetic bulk export (docs/benchmarks.md, "Mattermost
 * import"): makes a workspace through a `parley start` on a fresh data folder, stops it, writes an
 * export of `--messages` posts and replies over `--channels` channels (50 people, a mention in
 * each post, a thread of four replies on every fifth, a reaction on every third), zipped as
 * `mmctl export create` zips it, then runs the real CLI twice — `--dry-run` (read and check every
 * line) and the import — and reports wall time, messages/s and the CLI process's peak RSS.
 *
 *   node --conditions=@parley/source --import tsx bench/mattermost-import.ts [--messages 100000] [--channels 20]
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
const target = await workspaceToImportInto('parley-bench-mm-');
const { dir } = target;

const T0 = Date.UTC(2024, 0, 1);
const lines: unknown[] = [
  { type: 'version', version: 1 },
  { type: 'team', team: { name: 'acme', display_name: 'Acme', type: 'O' } },
];
for (let c = 0; c < CHANNELS; c++)
  lines.push({ type: 'channel', channel: { team: 'acme', name: `chan${c}`, type: 'O' } });
const channels = Array.from({ length: CHANNELS }, (_, c) => ({ name: `chan${c}` }));
for (let u = 0; u < 50; u++)
  lines.push({
    type: 'user',
    user: {
      username: `user${u}`,
      email: `user${u}@example.com`,
      first_name: `User ${u}`,
      teams: [{ name: 'acme', channels }],
    },
  });
let n = 0;
for (let i = 0; n < MESSAGES; i++) {
  const at = T0 + i * 60_000;
  const replies =
    i % 5 === 0
      ? Array.from({ length: 4 }, (_, r) => ({
          user: `user${(i + r + 1) % 50}`,
          message: `reply ${r}`,
          create_at: at + r + 1,
        }))
      : [];
  n += 1 + replies.length;
  lines.push({
    type: 'post',
    post: {
      team: 'acme',
      channel: `chan${i % CHANNELS}`,
      user: `user${i % 50}`,
      message: `message ${i} for @user${(i + 7) % 50}, with **some** words`,
      create_at: at,
      reactions: i % 3 === 0 ? [{ user: `user${(i + 1) % 50}`, emoji_name: '+1', create_at: at + 500 }] : [],
      replies,
    },
  });
}
const entries: Record<string, Uint8Array> = { 'import.jsonl': strToU8(lines.map((l) => JSON.stringify(l)).join('\n')) };
const zip = path.join(dir, 'export.zip');
writeFileSync(zip, zipSync(entries));
console.log(
  `export: ${n} messages, ${CHANNELS} channels, ${lines.length} lines, zip ${(readFileSync(zip).length / 1048576).toFixed(1)} MiB`,
);
await timeImports('mattermost', zip, target);
