/**
 * docs/node.md tells a newcomer why a webhook receiver on localhost is refused and how to allow
 * it: the error it quotes is the one the server gives, and the setting it shows lets it through.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outboundAllowFromEnv } from '../../platform/outbound.js';
import { checkOutboundUrl, type Lookup } from './safe-fetch.js';

const doc = readFileSync(new URL('../../../../../docs/node.md', import.meta.url), 'utf8');
const url = 'http://localhost:4000/parley/webhooks';
const loopback: Lookup = async () => [{ address: '127.0.0.1', family: 4 }];

describe('docs/node.md, a receiver on your own machine', () => {
  it('quotes the refusal the server gives', async () => {
    const none = outboundAllowFromEnv({});
    const err = await checkOutboundUrl(url, none.webhooks, 'webhooks', { lookup: loopback }).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe('OUTBOUND_NOT_ALLOWED');
    expect(doc).toContain(err?.message);
  });

  it('is let through by the setting it shows', async () => {
    const line = /^PARLEY_OUTBOUND_ALLOW=(\S+) npx parley start$/m.exec(doc);
    expect(line).not.toBeNull();
    const allow = outboundAllowFromEnv({ PARLEY_OUTBOUND_ALLOW: line?.[1] });
    await expect(checkOutboundUrl(url, allow.webhooks, 'webhooks', { lookup: loopback })).resolves.toBeUndefined();
    const ip = 'http://127.0.0.1:4000/parley/webhooks';
    await expect(checkOutboundUrl(ip, allow.webhooks, 'webhooks', { lookup: loopback })).resolves.toBeUndefined();
  });
});
