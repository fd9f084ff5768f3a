/**
 * Who is viewing a conversation right now, and on what kind of device. A connection says which
 * channel it shows (`channel.view {cid}`, `{cid: null}` when none is in front of the user) and
 * the channel's members and watchers get `viewers.changed` with everyone viewing it now. Live
 * only: never logged, never replayed; a connection that closes stops viewing.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Cid, Timestamp, UserId } from './ids.js';

/**
 * The kind of device a connection is on. A client declares it at connect, as the `device`
 * query parameter of `/v1/ws` (or `/v1/sse`); without one (or with an unknown one) the server
 * reads the upgrade's User-Agent: Electron → `desktop`, a phone or tablet browser → `mobile`,
 * anything else → `web`.
 */
export const DEVICE_KINDS = ['web', 'desktop', 'mobile'] as const;
export const DeviceKind = Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)));
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** One person viewing a channel, with the kinds of device they view it on (sorted, each once). */
export const Viewer = Type.Object({
  user_id: UserId,
  devices: Type.Array(DeviceKind, { minItems: 1 }),
});
export type Viewer = Static<typeof Viewer>;

/** The fields of `channel.view`: the channel this connection shows now, or null for none. */
export const VIEW_REQUEST_FIELDS = {
  cid: Type.Union([Cid, Type.Null()]),
} as const;

/** `channel.view`: who views that channel now, you included (empty for `{cid: null}`). */
export const ViewersResponse = Type.Object({ viewers: Type.Array(Viewer) });
export type ViewersResponse = Static<typeof ViewersResponse>;

/**
 * To the channel's members and watchers: the people viewing it now (ordered by user id), after
 * someone started or stopped viewing it, or a viewer's connection closed.
 */
export const ViewersChangedEvent = Type.Object({
  type: Type.Literal('viewers.changed'),
  cid: Cid,
  viewers: Type.Array(Viewer),
  created_at: Timestamp,
});
export type ViewersChangedEvent = Static<typeof ViewersChangedEvent>;
