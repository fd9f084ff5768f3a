/** The webhooks feature's kinds of job, by name (their handlers are in deliver.ts). */
import { jobRef } from '../../platform/jobs/queue.js';
import type { LaneRef } from './pump.js';

/**
 * A lane to send. Deliveries go out through each node's pump (pump.ts), woken in memory after
 * the commit that wrote them; this kind is kept so that jobs a node of an earlier version
 * queued still wake their lanes after an upgrade.
 */
export const DELIVER = jobRef<LaneRef>('webhooks.deliver');
