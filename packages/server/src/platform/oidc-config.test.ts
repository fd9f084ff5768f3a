/** `PARLEY_OIDC_*`: all three or none, an https issuer (http only on loopback), the defaults. */
import { describe, expect, it } from 'vitest';
import { configFromEnv, parseOidc } from './config.js';

const base = { PARLEY_OIDC_CLIENT_ID: 'parley', PARLEY_OIDC_CLIENT_SECRET: 's3cret' };

describe('parseOidc', () => {
  it('is off without any of the three', () => {
    expect(parseOidc({})).toBeUndefined();
    expect(configFromEnv({}).oidc).toBeUndefined();
  });

  it('reads the provider, its name (default: the issuer host) and sign-up (default on)', () => {
    expect(parseOidc({ ...base, PARLEY_OIDC_ISSUER: 'https://id.example.com/realms/x' })).toEqual({
      issuer: 'https://id.example.com/realms/x',
      clientId: 'parley',
      clientSecret: 's3cret',
      name: 'id.example.com',
      signup: true,
      timeoutMs: 10_000,
    });
    const named = parseOidc({
      ...base,
      PARLEY_OIDC_ISSUER: 'https://id.example.com',
      PARLEY_OIDC_NAME: ' Acme SSO ',
      PARLEY_OIDC_SIGNUP: '0',
    });
    expect(named).toMatchObject({ name: 'Acme SSO', signup: false });
  });

  it('takes http only on a loopback address', () => {
    for (const issuer of ['http://127.0.0.1:9000', 'http://localhost:9000', 'http://[::1]:9000'])
      expect(parseOidc({ ...base, PARLEY_OIDC_ISSUER: issuer })?.issuer).toBe(issuer);
    for (const issuer of ['http://id.example.com', 'http://10.0.0.5', 'ftp://id.example.com', 'not a url'])
      expect(() => parseOidc({ ...base, PARLEY_OIDC_ISSUER: issuer })).toThrow(/PARLEY_OIDC_ISSUER/);
  });

  it('refuses a partial configuration', () => {
    expect(() => parseOidc({ PARLEY_OIDC_ISSUER: 'https://id.example.com' })).toThrow(/go together/);
    expect(() => parseOidc({ ...base })).toThrow(/go together/);
  });
});
