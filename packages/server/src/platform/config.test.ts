/** Settings read from the environment: the listen backlog a reconnect storm needs, and where the jobs run. */
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

describe('drain delay', () => {
  it('is 0 by default and read from PARLEY_DRAIN_DELAY_MS, refusing what is not a whole number', () => {
    expect(configFromEnv({}).drainDelayMs).toBe(0);
    expect(configFromEnv({ PARLEY_DRAIN_DELAY_MS: '5000' }).drainDelayMs).toBe(5000);
    for (const bad of ['-1', '1.5', 'soon'])
      expect(() => configFromEnv({ PARLEY_DRAIN_DELAY_MS: bad })).toThrow(/PARLEY_DRAIN_DELAY_MS/);
  });
});

describe('background thread', () => {
  it('is auto (a thread on PostgreSQL) at the main thread’s priority by default, and read from the environment', () => {
    expect(configFromEnv({}).background).toBe('auto');
    expect(configFromEnv({}).backgroundNice).toBe(0);
    const c = configFromEnv({ PARLEY_BACKGROUND: 'inline', PARLEY_BACKGROUND_NICE: '10' });
    expect([c.background, c.backgroundNice]).toEqual(['inline', 10]);
    expect(configFromEnv({ PARLEY_BACKGROUND: 'thread' }).background).toBe('thread');
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['threads', 'on', 'INLINE'])
      expect(() => configFromEnv({ PARLEY_BACKGROUND: bad })).toThrow(
        /PARLEY_BACKGROUND must be auto, inline or thread/,
      );
    for (const bad of ['20', '-1', '2.5', 'low'])
      expect(() => configFromEnv({ PARLEY_BACKGROUND_NICE: bad })).toThrow(/PARLEY_BACKGROUND_NICE/);
  });
});

describe('idle office rooms', () => {
  it('are archived after 30 days by default, read from PARLEY_OFFICE_ROOM_IDLE_DAYS (0: never), refusing what is not a whole number', () => {
    expect(configFromEnv({}).spaces.roomIdleDays).toBe(30);
    expect(configFromEnv({ PARLEY_OFFICE_ROOM_IDLE_DAYS: '7' }).spaces.roomIdleDays).toBe(7);
    expect(configFromEnv({ PARLEY_OFFICE_ROOM_IDLE_DAYS: '0' }).spaces.roomIdleDays).toBe(0);
    for (const bad of ['-1', '1.5', 'monthly'])
      expect(() => configFromEnv({ PARLEY_OFFICE_ROOM_IDLE_DAYS: bad })).toThrow(/PARLEY_OFFICE_ROOM_IDLE_DAYS/);
  });
});
