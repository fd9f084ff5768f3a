/**
 * Sidebar sections and saved items over the socket: the same actions as the REST routes
 * (routes.ts), answered with the same bodies. The SDK calls REST for these, as it does for the
 * inbox and notes; an app that keeps everything on one socket can use these instead.
 */
import type { SocketHandlers } from '../../realtime/handlers.js';
import {
  createSection,
  deleteSection,
  getSidebar,
  placeChannel,
  reorderSections,
  starChannel,
  unstarChannel,
  updateSection,
} from './actions.js';
import { listSaved, removeSaved, saveMessage, updateSaved } from './saved.js';

export const sidebarSocket: SocketHandlers = {
  'sidebar.get': async ({ svc, caller }) => ({ sidebar: await getSidebar(svc, caller) }),
  'sidebar.section.create': async ({ svc, caller }, { type: _t, req_id: _r, ...body }) => ({
    sidebar: await createSection(svc, caller, body),
  }),
  'sidebar.section.update': async ({ svc, caller }, { type: _t, req_id: _r, id, ...body }) => ({
    sidebar: await updateSection(svc, caller, id, body),
  }),
  'sidebar.section.delete': async ({ svc, caller }, f) => ({ sidebar: await deleteSection(svc, caller, f.id) }),
  'sidebar.reorder': async ({ svc, caller }, f) => ({
    sidebar: await reorderSections(svc, caller, { section_ids: f.section_ids }),
  }),
  'sidebar.place': async ({ svc, caller }, f) => ({
    sidebar: await placeChannel(
      svc,
      caller,
      f.cid,
      f.position === undefined ? { section_id: f.section_id } : { section_id: f.section_id, position: f.position },
    ),
  }),
  'sidebar.star': async ({ svc, caller }, f) => ({
    sidebar: await (f.starred === false ? unstarChannel : starChannel)(svc, caller, f.cid),
  }),
  'saved.create': async ({ svc, caller }, { type: _t, req_id: _r, ...body }) => ({
    saved_item: await saveMessage(svc, caller, body),
  }),
  'saved.list': async ({ svc, caller }, f) =>
    listSaved(svc, caller, {
      ...(f.status !== undefined ? { status: f.status } : {}),
      ...(f.limit !== undefined ? { limit: f.limit } : {}),
      ...(f.cursor !== undefined ? { cursor: f.cursor } : {}),
    }),
  'saved.update': async ({ svc, caller }, { type: _t, req_id: _r, id, ...body }) => ({
    saved_item: await updateSaved(svc, caller, id, body),
  }),
  'saved.remove': async ({ svc, caller }, f) => ({ saved_item: await removeSaved(svc, caller, f.id) }),
};
