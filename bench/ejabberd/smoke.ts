/**
 * A quick check that ejabberd works for the bench (bench/ejabberd/setup.sh first):
 * `node --import tsx bench/ejabberd/smoke.ts` starts one, makes 20 users and 2 rooms, connects
 * them over XMPP-over-WebSocket through the load generator, sends 50 groupchat messages, and
 * checks every occupant got each one and the archive (MAM, PostgreSQL) holds them all.
 */
import { Generators } from '../lib/generators.js';
import { hookExit, killAll } from '../lib/proc.js';
import { sleep } from '../lib/report.js';
import { EJABBERD_TEMPLATE, EjabberdSetup, runCleanups, scratchDatabase, startServer, targetOf } from '../lib/setup.js';

hookExit();
const users = Array.from({ length: 20 }, (_, i) => `smoke${i}`);
let code = 1;
try {
  const db = await scratchDatabase('ejabberd_smoke', EJABBERD_TEMPLATE);
  const server = await startServer('ejabberd', { databaseUrl: db.url });
  const setup = new EjabberdSetup(server, db.url);
  await setup.createUsers(users);
  await setup.createRooms(['group_smoke-a', 'group_smoke-b']);
  const gens = await Generators.start('gen-smoke', 1);
  await gens.init(targetOf(server));
  const c = await gens.connect(
    users.map((user, i) => ({ user, rooms: i % 2 ? ['group:smoke-a', 'group:smoke-b'] : ['group:smoke-a'], node: 0 })),
  );
  console.log('connected', c, 'server says', await server.nodes[0]?.call('sockets'));
  await gens.measure(7);
  const s = await gens.send({ step: 7, rate: 50, durationMs: 1000, textBytes: 200, from: 'all' });
  await sleep(1500);
  const r = await gens.report();
  console.log('sent', s, 'deliveries', r.deliveries, 'frames', r.frames, 'archived', await setup.archived());
  code = c.ok === users.length && r.deliveries > 0 ? 0 : 1;
  await gens.stop();
  await server.stop();
} finally {
  killAll();
  await runCleanups();
}
process.exit(code);
