// Every relative link of the docs resolves: the file exists and, for a Markdown target, the
// `#anchor` names one of its headings (GitHub's slugs) or an explicit `<a id>`. Used by
// docs-links.test.mjs; `node scripts/docs-links.mjs` prints the broken ones.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** GitHub's anchor for a heading's text. */
export function slugOf(text) {
  return text
    .replace(/<[^>]+>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The text outside fenced code blocks and inline code spans. */
const prose = (text) => text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');

/** The anchors a Markdown file offers. */
export function anchorsOf(text) {
  const seen = new Map();
  const out = new Set();
  for (const m of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slugOf((m[1] ?? '').replace(/`/g, ''));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  // Headings with code spans: slug them with the span's text kept.
  const withCode = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const seen2 = new Map();
  for (const m of withCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slugOf(m[1] ?? '');
    const n = seen2.get(base) ?? 0;
    seen2.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  for (const m of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/** The Markdown files the links of which are checked: README.md and everything under docs/. */
export function docFiles() {
  const out = ['README.md'];
  const walk = (dir) => {
    for (const name of readdirSync(path.join(repo, dir))) {
      const rel = path.join(dir, name);
      if (statSync(path.join(repo, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out.sort();
}

/** Every broken relative link of `files`, as `file: target (why)`. */
export function brokenLinks(files = docFiles()) {
  const anchorCache = new Map();
  const anchors = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, 'utf8')));
    return anchorCache.get(file);
  };
  const broken = [];
  for (const rel of files) {
    const abs = path.join(repo, rel);
    const text = prose(readFileSync(abs, 'utf8'));
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, mailto:, …
      const [file, anchor] = target.split('#');
      if (target.endsWith('#')) {
        broken.push(`${rel}: ${target} (an empty anchor)`);
        continue;
      }
      const dest = file ? path.resolve(path.dirname(abs), decodeURI(file)) : abs;
      if (!existsSync(dest)) {
        broken.push(`${rel}: ${target} (no such file)`);
        continue;
      }
      if (anchor && dest.endsWith('.md') && !anchors(dest).has(decodeURIComponent(anchor)))
        broken.push(`${rel}: ${target} (no such heading)`);
    }
  }
  return broken;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const broken = brokenLinks();
  for (const b of broken) console.log(b);
  console.log(`${broken.length} broken links`);
  process.exit(broken.length ? 1 : 0);
}
