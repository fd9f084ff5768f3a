import type { SocketHandlers } from '../../realtime/handlers.js';
import { cancelReminder, createReminder, listReminders, scheduleMessage } from './actions.js';

export const reminderSocket: SocketHandlers = {
  'reminder.create': async ({ svc, caller }, { type: _t, req_id: _r, ...body }) => ({
    reminder: await createReminder(svc, caller, body),
  }),
  'reminder.list': async ({ svc, caller }) => ({ reminders: await listReminders(svc, caller) }),
  'reminder.cancel': async ({ svc, caller }, f) => ({ reminder: await cancelReminder(svc, caller, f.id) }),
  'message.schedule': async ({ svc, caller }, { type: _t, req_id: _r, ...body }) => ({
    scheduled_message: await scheduleMessage(svc, caller, body),
  }),
};
