import { CAPABILITIES, CHANNEL_TYPES } from '@parley/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../platform/auth.js';
import type { UserRow } from '../users/index.js';
import { can, ownCapabilities, type PermissionSubject } from './policy.js';

const NOW = Date.parse('2026-11-28T00:00:00Z');
const LEVELS = ['anyone', 'member', 'moderator', 'admin', 'owner', 'nobody'] as const;

/** Any caller in any channel: type, state, membership, rank, app role, ban, guest expiry, overrides. */
const subject = fc
  .record({
    type: fc.constantFrom(...CHANNEL_TYPES),
    archived: fc.boolean(),
    frozen: fc.boolean(),
    reactions: fc.constantFrom('members', 'open'),
    member: fc.option(fc.constantFrom('member', 'moderator', 'admin', 'owner'), { nil: null }),
    rank: fc.integer({ min: -1, max: 3 }),
    server: fc.boolean(),
    role: fc.constantFrom('user', 'guest', 'moderator', 'admin'),
    banned: fc.constantFrom('no', 'yes', 'expired'),
    guestExpired: fc.boolean(),
    override: fc.option(
      fc.record({
        type: fc.constantFrom(...CHANNEL_TYPES),
        cap: fc.constantFrom(...CAPABILITIES),
        level: fc.constantFrom(...LEVELS),
      }),
      { nil: null },
    ),
  })
  .map((x): PermissionSubject => {
    const app = {
      permissions: x.override ? { [x.override.type]: { [x.override.cap]: x.override.level } } : {},
    } as unknown as Caller['app'];
    const user = {
      role: x.role,
      bannedAt: x.banned === 'no' ? null : new Date(NOW - 60_000),
      banExpiresAt: x.banned === 'expired' ? new Date(NOW - 1_000) : null,
      guestUntil: x.role === 'guest' ? new Date(x.guestExpired ? NOW - 1_000 : NOW + 60_000) : null,
    } as unknown as UserRow;
    return {
      channel: {
        type: x.type,
        archivedAt: x.archived ? new Date(NOW) : null,
        frozen: x.frozen,
        reactions: x.reactions,
      },
      member: x.member ? { role: x.member } : null,
      user: x.server ? null : user,
      rank: x.rank,
      caller: x.server ? { kind: 'server', app, userId: null } : { kind: 'user', app, userId: 'u1' },
    };
  });

describe('ownCapabilities', () => {
  it('lists exactly the capabilities `can` grants, one by one', () => {
    fc.assert(
      fc.property(subject, (s) => {
        expect(ownCapabilities(s, NOW)).toEqual(CAPABILITIES.filter((c) => can(s, c, NOW)));
      }),
      { numRuns: 3000 },
    );
  });
});
