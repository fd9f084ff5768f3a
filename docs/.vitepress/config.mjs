// The documentation site (VitePress): docs/ as it is on GitHub, with a sidebar, local search
// and no network. `npm ci` builds it into docs/.vitepress/dist (scripts/build-docs.mjs), which
// `parley start` serves at /docs; `npm run docs:dev` previews it.
//
// Built for /docs/ by default; PARLEY_DOCS_BASE=/ (or any path) builds it for static hosting.
// Links to files outside docs/ (../deploy/…, ../packages/…) are right on GitHub but have no
// page here: they become plain text (with the path as a tooltip) instead of broken links, and
// are the only dead links the build forgives; any other dead link fails it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitepress';

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A page's first `# ` heading, without its Markdown. */
function titleOf(file) {
  const m = /^# (.+)$/m.exec(readFileSync(path.join(DOCS, file), 'utf8'));
  return (m?.[1] ?? file).replace(/`/g, '').trim();
}

/** The Markdown files of a folder of docs/, as sidebar items sorted by title. */
function pages(dir, first = [], skip = []) {
  const files = readdirSync(path.join(DOCS, dir))
    .filter((f) => f.endsWith('.md') && f !== 'index.md' && !skip.includes(f))
    .filter((f) => statSync(path.join(DOCS, dir, f)).isFile())
    .map((f) => path.posix.join(dir, f));
  const rank = (f) => (first.includes(f) ? first.indexOf(f) : first.length);
  return files
    .map((f) => ({ text: titleOf(f), link: `/${f.replace(/\.md$/, '')}` }))
    .sort((a, b) => rank(`${a.link.slice(1)}.md`) - rank(`${b.link.slice(1)}.md`) || a.text.localeCompare(b.text));
}

/** Whether a link of `env.relativePath`'s page points out of docs/ (to the repository). */
function outsideDocs(href, relativePath) {
  if (/^[a-z][a-z0-9+.-]*:|^#|^\//i.test(href)) return false;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(relativePath), href.split('#')[0]));
  return target.startsWith('../') || target === '..';
}

/** markdown-it: links out of docs/ become `<span title="repo path">text</span>`. */
function repoLinksAsText(md) {
  md.core.ruler.push('parley-repo-links', (state) => {
    const page = state.env.relativePath ?? '';
    for (const block of state.tokens) {
      if (block.type !== 'inline' || !block.children) continue;
      const open = [];
      for (const t of block.children) {
        if (t.type === 'link_open') {
          const href = t.attrGet('href') ?? '';
          const out = outsideDocs(href, page);
          open.push(out);
          if (out) {
            t.tag = 'span';
            t.attrs = [
              [
                'title',
                `In the repository: ${path.posix.join(path.posix.dirname(page), href).replace(/^(\.\.\/)+/, '')}`,
              ],
            ];
          }
        } else if (t.type === 'link_close' && open.pop()) {
          t.tag = 'span';
        }
      }
    }
  });
}

const base = process.env.PARLEY_DOCS_BASE ?? '/docs/';

/** The security pages in the order of docs/security.md's index: the engine, accounts, running it. */
const SECURITY_ORDER = [
  'tenancy',
  'tokens',
  'secrets',
  'input-and-output',
  'rate-limits',
  'outbound',
  'accounts',
  'guests-and-join-policies',
  'mail',
  'sign-in-protection',
  'openid-connect',
  'logs',
  'http-headers',
  'reverse-proxy',
  'several-nodes',
  'operating-safely',
  'not-done-yet',
].map((name) => `security/${name}.md`);

export default defineConfig({
  title: 'Parley',
  description: 'A self-hostable chat engine and team messenger',
  base,
  lang: 'en',
  lastUpdated: false,
  // The web app's icon (else the browser asks for /favicon.ico, outside the site). Nothing
  // from elsewhere: the site works offline.
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${base}icon.svg` }]],
  vite: { build: { chunkSizeWarningLimit: 2000 } }, // the search index of all pages is one chunk
  markdown: {
    languageAlias: { cron: 'shellscript' },
    config: (md) => md.use(repoLinksAsText),
    // `{…}` ending a heading is a path parameter here (`GET /v1/channels/{id}`), not attributes.
    attrs: { disable: true },
    // GitHub's anchors, which the docs' links (and scripts/docs-links.mjs) use.
    anchor: { slugify: githubSlug },
  },
  themeConfig: {
    search: { provider: 'local', options: searchOptions() },
    outline: { level: [2, 3] },
    nav: [
      { text: 'Guides', link: '/getting-started' },
      { text: 'Protocol', link: '/protocol' },
      { text: 'Reference', link: '/reference/rest' },
    ],
    sidebar: [
      {
        text: 'Guides',
        items: pages(
          '.',
          [
            'getting-started.md',
            'running.md',
            'cli.md',
            'sdk.md',
            'react.md',
            'node.md',
            'react-native.md',
            'web-app.md',
            'office.md',
            'deploy.md',
            'moving.md',
          ],
          ['protocol.md', 'internals.md', 'security.md'],
        ),
      },
      { text: 'Protocol', items: [{ text: 'Overview', link: '/protocol' }, ...pages('protocol')] },
      {
        text: 'Security',
        collapsed: true,
        items: [{ text: 'Overview', link: '/security' }, ...pages('security', SECURITY_ORDER)],
      },
      {
        text: 'Internals',
        collapsed: true,
        items: [{ text: 'Overview', link: '/internals' }, ...pages('internals')],
      },
      {
        text: 'Reference',
        items: [...pages('reference'), { text: 'REST by area', collapsed: true, items: pages('reference/rest') }],
      },
    ],
  },
});

/**
 * The local search, tuned so a newcomer's word finds the guide about it (the Chromium test
 * searches "webhook" and expects the webhooks guide):
 * - plurals are folded in the index ("webhooks" is indexed as "webhook"), so a page titled
 *   "Webhooks" matches "webhook" exactly rather than as a prefix;
 * - headings weigh more than body text: a section about a thing outranks passing mentions;
 * - the generated reference (docs/reference/) is left out: its hundreds of near-identical
 *   operation sections outranked every guide. It is one click away in the sidebar, and the
 *   guides link into it.
 * The functions run only at build time and are not enumerable: everything enumerable in
 * themeConfig is written into every page, where a function is revived with `new Function`,
 * which the pages' CSP forbids. The browser's query needs no folding: its prefix search finds
 * "webhook" from "webhooks" and from "webhook".
 */
function searchOptions() {
  const options = { miniSearch: { searchOptions: { boost: { title: 8, text: 1, titles: 2 } } } };
  Object.defineProperty(options.miniSearch, 'options', { value: { processTerm: foldPlural }, enumerable: false });
  Object.defineProperty(options, '_render', {
    enumerable: false,
    value: (src, env, md) => {
      const html = md.render(src, env);
      return env.relativePath.startsWith('reference/') || env.frontmatter?.search === false ? '' : html;
    },
  });
  return options;
}

/** MiniSearch's default term processing (lower case) and an English plural's `s` dropped. */
function foldPlural(term) {
  const t = term.toLowerCase();
  return t.length > 4 && t.endsWith('s') && !/(ss|us|is)$/.test(t) ? t.slice(0, -1) : t;
}

/** GitHub's anchor for a heading's text (scripts/docs-links.mjs slugOf). */
function githubSlug(text) {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}
