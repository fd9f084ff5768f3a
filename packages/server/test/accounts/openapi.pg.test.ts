/**
 * The accounts routes are in the OpenAPI document, with the session cookie as their security
 * and every error they answer with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../harness.js';
import { ok } from './helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('OpenAPI', () => {
  it('documents every account route, its security and its error answers', async () => {
    const doc = ok(await h.call({ method: 'GET', url: '/v1/openapi.json' }));
    expect(doc.components.securitySchemes.session).toEqual({ type: 'apiKey', in: 'cookie', name: 'parley_session' });
    const op = (method: string, path: string) => {
      const o = doc.paths[path]?.[method];
      expect(o, `${method} ${path}`).toBeDefined();
      return o;
    };
    const expected: [string, string, string[], 'public' | 'session'][] = [
      ['post', '/v1/auth/signup', ['200', '400', '403', '409', '415'], 'public'],
      ['post', '/v1/auth/signin', ['200', '400', '401', '403', '415'], 'public'],
      ['post', '/v1/auth/signout', ['200', '401', '403', '415'], 'session'],
      ['post', '/v1/auth/signout-everywhere', ['200', '401', '403'], 'session'],
      ['post', '/v1/auth/password', ['200', '400', '401', '403'], 'session'],
      ['get', '/v1/auth/me', ['200', '401'], 'session'],
      ['get', '/v1/auth/session', ['200'], 'public'],
      ['post', '/v1/auth/signin/2fa', ['200', '400', '401', '423', '429'], 'public'],
      ['get', '/v1/auth/2fa', ['200', '401'], 'session'],
      ['post', '/v1/auth/2fa/setup', ['200', '400', '401', '403', '409', '429'], 'session'],
      ['post', '/v1/auth/2fa/enable', ['200', '400', '401', '403', '409', '429'], 'session'],
      ['post', '/v1/auth/2fa/disable', ['200', '400', '401', '403', '429'], 'session'],
      ['post', '/v1/auth/2fa/backup-codes', ['200', '400', '401', '403', '409', '429'], 'session'],
      ['get', '/v1/auth/sessions', ['200', '401'], 'session'],
      ['delete', '/v1/auth/sessions/{id}', ['200', '401', '404'], 'session'],
      ['post', '/v1/auth/signout-others', ['200', '401', '403'], 'session'],
      ['post', '/v1/workspaces', ['200', '400', '401'], 'session'],
      ['get', '/v1/workspaces', ['200', '401'], 'session'],
      ['get', '/v1/workspaces/{id}', ['200', '401', '404'], 'session'],
      ['patch', '/v1/workspaces/{id}', ['200', '400', '403', '404'], 'session'],
      ['post', '/v1/workspaces/{id}/session', ['200', '401', '404'], 'session'],
      ['get', '/v1/workspaces/{id}/members', ['200', '404'], 'session'],
      ['patch', '/v1/workspaces/{id}/members/{account_id}', ['200', '403', '404', '409'], 'session'],
      ['delete', '/v1/workspaces/{id}/members/{account_id}', ['200', '403', '404', '409'], 'session'],
      ['post', '/v1/workspaces/{id}/members/{account_id}/deactivate', ['200', '400', '403', '404', '409'], 'session'],
      ['post', '/v1/workspaces/{id}/members/{account_id}/reactivate', ['200', '400', '403', '404', '409'], 'session'],
      ['post', '/v1/workspaces/{id}/invites', ['200', '400', '403', '404'], 'session'],
      ['get', '/v1/workspaces/{id}/invites', ['200', '403', '404'], 'session'],
      ['delete', '/v1/workspaces/{id}/invites/{invite_id}', ['200', '403', '404'], 'session'],
      ['get', '/v1/invites/{token}', ['200', '404'], 'public'],
      ['post', '/v1/invites/{token}/accept', ['200', '401', '403', '404'], 'session'],
    ];
    for (const [method, path, statuses, security] of expected) {
      const o = op(method, path);
      for (const s of statuses) expect(o.responses[s], `${method} ${path} ${s}`).toBeDefined();
      expect(o.security, `${method} ${path}`).toEqual(security === 'public' ? [] : [{ session: [] }]);
    }
  });
});
