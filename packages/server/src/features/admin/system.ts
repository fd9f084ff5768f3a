/**
 * GET /v1/admin/system: the deployment at a glance, for the operator (admin token) — its nodes
 * with their versions and connections, the job queues' depths, each webhook endpoint's backlog,
 * the database's pools and the last backup. Every figure is read when asked; nothing is cached.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody, SystemReport } from '@parley/protocol';
import { sql } from 'drizzle-orm';
import { recentRuns } from '../../platform/backup/runs.js';
import { rows } from '../../platform/db/index.js';
import { databaseSchema, listNodes } from '../../platform/nodes.js';
import { PARLEY_VERSION } from '../../platform/package-version.js';
import type { Services } from '../../services.js';
import { presentNode } from './nodes.js';

/** Connections per node at its latest usage sample of the last hour (features/analytics). */
async function sampledConnections(svc: Services): Promise<Map<string, number>> {
  const found = await rows<{ node_id: string; n: number }>(
    svc.db,
    sql`select s.node_id, sum(s.connections)::int as n from usage_samples s
        join (select node_id, max(at) as at from usage_samples where at > now() - interval '1 hour' group by node_id) l
          on l.node_id = s.node_id and l.at = s.at
        group by s.node_id`,
  );
  return new Map(found.map((r) => [r.node_id, Number(r.n)]));
}

interface BacklogRow {
  app_id: string;
  app_name: string;
  endpoint_id: string;
  url: string;
  active: boolean;
  pending: number;
  oldest: Date | string | null;
}

async function webhookBacklog(svc: Services): Promise<BacklogRow[]> {
  return rows<BacklogRow>(
    svc.db,
    sql`select e.app_id, a.name as app_name, e.id as endpoint_id, e.url, e.disabled_at is null as active,
          coalesce(d.pending, 0)::int as pending, d.oldest
        from webhook_endpoints e
        join apps a on a.id = e.app_id
        left join lateral (
          select count(*) as pending, min(created_at) as oldest from webhook_deliveries
          where app_id = e.app_id and endpoint_id = e.id and status = 'pending'
        ) d on true
        order by pending desc, a.name, e.url
        limit 500`,
  );
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export function systemRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/admin/system',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'The deployment at a glance: nodes, connections, job queues, webhook backlogs, database, backup',
          description:
            'For the admin console’s System page. `nodes` as GET /v1/admin/nodes, each with its open sockets ' +
            '(the answering node’s now, the others’ at their last usage sample); `jobs`: each queue’s jobs by state; ' +
            '`webhooks`: every endpoint of every app with the deliveries waiting; `database.pools`: the answering ' +
            'node’s PostgreSQL pools (empty on PGlite); `last_backup`: the newest backup run, or null.',
          response: { 200: SystemReport, 401: ErrorBody },
        },
      },
      async () => {
        const [nodes, schema, sampled, counts, backlog, backups] = await Promise.all([
          listNodes(svc.db),
          databaseSchema(svc.db),
          sampledConnections(svc),
          svc.jobs.counts(),
          webhookBacklog(svc),
          recentRuns(svc.db, 1),
        ]);
        let here = 0;
        for (const n of svc.hub.connectionCounts().values()) here += n;
        const queues = new Map<
          string,
          { queue: string; created: number; retry: number; active: number; failed: number }
        >();
        for (const c of counts) {
          const q = queues.get(c.name) ?? { queue: c.name, created: 0, retry: 0, active: 0, failed: 0 };
          if (c.state === 'created' || c.state === 'retry' || c.state === 'active' || c.state === 'failed')
            q[c.state] += Number(c.n);
          queues.set(c.name, q);
        }
        const depth = (q: { created: number; retry: number; active: number; failed: number }) =>
          q.created + q.retry + q.active + q.failed;
        const pools: Record<string, { total: number; idle: number; waiting: number }> = {};
        for (const [name, st] of Object.entries(svc.database.poolState())) if (st) pools[name] = st;
        const last = backups[0];
        return {
          node: { id: svc.config.nodeId, version: PARLEY_VERSION, connections: here },
          nodes: nodes.map((n) => ({
            ...presentNode(n),
            connections: n.id === svc.config.nodeId ? here : (sampled.get(n.id) ?? null),
          })),
          database: { kind: svc.database.kind, migration: schema?.migration ?? null, pools },
          jobs: [...queues.values()].sort((a, b) => depth(b) - depth(a) || a.queue.localeCompare(b.queue)),
          webhooks: backlog.map((b) => ({
            app_id: b.app_id,
            app_name: b.app_name,
            endpoint_id: b.endpoint_id,
            url: b.url,
            active: b.active,
            pending: Number(b.pending),
            oldest_pending_at: iso(b.oldest),
          })),
          last_backup: last
            ? {
                id: last.id,
                status: last.status,
                started_at: last.started_at,
                finished_at: last.finished_at,
                bytes: last.bytes,
                error: last.error,
              }
            : null,
        };
      },
    );
  };
}
