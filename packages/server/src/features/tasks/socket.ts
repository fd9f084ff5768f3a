/** Tasks over the socket: the same actions as the REST routes (routes.ts), answered with the same bodies. */
import type { SocketHandlers } from '../../realtime/handlers.js';
import { createTask, deleteTask, listMyTasks, updateTask } from './actions.js';

export const taskSocket: SocketHandlers = {
  'task.create': async ({ svc, caller }, { type: _t, req_id: _r, ...body }) => ({
    task: await createTask(svc, caller, body),
  }),
  'task.update': async ({ svc, caller }, { type: _t, req_id: _r, id, ...body }) => ({
    task: await updateTask(svc, caller, id, body),
  }),
  'task.delete': async ({ svc, caller }, f) => ({ task: await deleteTask(svc, caller, f.id) }),
  'task.list': async ({ svc, caller }, { type: _t, req_id: _r, ...q }) => listMyTasks(svc, caller, q),
};
