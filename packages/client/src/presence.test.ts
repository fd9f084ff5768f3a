import { describe, expect, it } from 'vitest';
import { PresenceFollows, type PresenceHost } from './presence.js';

type States = Record<string, 'online' | 'away' | 'busy' | 'offline'>;

/** A host whose subscribe answers wait until the test releases them, recording what is applied. */
function host() {
  const answers: ((states: States) => void)[] = [];
  const applied: States[] = [];
  const h: PresenceHost = {
    request: (type) =>
      type === 'presence.subscribe'
        ? new Promise((resolve) => answers.push((presence) => resolve({ presence, spaces: {} })))
        : Promise.resolve(undefined),
    isOnline: () => true,
    apply: (states) => applied.push(states),
  };
  return { h, answers, applied };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PresenceFollows', () => {
  it('applies what a subscribe answers', async () => {
    const { h, answers, applied } = host();
    const follows = new PresenceFollows(h);
    follows.watch(['bob', 'carol']);
    await tick();
    answers[0]?.({ bob: 'online', carol: 'away' });
    await tick();
    expect(applied).toEqual([{ bob: 'online', carol: 'away' }]);
  });

  // Regression: the answer, read before Bob's change, reached the client after the change's
  // event and put him back to `away` for good (his later "online" changed nothing on the server).
  it('never lets an answer undo a presence.changed that arrived while it was in flight', async () => {
    const { h, answers, applied } = host();
    const follows = new PresenceFollows(h);
    follows.watch(['bob', 'carol']);
    await tick();
    follows.changed('bob'); // the event (bob: online) is applied by the client meanwhile
    answers[0]?.({ bob: 'away', carol: 'offline' });
    await tick();
    expect(applied).toEqual([{ carol: 'offline' }]);
  });

  it('forgets the event once the answer came: the next subscribe applies in full', async () => {
    const { h, answers, applied } = host();
    const follows = new PresenceFollows(h);
    follows.watch(['bob']);
    await tick();
    follows.changed('bob');
    answers[0]?.({ bob: 'away' });
    await tick();
    follows.changed('bob'); // no subscribe in flight: nothing to mark
    follows.resubscribe(); // a new connection asks again
    await tick();
    answers[1]?.({ bob: 'online' });
    await tick();
    expect(applied).toEqual([{}, { bob: 'online' }]);
  });
});
