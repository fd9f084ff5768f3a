import { describe, expect, it } from 'vitest';
import { slackMessageId } from './slack.js';
import { convertSlackText } from './slack-text.js';

const ctx = {
  user: (id: string) => (id === 'U1' ? { handle: 'ada', userId: 'u-ada' } : null),
  channel: (id: string) => (id === 'C1' ? 'general' : null),
};

describe('convertSlackText', () => {
  it('rewrites mentions, channels, links and specials, and unescapes entities once', () => {
    const r = convertSlackText(
      'Hi <@U1> and <@U1|ada>, <@U9|zed>! <!here> <!channel> in <#C1> and <#C7|random>: <https://a.b/?x=1&amp;y=2|the &amp; doc> <https://c.d> <mailto:a@b.c|a@b.c> &amp;lt; &lt;@U1&gt;',
      ctx,
    );
    expect(r.text).toBe(
      'Hi @ada and @ada, @zed! @here @channel in #general and #random: [the & doc](https://a.b/?x=1&y=2) https://c.d a@b.c &lt; <@U1>',
    );
    expect(r).toMatchObject({ mentionedUsers: ['u-ada'], here: true, channel: true });
  });

  it("turns Slack's *bold* and ~strike~ into markdown, outside code only", () => {
    const t = (s: string) => convertSlackText(s, ctx).text;
    expect(t('*bold* and _italic_ and ~gone~, (*in brackets*) *<@U1>*')).toBe(
      '**bold** and _italic_ and ~~gone~~, (**in brackets**) **@ada**',
    );
    expect(t('`*code*` and ```\n*block* ~x~\n``` but *this*')).toBe('`*code*` and ```\n*block* ~x~\n``` but **this**');
    // Not emphasis: inside words, around spaces, across lines, inside a link (its URL or label).
    expect(t('a*b*c 2 * 3 * 4 *open\nclose* <https://x.org/~bob/~a~|~home~>')).toBe(
      'a*b*c 2 * 3 * 4 *open\nclose* [~home~](https://x.org/~bob/~a~)',
    );
    expect(t('&gt; quoted *line*')).toBe('> quoted **line**');
  });

  it('leaves plain text alone', () => {
    expect(convertSlackText('a < b > c', ctx)).toEqual({
      text: 'a < b > c',
      mentionedUsers: [],
      here: false,
      channel: false,
    });
  });
});

describe('slackMessageId', () => {
  it('is a UUIDv7 with the message time, the same for the same (app, channel, ts)', () => {
    const a = slackMessageId('app', 'public:general', '1700000000.000100');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBe(1_700_000_000_000);
    expect(slackMessageId('app', 'public:general', '1700000000.000100')).toBe(a);
    expect(slackMessageId('app', 'public:general', '1700000000.000200')).not.toBe(a);
    expect(slackMessageId('app', 'public:random', '1700000000.000100')).not.toBe(a);
  });
});
