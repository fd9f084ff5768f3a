import { describe, expect, it } from 'vitest';
import { configFromEnv } from './config.js';
import { allowFromTexts, allowTexts, describeOutboundAllow, outboundAllowFromEnv, parseAllowList } from './outbound.js';

describe('PARLEY_OUTBOUND_ALLOW', () => {
  it('is empty by default: every kind allows nothing', () => {
    const a = outboundAllowFromEnv({});
    for (const l of Object.values(a)) expect(l.empty).toBe(true);
    expect(describeOutboundAllow(a)).toEqual([]);
  });

  it('reads addresses, CIDRs, host names and wildcards, each with an optional port', () => {
    const l = parseAllowList(
      '10.0.0.0/8,192.168.1.5:8080,[fd00::1]:9000,fd00:ab::/32,backend.internal:3000,*.corp.example',
    );
    expect(l.allowsAddress('10.20.30.40', 443)).toBe(true);
    expect(l.allowsAddress('11.0.0.1', 443)).toBe(false);
    expect(l.allowsAddress('192.168.1.5', 8080)).toBe(true);
    expect(l.allowsAddress('192.168.1.5', 8081)).toBe(false);
    expect(l.allowsAddress('192.168.1.5', null)).toBe(true);
    expect(l.allowsAddress('fd00::1', 9000)).toBe(true);
    expect(l.allowsAddress('fd00::1', 80)).toBe(false);
    expect(l.allowsAddress('fd00:ab:1::5', 80)).toBe(true);
    expect(l.allowsAddress('::ffff:10.1.1.1', 80)).toBe(true);
    expect(l.allowsName('backend.internal', 3000)).toBe(true);
    expect(l.allowsName('BACKEND.internal', 3000)).toBe(true);
    expect(l.allowsName('backend.internal', 3001)).toBe(false);
    expect(l.allowsName('evil-backend.internal', 3000)).toBe(false);
    expect(l.allowsName('wiki.corp.example', 443)).toBe(true);
    expect(l.allowsName('corp.example', 443)).toBe(false);
    expect(l.allowsName('wiki.corp.example.evil.com', 443)).toBe(false);
  });

  it('adds each kind’s own list to the list for all kinds', () => {
    const a = outboundAllowFromEnv({
      PARLEY_OUTBOUND_ALLOW: '10.0.0.0/8',
      PARLEY_OUTBOUND_ALLOW_WEBHOOKS: '127.0.0.1:9000',
      PARLEY_OUTBOUND_ALLOW_PREVIEWS: 'intranet.example',
    });
    expect(a.webhooks.allowsAddress('127.0.0.1', 9000)).toBe(true);
    expect(a.push.allowsAddress('127.0.0.1', 9000)).toBe(false);
    expect(a.push.allowsAddress('10.1.1.1', 443)).toBe(true);
    expect(a.previews.allowsName('intranet.example', 80)).toBe(true);
    expect(a.before_send.allowsName('intranet.example', 80)).toBe(false);
    expect(describeOutboundAllow(a)).toEqual([
      'webhooks → 10.0.0.0/8, 127.0.0.1:9000',
      'before_send, push, commands, assistant → 10.0.0.0/8',
      'previews → 10.0.0.0/8, intranet.example',
    ]);
  });

  it('survives the trip to another thread as the entries’ text', () => {
    const a = outboundAllowFromEnv({
      PARLEY_OUTBOUND_ALLOW: '10.0.0.0/8,[::1]:8080',
      PARLEY_OUTBOUND_ALLOW_PUSH: '*.push.test',
    });
    const b = allowFromTexts(structuredClone(allowTexts(a)));
    expect(describeOutboundAllow(b)).toEqual(describeOutboundAllow(a));
    expect(b.push.allowsName('eu.push.test', 443)).toBe(true);
    expect(b.webhooks.allowsAddress('::1', 8080)).toBe(true);
    expect(b.webhooks.allowsAddress('::1', 8081)).toBe(false);
  });

  it('stops the server with a message naming a bad entry', () => {
    for (const [env, msg] of [
      [{ PARLEY_OUTBOUND_ALLOW: '10.0.0.0/33' }, /"10.0.0.0\/33" has a bad prefix length/],
      [{ PARLEY_OUTBOUND_ALLOW: 'host:99999' }, /"host:99999" has a bad port/],
      [{ PARLEY_OUTBOUND_ALLOW: 'host:' }, /bad port/],
      [{ PARLEY_OUTBOUND_ALLOW: 'not a host' }, /"not a host" is not an address, a CIDR or a host name/],
      [{ PARLEY_OUTBOUND_ALLOW: 'example.com/8' }, /is not a CIDR/],
      [{ PARLEY_OUTBOUND_ALLOW_WEBHOOKS: 'http://x.example' }, /PARLEY_OUTBOUND_ALLOW_WEBHOOKS: "http:\/\/x.example"/],
      [{ PARLEY_OUTBOUND_ALLOW_WEBHOOK: '10.0.0.1' }, /PARLEY_OUTBOUND_ALLOW_WEBHOOK: no such kind/],
    ] as const)
      expect(() => configFromEnv(env as NodeJS.ProcessEnv), JSON.stringify(env)).toThrow(msg);
  });
});
