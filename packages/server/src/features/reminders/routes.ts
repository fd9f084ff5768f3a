/** Reminders and scheduled messages over REST (the same actions as the socket requests). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  Cid,
  CreateReminderBody,
  ErrorBody,
  IdParams,
  ReminderResponse,
  RemindersResponse,
  ScheduledListResponse,
  ScheduledResponse,
  ScheduleMessageBody,
  SnoozeReminderBody,
  UpdateScheduledBody,
} from '@parley/protocol';
import { Type } from '@sinclair/typebox';
import { userOf } from '../../platform/http.js';
import type { Services } from '../../services.js';
import {
  cancelReminder,
  cancelScheduled,
  createReminder,
  editScheduled,
  listReminders,
  listScheduled,
  scheduleMessage,
  snoozeReminder,
} from './actions.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export function reminderRoutes(svc: Services): FastifyPluginAsyncTypebox {
  return async (app) => {
    const config = { auth: 'user' as const };
    app.post(
      '/v1/reminders',
      {
        config,
        schema: {
          tags: ['reminders'],
          summary: 'Remind me about a message (or a note): at `remind_at`, or `in` 20m, 1h, tomorrow, N[mhd]',
          description: 'When due, the app bot (`parley-bot`) sends the reminder as a DM.',
          body: CreateReminderBody,
          response: { 201: ReminderResponse, ...errors },
        },
      },
      async (req, reply) => reply.status(201).send({ reminder: await createReminder(svc, userOf(req), req.body) }),
    );
    app.get(
      '/v1/reminders',
      {
        config,
        schema: {
          tags: ['reminders'],
          summary: 'My reminders, soonest first (pending unless `status` says otherwise)',
          querystring: Type.Object(
            {
              status: Type.Optional(
                Type.Union([Type.Literal('pending'), Type.Literal('sent'), Type.Literal('cancelled')]),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: RemindersResponse, ...errors },
        },
      },
      async (req) => ({ reminders: await listReminders(svc, userOf(req), req.query.status) }),
    );
    app.delete(
      '/v1/reminders/:id',
      {
        config,
        schema: {
          tags: ['reminders'],
          summary: 'Cancel a pending reminder',
          params: IdParams,
          response: { 200: ReminderResponse, ...errors },
        },
      },
      async (req) => ({ reminder: await cancelReminder(svc, userOf(req), req.params.id) }),
    );
    app.post(
      '/v1/reminders/:id/snooze',
      {
        config,
        schema: {
          tags: ['reminders'],
          summary: 'Snooze a reminder that has fired: `in` 20m, 1h, tomorrow, N[mhd], or at `remind_at`',
          description:
            'A one-off reminder is armed again (CONFLICT if it has not fired yet or is cancelled); for a recurring one the snooze is a new one-off reminder about the same thing, and the recurring one keeps its rhythm.',
          params: IdParams,
          body: SnoozeReminderBody,
          response: { 200: ReminderResponse, ...errors },
        },
      },
      async (req) => ({ reminder: await snoozeReminder(svc, userOf(req), req.params.id, req.body) }),
    );

    app.post(
      '/v1/scheduled-messages',
      {
        config,
        schema: {
          tags: ['messages'],
          summary: 'Send a message later (by the job queue, exactly once)',
          body: ScheduleMessageBody,
          response: { 201: ScheduledResponse, ...errors },
        },
      },
      async (req, reply) =>
        reply.status(201).send({ scheduled_message: await scheduleMessage(svc, userOf(req), req.body) }),
    );
    app.get(
      '/v1/scheduled-messages',
      {
        config,
        schema: {
          tags: ['messages'],
          summary: 'My scheduled messages not sent yet (pending or failed), soonest first',
          querystring: Type.Object({ cid: Type.Optional(Cid) }, { additionalProperties: false }),
          response: { 200: ScheduledListResponse, ...errors },
        },
      },
      async (req) => ({ scheduled_messages: await listScheduled(svc, userOf(req), req.query.cid) }),
    );
    app.patch(
      '/v1/scheduled-messages/:id',
      {
        config,
        schema: {
          tags: ['messages'],
          summary: 'Change the text or time of a scheduled message that has not gone yet',
          params: IdParams,
          body: UpdateScheduledBody,
          response: { 200: ScheduledResponse, ...errors },
        },
      },
      async (req) => ({ scheduled_message: await editScheduled(svc, userOf(req), req.params.id, req.body) }),
    );
    app.delete(
      '/v1/scheduled-messages/:id',
      {
        config,
        schema: {
          tags: ['messages'],
          summary: 'Cancel a scheduled message',
          params: IdParams,
          response: { 200: ScheduledResponse, ...errors },
        },
      },
      async (req) => ({ scheduled_message: await cancelScheduled(svc, userOf(req), req.params.id) }),
    );
  };
}
