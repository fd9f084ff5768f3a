/** `PARLEY_LISTEN_BACKLOG`: the listen backlog a reconnect storm needs, by default and as set. */
import { describe, expect, it } from 'vitest';
import { configFromEnv } from './config.js';

describe('listen backlog', () => {
  it('is 4,096 by default (Node would listen with 511), and read from PARLEY_LISTEN_BACKLOG', () => {
    expect(configFromEnv({}).listenBacklog).toBe(4096);
    expect(configFromEnv({ PARLEY_LISTEN_BACKLOG: '16384' }).listenBacklog).toBe(16384);
  });

  it('refuses what is not a whole number of at least 1, naming the variable', () => {
    for (const bad of ['0', '-1', '1.5', 'lots'])
      expect(() => configFromEnv({ PARLEY_LISTEN_BACKLOG: bad })).toThrow(/PARLEY_LISTEN_BACKLOG/);
  });
});
