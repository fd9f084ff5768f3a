/**
 * The reminders feature's entry point: what other features and the server's wiring (app.ts,
 * services.ts, index.ts) may use. Everything else in this folder is private to it; the order
 * features may import each other in is in docs/architecture.md (scripts/check-imports.mjs).
 */
export { checkReminderRoom, createReminder, insertReminder, scheduleMessage } from './actions.js';
export { REMIND } from './job-names.js';
export { defineReminderJobs } from './jobs.js';
export { reminderRoutes } from './routes.js';
export { reminderSocket } from './socket.js';
export { dueTime } from './when.js';
