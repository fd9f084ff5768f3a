import { describe, expect, it } from 'vitest';
import { FORMAT_CHECKS } from './formats.js';
import * as protocol from './index.js';

/** Every `format` named anywhere in the protocol's exported schemas. */
function formatsUsed(): Set<string> {
  const found = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    const format = (v as { format?: unknown }).format;
    if (typeof format === 'string') found.add(format);
    for (const child of Object.values(v)) walk(child);
  };
  for (const value of Object.values(protocol)) walk(value);
  return found;
}

describe('protocol formats', () => {
  it('knows every format the schemas use (a missing one makes TypeBox refuse every value)', () => {
    const used = [...formatsUsed()].sort();
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((f) => !(f in FORMAT_CHECKS))).toEqual([]);
  });

  it('reads date-time as RFC 3339 with a zone', () => {
    const ok = FORMAT_CHECKS['date-time']!;
    for (const v of [
      new Date().toISOString(),
      '2026-11-25T09:00:00Z',
      '2026-11-25T09:00:00.5+05:30',
      '2026-11-25T09:00:00-0800',
    ])
      expect(ok(v), v).toBe(true);
    for (const v of [
      '2026-11-25',
      '2026-11-25T09:00:00',
      '2026-13-01T00:00:00Z',
      'tomorrow',
      '2026-11-25T25:00:00Z',
      '',
    ])
      expect(ok(v), v).toBe(false);
  });

  it('reads email as an address', () => {
    const ok = FORMAT_CHECKS.email!;
    expect(ok('ada@example.com')).toBe(true);
    expect(ok('first.last+tag@mail.example.co.uk')).toBe(true);
    for (const v of ['ada', 'ada@', '@example.com', 'a b@example.com', 'ada@example']) expect(ok(v), v).toBe(false);
  });
});
