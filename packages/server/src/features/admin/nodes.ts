/**
 * GET /v1/admin/nodes: the server nodes on this database with the version each runs (the node
 * registry, platform/nodes.ts), and the schema the database is at — what an operator checks
 * during and after an upgrade (docs/upgrading.md).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorBody } from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { databaseSchema, listNodes, type NodeRow } from '../../platform/nodes.js';
import type { Services } from '../../services.js';

const NodeBody = Type.Object({
  id: Type.String({ description: 'PARLEY_NODE_ID, or node-<pid>' }),
  version: Type.String({ description: 'the Parley version it runs' }),
  schema: Type.String({ description: 'the last migration its code knows' }),
  started_at: Type.String(),
  seen_at: Type.String({ description: 'moved every 30 s while it runs' }),
  live: Type.Boolean({ description: 'seen within the last minute' }),
});

/** A node registry row as the admin routes answer it (GET /v1/admin/nodes and /v1/admin/system). */
export function presentNode(n: NodeRow) {
  return {
    id: n.id,
    version: n.version,
    schema: n.schema,
    started_at: n.startedAt.toISOString(),
    seen_at: n.seenAt.toISOString(),
    live: n.live,
  };
}

export function nodeRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/v1/admin/nodes',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'The server nodes and their versions, and the database schema',
          description:
            'Every node that started on this database in the last day, most recently seen first; a node that ' +
            'stopped or died stays listed, not `live`. `database.migration` is the newest migration applied, and ' +
            '`database.version` the Parley version that applied it.',
          response: {
            200: Type.Object({
              nodes: Type.Array(NodeBody),
              database: Type.Object({
                migration: Type.Union([Type.String(), Type.Null()]),
                version: Type.Union([Type.String(), Type.Null()]),
              }),
            }),
            401: ErrorBody,
          },
        },
      },
      async () => {
        const [nodes, db] = await Promise.all([listNodes(svc.db), databaseSchema(svc.db)]);
        return {
          nodes: nodes.map(presentNode),
          database: { migration: db?.migration ?? null, version: db?.version ?? null },
        };
      },
    );
  };
}
