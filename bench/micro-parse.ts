/**
 * Micro benchmark of the SDK's frame parsing: what `parseServerFrame` costs per frame next to
 * a bare `JSON.parse`, for a message.new of about 900 bytes (as in the fan-out scenario) and a
 * typing.start. The envelope check is what the SDK runs on every frame; "full" adds
 * `checkServerFrame`, the whole TypeBox schema.
 *
 *   node --import tsx bench/micro-parse.ts [--n 200000]
 */
import { parseArgs } from 'node:util';
import { checkServerFrame, ProtocolError, parseServerFrame } from '../packages/protocol/src/index.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '200000' } } });
const N = Number(values.n);
const at = new Date().toISOString();
const user = {
  id: 'alice',
  name: 'Alice Liddell',
  username: 'alice',
  image: null,
  role: 'user',
  created_at: at,
  updated_at: at,
};
const message = {
  id: '0193a5c4-7a1e-7c3b-8a2d-1f2e3d4c5b6a',
  cid: 'group:fan',
  seq: 12345,
  user_id: 'alice',
  user,
  type: 'regular',
  text: 'x'.repeat(200),
  parent_id: null,
  show_in_channel: false,
  reply_count: 0,
  last_reply_at: null,
  thread_participants: [],
  quoted_message_id: null,
  reactions: {},
  own_reactions: [],
  latest_reactions: [],
  mentioned_users: [],
  mentioned_here: false,
  mentioned_channel: false,
  pinned: false,
  pinned_at: null,
  pinned_by: null,
  edited_at: null,
  created_at: at,
  updated_at: at,
  deleted_at: null,
};
const frames = {
  'message.new': JSON.stringify({ type: 'message.new', cid: 'group:fan', seq: 12345, created_at: at, message }),
  'typing.start': JSON.stringify({ type: 'typing.start', cid: 'group:fan', parent_id: null, user, created_at: at }),
};

function time(fn: () => unknown): number {
  for (let i = 0; i < 2000; i++) fn(); // warm up
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - t) / N;
}

/** Median of five rounds, the modes alternating (the machine may be shared). */
function median(fn: () => unknown): number {
  const r = [0, 1, 2, 3, 4].map(() => time(fn)).sort((a, b) => a - b);
  return r[2] as number;
}

for (const [name, text] of Object.entries(frames)) {
  const json = median(() => JSON.parse(text));
  const envelope = median(() => parseServerFrame(text));
  const full = median(() => {
    const f = parseServerFrame(text);
    return f instanceof ProtocolError ? f : checkServerFrame(f);
  });
  console.log(
    `${name} (${text.length} B): JSON.parse ${json.toFixed(0)} ns, parseServerFrame ${envelope.toFixed(0)} ns ` +
      `(+${(envelope - json).toFixed(0)} ns), full ${full.toFixed(0)} ns (+${(full - json).toFixed(0)} ns)`,
  );
}
