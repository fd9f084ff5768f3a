// The docs' code blocks, run as written (Rust's doctests, for Markdown): every ```sh, ```js and
// ```ts block of README.md and docs/ runs against a live server unless the line above it says
// it is not meant to. packages/cli/test/docs-snippets.test.ts starts the server and runs them
// (slow tier); docs-snippets.test.mjs tests the rules here (unit tier).
//
// Markers, an HTML comment on the line(s) just above the fence (GitHub does not render them):
//   <!-- snippet: no-run — REASON -->   not run (a deploy step, a long-running server, a fragment
//                                       that needs an app of its own); the reason is required
//   <!-- snippet: with client -->       a fragment: run after a connected `client` (alice's
//                                       `ChatClient`) is made for it
//   <!-- snippet: with parley -->       the same with `parley`, the `@parley/node` SDK
//   <!-- snippet: commonjs -->          a ```js block that is a CommonJS script (`require`): run
//                                       as a .cjs file by plain Node, so it loads the packages'
//                                       built CommonJS entries (dist/index.cjs), not their sources;
//                                       it ends on its own (no exit is added: it has no top-level await)
// The app the blocks run in has users alice, bob and ann, and `public:releases` (alice and ann)
// where ann posted a link about a deploy. Placeholders the runner fills: `<id>` / `<app_id>`, `<api_key>`, `<api_secret>`, `<token>` (a
// user token for alice); `localhost:3000` and `127.0.0.1:3000` become the live server's address.
// Shell blocks also get $APP_ID $APP $API_KEY $KEY $API_SECRET $TOKEN $SERVER_TOKEN $ADMIN_TOKEN
// $PARLEY (the base URL), and JS/TS blocks process.env.PARLEY_URL, PARLEY_API_KEY,
// PARLEY_API_SECRET, PARLEY_TOKEN. ```tsx blocks need a browser or a device: they must say
// `no-run` (the React and React Native kits have tests of their own).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { docFiles, repo } from './docs-links.mjs';

/** Languages whose blocks run: shell, and JavaScript and TypeScript modules. */
export const RUN_LANGS = {
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  js: 'js',
  mjs: 'js',
  javascript: 'js',
  ts: 'ts',
  typescript: 'ts',
};
/** Languages that cannot run here and must be marked `no-run`. */
export const MARK_LANGS = new Set(['tsx', 'jsx']);
const SETUPS = new Set(['client', 'parley']);

/** Every fenced block of a Markdown text, with its language, first line number and markers. */
export function extractSnippets(text, file = '') {
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(```+|~~~+)\s*([\w-]*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const fence = open[1] ?? '```';
    const lang = (open[2] ?? '').toLowerCase();
    const start = i;
    const body = [];
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith(fence); i++) body.push(lines[i]);
    // The comment lines just above the fence.
    const comments = [];
    for (let j = start - 1; j >= 0 && /^<!--.*-->\s*$/.test(lines[j] ?? ''); j--) comments.unshift(lines[j]);
    let mode = 'run';
    let reason = '';
    let setup = null;
    let commonjs = false;
    const problems = [];
    for (const c of comments) {
      const m = /^<!--\s*snippet:\s*(.*?)\s*-->\s*$/.exec(c ?? '');
      if (!m) continue;
      const spec = m[1] ?? '';
      const noRun = /^no-run\b\s*(?:[—:-]\s*)?(.*)$/.exec(spec);
      const withSetup = /^with\s+(\w+)$/.exec(spec);
      if (noRun) {
        mode = 'no-run';
        reason = (noRun[1] ?? '').trim();
        if (!reason) problems.push('`no-run` needs a reason');
      } else if (withSetup && SETUPS.has(withSetup[1] ?? '')) setup = withSetup[1];
      else if (spec === 'commonjs') commonjs = true;
      else problems.push(`unknown marker "${spec}"`);
    }
    if (commonjs && RUN_LANGS[lang] !== 'js') problems.push('`commonjs` is for a ```js block');
    if (commonjs && setup) problems.push('a `commonjs` block makes its own SDK: no `with` setup');
    if (MARK_LANGS.has(lang) && mode !== 'no-run') problems.push(`a \`${lang}\` block cannot run here: mark it no-run`);
    out.push({
      file,
      line: start + 1,
      lang,
      kind: commonjs && RUN_LANGS[lang] === 'js' ? 'cjs' : (RUN_LANGS[lang] ?? null),
      code: body.join('\n'),
      mode,
      reason,
      setup,
      problems,
    });
  }
  return out;
}

