import { describe, expect, it } from 'vitest';
import { convertMattermostText } from './mattermost-text.js';

const people: Record<string, { handle: string; userId: string }> = {
  ada: { handle: 'ada-2', userId: 'u-ada' },
  'bob.b': { handle: 'bob.b', userId: 'u-bob' },
};
const ctx = {
  user: (name: string) => people[name] ?? null,
  channel: (name: string) => (name === 'town-square' || name === 'dev' ? name : null),
};

describe('convertMattermostText', () => {
  it('writes mentions with the handle here and lists the people mentioned once', () => {
    expect(convertMattermostText('@ada, see @Bob.B. and @ada again', ctx)).toEqual({
      text: '@ada-2, see @bob.b. and @ada-2 again',
      mentionedUsers: ['u-ada', 'u-bob'],
      here: false,
      channel: false,
    });
  });

  it('keeps @here, reads @all and @channel as the whole channel', () => {
    expect(convertMattermostText('@here and @all', ctx)).toMatchObject({
      text: '@here and @channel',
      here: true,
      channel: true,
    });
  });

  it('leaves addresses, unknown names and code as written', () => {
    expect(convertMattermostText('mail ada@example.com, ask @nobody, run `@ada` or\n```\n@ada\n```', ctx)).toEqual({
      text: 'mail ada@example.com, ask @nobody, run `@ada` or\n```\n@ada\n```',
      mentionedUsers: [],
      here: false,
      channel: false,
    });
  });

  it("writes links to the team's channels as #name, and leaves strikethrough and other tildes", () => {
    expect(convertMattermostText('see ~town-square and ~dev, not ~~old~~ or ~nowhere or a~dev', ctx).text).toBe(
      'see #town-square and #dev, not ~~old~~ or ~nowhere or a~dev',
    );
  });
});
