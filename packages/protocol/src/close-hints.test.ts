import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, drainReason, reconnectWithinMs, retryAfterMs, shouldReconnect } from './errors.js';

describe('close reasons with hints', () => {
  it('round-trips the drain hint, and reads none where there is none', () => {
    expect(reconnectWithinMs(drainReason(2_500))).toBe(2_500);
    expect(reconnectWithinMs(drainReason(-3))).toBe(0);
    expect(reconnectWithinMs('server shutting down')).toBeNull();
    expect(reconnectWithinMs('reconnect_within_ms=12x')).toBeNull();
    expect(reconnectWithinMs('xreconnect_within_ms=12')).toBeNull();
    // The two hints are told apart.
    expect(retryAfterMs(drainReason(100))).toBeNull();
    expect(reconnectWithinMs('retry_after_ms=100')).toBeNull();
    expect(drainReason(10_000).length).toBeLessThanOrEqual(123); // a WebSocket close reason's limit
  });

  it('says the drain code means reconnect', () => {
    expect(shouldReconnect(CLOSE_CODES.SHUTTING_DOWN)).toBe(true);
  });
});
