/**
 * A real OpenID Connect provider for tests: `oidc-provider` (certified) on a loopback port,
 * with one confidential client and accounts whose claims the test sets (`people`). Its
 * devInteractions pages are the login and consent forms: `signInAt` drives them over real HTTP
 * with a cookie jar, as a browser would (the login is the subject; any password works).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface Person {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Claims by subject; change them between sign-ins. */
  people: Map<string, Person>;
  /** Stop listening (connections dropped): the provider is down. */
  stop(): Promise<void>;
}

export const CLIENT_ID = 'parley-test';
export const CLIENT_SECRET = 'parley-test-secret-0123456789abcdef';

/**
 * Start a provider whose one client may redirect to `redirectUris`. `port` listens there
 * (to bring a stopped provider back); default a free one.
 */
export async function startProvider(redirectUris: string[], port = 0): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const people = new Map<string, Person>();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    // Fixed lifetimes (the defaults are functions that print a notice each time they run).
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    async findAccount(_ctx, sub) {
      if (!people.has(sub)) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...people.get(sub) }) };
    },
  });
  // Its development-only warnings (devInteractions, generated keys) are expected here.
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider', err));
  server.on('request', provider.callback());
  return {
    issuer,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    people,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A minimal cookie jar for one host: name → value, from Set-Cookie headers. */
export class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair?.indexOf('=') ?? -1;
      if (!pair || i < 0) continue;
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The action and method of the page's first form. */
function formOf(html: string): string {
  const m = /<form[^>]*action="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error(`no form on the provider's page: ${html.slice(0, 300)}`);
  return m[1].replaceAll('&amp;', '&');
}

/**
 * Follow the provider from `authorizationUrl` until it redirects to a URL starting with
 * `callbackPrefix` (returned, not fetched): the login form with `subject`, then the consent
 * form. Real HTTP, real cookies, no shortcut into the provider.
 */
export async function signInAt(authorizationUrl: string, subject: string, callbackPrefix: string): Promise<string> {
  const jar = new Jar();
  let url = authorizationUrl;
  let body: URLSearchParams | null = null;
  for (let hop = 0; hop < 20; hop++) {
    const res: Response = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    });
    jar.take(res);
    body = null;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url).href;
      if (next.startsWith(callbackPrefix)) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`provider answered ${res.status}: ${html.slice(0, 300)}`);
    const action = new URL(formOf(html), url).href;
    body = html.includes('name="login"')
      ? new URLSearchParams({ prompt: 'login', login: subject, password: 'any' })
      : new URLSearchParams({ prompt: 'consent' });
    url = action;
  }
  throw new Error('too many hops at the provider');
}
