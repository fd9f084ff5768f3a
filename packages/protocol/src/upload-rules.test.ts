import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UPLOAD_RULES, UploadRules, uploadMaxBytes, uploadTypeAllowed } from './attachments.js';

describe('upload rules', () => {
  const rules: UploadRules = { allowed_types: ['image/*', 'application/pdf'], max_bytes: { image: 100, video: null } };

  it('allows whole types and families, by the type read from the bytes', () => {
    expect(uploadTypeAllowed(rules, 'image/png')).toBe(true);
    expect(uploadTypeAllowed(rules, 'IMAGE/JPEG')).toBe(true);
    expect(uploadTypeAllowed(rules, 'application/pdf')).toBe(true);
    expect(uploadTypeAllowed(rules, 'text/plain; charset=utf-8')).toBe(false);
    expect(uploadTypeAllowed(rules, 'application/pdfx')).toBe(false);
    expect(uploadTypeAllowed(rules, 'imagex/png')).toBe(false);
    expect(uploadTypeAllowed(DEFAULT_UPLOAD_RULES, 'application/x-executable')).toBe(true);
  });

  it("takes a kind's limit, never above the server's", () => {
    expect(uploadMaxBytes(rules, 'image', 1000)).toBe(100);
    expect(uploadMaxBytes(rules, 'video', 1000)).toBe(1000);
    expect(uploadMaxBytes(rules, 'file', 1000)).toBe(1000);
    expect(uploadMaxBytes({ allowed_types: null, max_bytes: { file: 5000 } }, 'file', 1000)).toBe(1000);
  });

  it('refuses lists and limits that mean nothing', () => {
    const ok = (v: unknown) => Value.Check(UploadRules, v);
    expect(ok(rules)).toBe(true);
    expect(ok({ allowed_types: null, max_bytes: {} })).toBe(true);
    expect(ok({ allowed_types: [], max_bytes: {} })).toBe(false);
    expect(ok({ allowed_types: ['*/*'], max_bytes: {} })).toBe(false);
    expect(ok({ allowed_types: ['image'], max_bytes: {} })).toBe(false);
    expect(ok({ allowed_types: ['image/*', 'image/*'], max_bytes: {} })).toBe(false);
    expect(ok({ allowed_types: ['Image/PNG'], max_bytes: {} })).toBe(false);
    expect(ok({ allowed_types: null, max_bytes: { image: 0 } })).toBe(false);
    expect(ok({ allowed_types: null, max_bytes: { pictures: 10 } })).toBe(false);
    expect(ok({ allowed_types: null })).toBe(false);
  });
});
