/** Tasks from messages over REST (actions.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  CidParams,
  CreateTaskBody,
  ErrorBody,
  IdParams,
  TaskResponse,
  TasksQuery,
  TasksResponse,
  UpdateTaskBody,
} from '@parley/protocol';
import { userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import { createTask, deleteTask, getTask, listChannelTasks, listMyTasks, updateTask } from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const live = 'The channel hears `task.created`, `task.updated` or `task.deleted` (webhooks too).';

export function taskRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const config = { auth: 'user' as const };
    const tags = ['tasks'];
    app.post(
      '/v1/tasks',
      {
        config,
        schema: {
          tags,
          summary: 'Turn a message into a task, with an assignee (a member of its channel) and an optional due time',
          description: `One task per message (CONFLICT when it has one). A due time is a reminder for the assignee; an assignee other than you gets an inbox item (\`task\`). ${live}`,
          body: CreateTaskBody,
          response: { 201: TaskResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send({ task: await createTask(svc, userOf(req), req.body) }),
    );
    app.get(
      '/v1/tasks/:id',
      {
        config,
        schema: {
          tags,
          summary: 'One task (whoever may read its message)',
          params: IdParams,
          response: { 200: TaskResponse, ...errors },
        },
      },
      async (req) => ({ task: await getTask(svc, userOf(req), req.params.id) }),
    );
    app.patch(
      '/v1/tasks/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Reassign a task, move or clear (`null`) its due time, complete (`done`) or reopen (`open`) it',
          description: `Members of the channel. ${live}`,
          params: IdParams,
          body: UpdateTaskBody,
          response: { 200: TaskResponse, ...errors },
        },
      },
      async (req) => ({ task: await updateTask(svc, userOf(req), req.params.id, req.body) }),
    );
    app.delete(
      '/v1/tasks/:id',
      {
        config,
        schema: {
          tags,
          summary: 'Delete a task (the message stays; a pending reminder is cancelled)',
          description: `Members of the channel. ${live}`,
          params: IdParams,
          response: { 200: TaskResponse, ...errors },
        },
      },
      async (req) => ({ task: await deleteTask(svc, userOf(req), req.params.id) }),
    );
    app.get(
      '/v1/me/tasks',
      {
        config,
        schema: {
          tags,
          summary: 'The tasks assigned to me, newest first, by `status` (default `open`), in pages',
          querystring: TasksQuery,
          response: { 200: TasksResponse, ...errors },
        },
      },
      async (req) => listMyTasks(svc, userOf(req), req.query),
    );
    app.get(
      '/v1/channels/:cid/tasks',
      {
        config,
        schema: {
          tags,
          summary: "A channel's tasks (its messages' task badges), newest first, by `status`, in pages",
          params: CidParams,
          querystring: TasksQuery,
          response: { 200: TasksResponse, ...errors },
        },
      },
      async (req) => listChannelTasks(svc, userOf(req), req.params.cid, req.query),
    );
  };
}
