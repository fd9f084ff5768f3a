import { describe, expect, it } from 'vitest';
import { failure } from './http.js';

describe('failed answers', () => {
  it("keep the server's error body", () => {
    const e = failure(409, JSON.stringify({ error: { code: 'CONFLICT', message: 'taken', details: { field: 'id' } } }));
    expect([e.code, e.message, e.status, e.details]).toEqual(['CONFLICT', 'taken', 409, { field: 'id' }]);
  });

  it("turn a proxy's own page into a code from the status, retryable where the proxy says try again", () => {
    const page = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
    for (const status of [502, 503, 504]) {
      const e = failure(status, page);
      expect([e.code, e.retryable, e.status]).toEqual(['UNAVAILABLE', true, status]);
    }
    expect(failure(413, '<html>413 Request Entity Too Large</html>').code).toBe('PAYLOAD_TOO_LARGE');
    expect(failure(429, '').code).toBe('RATE_LIMITED');
    expect(failure(500, 'null').code).toBe('INTERNAL');
    expect(failure(400, '{"error":{"code":7}}').code).toBe('INTERNAL');
  });
});