/** The blocks of README.md and docs/ (the generated reference has none worth running). */
export function docSnippets(files = docFiles().filter((f) => !f.startsWith('docs/reference/'))) {
  return files.flatMap((f) => extractSnippets(readFileSync(path.join(repo, f), 'utf8'), f));
}

/** The blocks that run. */
export const runnable = (snippets) => snippets.filter((s) => s.kind && s.mode === 'run');

/** Fills the documented placeholders and points the docs' default address at the live server. */
export function fillPlaceholders(code, values) {
  const table = {
    id: values.appId,
    app_id: values.appId,
    api_key: values.apiKey,
    api_secret: values.apiSecret,
    token: values.token,
  };
  return code
    .replace(/<(id|app_id|api_key|api_secret|token)>/g, (_, k) => table[k] ?? '')
    .replace(/\b(?:localhost|127\.0\.0\.1):3000\b/g, values.host);
}

const SETUP_CODE = {
  client: `import { ChatClient } from '@parley/client';
import WebSocket from 'ws';
const client = new ChatClient({ url: process.env.PARLEY_URL, apiKey: process.env.PARLEY_API_KEY, WebSocket });
await client.connectUser({ id: 'alice' }, process.env.PARLEY_TOKEN);
`,
  parley: `import { Parley } from '@parley/node';
const parley = new Parley({ url: process.env.PARLEY_URL, apiKey: process.env.PARLEY_API_KEY, apiSecret: process.env.PARLEY_API_SECRET });
`,
};

/** The source a JS/TS block runs as: its setup, the block, and an exit (a connected SDK keeps the loop alive). */
export function moduleSource(snippet, values) {
  const setup = snippet.setup ? SETUP_CODE[snippet.setup] : '';
  return `${setup}${fillPlaceholders(snippet.code, values)}\n;process.exit(0);\n`;
}

/**
 * Runs one block in `dir` (a folder inside the repository, so `npx parley` and `@parley/*`
 * resolve to this checkout) against the server `values` describe. Resolves with the exit code
 * and output; a block that runs longer than `timeoutMs` is killed and counts as failed.
 */
export function runSnippet(snippet, values, dir, timeoutMs = 60_000) {
  mkdirSync(dir, { recursive: true });
  const env = {
    ...process.env,
    PATH: `${path.join(repo, 'node_modules/.bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    APP_ID: values.appId,
    APP: values.appId,
    API_KEY: values.apiKey,
    KEY: values.apiKey,
    API_SECRET: values.apiSecret,
    TOKEN: values.token,
    SERVER_TOKEN: values.serverToken,
    ADMIN_TOKEN: values.adminToken,
    PARLEY_ADMIN_TOKEN: values.adminToken,
    PARLEY: values.url,
    PARLEY_URL: values.url,
    PARLEY_API_KEY: values.apiKey,
    PARLEY_API_SECRET: values.apiSecret,
    PARLEY_TOKEN: values.token,
    PORT: String(values.port),
  };
  let cmd;
  let args;
  if (snippet.kind === 'sh') {
    cmd = 'bash';
    args = ['-e', '-o', 'pipefail', '-c', fillPlaceholders(snippet.code, values)];
  } else if (snippet.kind === 'cjs') {
    // Without require(esm), so a package whose CommonJS entry is missing fails here on any Node.
    const file = path.join(dir, 'snippet.cjs');
    writeFileSync(file, fillPlaceholders(snippet.code, values));
    cmd = process.execPath;
    args = ['--no-experimental-require-module', file];
  } else {
    const file = path.join(dir, snippet.kind === 'ts' ? 'snippet.mts' : 'snippet.mjs');
    writeFileSync(file, moduleSource(snippet, values));
    cmd = process.execPath;
    args = ['--conditions=@parley/source', '--import', 'tsx', file];
  }
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
  });
}
