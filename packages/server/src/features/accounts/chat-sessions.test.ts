/** How endings of account sessions travel between nodes (pure: memory brokers, no database). */
import { describe, expect, it } from 'vitest';
import { MemoryBroker, MemoryNetwork } from '../../realtime/broker.js';
import type { Services } from '../../services.js';
import { ChatSessions, type Ending } from './chat-sessions.js';

function node(net: MemoryNetwork) {
  const broker = new MemoryBroker(net);
  // Every node named alike, as `node-1` in every container: they must still hear each other.
  const sessions = new ChatSessions(() => ({ config: { nodeId: 'node-1' } }) as unknown as Services, broker);
  broker.onMessage((_topic, msg) => sessions.receive(msg));
  const seen: Ending[] = [];
  sessions.onEnded = (e) => seen.push(e);
  return { sessions, seen };
}

describe('ChatSessions', () => {
  it('applies an ending at once where it is made, once, and on every other node', () => {
    const net = new MemoryNetwork();
    const [a, b, c] = [node(net), node(net), node(net)];
    const epoch = a.sessions.epoch;
    a.sessions.end({ sessions: ['s1', 's2'] });
    expect(a.seen).toEqual([{ sessions: ['s1', 's2'] }]);
    expect(a.sessions.epoch).toBe(epoch + 1);
    expect(b.seen).toEqual([{ sessions: ['s1', 's2'] }]);
    expect(c.seen).toEqual([{ sessions: ['s1', 's2'] }]);
    b.sessions.end({ appId: 'app', userId: 'a_1' });
    expect(a.seen[1]).toEqual({ appId: 'app', userId: 'a_1' });
    expect(b.seen).toHaveLength(2);
  });

  it('ignores an empty ending and malformed messages', () => {
    const net = new MemoryNetwork();
    const [a, b] = [node(net), node(net)];
    a.sessions.end({ sessions: [] });
    b.sessions.receive({ type: 'sessions.ended', frame: '{nope' });
    b.sessions.receive({ type: 'sessions.ended', frame: '{"appId":1}' });
    expect(a.seen).toEqual([]);
    expect(b.seen).toEqual([]);
  });
});
