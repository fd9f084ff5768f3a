// scripts/check-imports.mjs, on the real tree and on a copy of the server's sources with
// imports planted that break each rule: each is named with its file and its rule.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImports, FEATURE_ORDER, KNOWN_UPWARD } from './check-imports.mjs';

const repo = path.resolve(import.meta.dirname, '..');
const features = 'packages/server/src/features';

describe('check-imports', () => {
  let tree;
  /** Writes `files` (path → text) into the copy, runs `check`, then puts the copy back as it was. */
  const withPlants = (files, check) => {
    const before = new Map();
    try {
      for (const [file, text] of Object.entries(files)) {
        const at = path.join(tree, file);
        before.set(at, existsSync(at) ? readFileSync(at, 'utf8') : null);
        mkdirSync(path.dirname(at), { recursive: true });
        writeFileSync(at, text);
      }
      check();
    } finally {
      for (const [at, text] of before) {
        if (text === null) rmSync(at);
        else writeFileSync(at, text);
      }
      rmSync(path.join(tree, features, 'newcomer'), { recursive: true, force: true });
    }
  };
  beforeAll(() => {
    tree = mkdtempSync(path.join(tmpdir(), 'check-imports-'));
    cpSync(path.join(repo, 'packages/server/src'), path.join(tree, 'packages/server/src'), { recursive: true });
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  it('passes the repository as it is, and the copy before anything is planted', () => {
    expect(checkImports(repo)).toEqual([]);
    expect(checkImports(tree)).toEqual([]);
  });

  it('places every feature once', () => {
    const all = FEATURE_ORDER.flat();
    expect(new Set(all).size).toBe(all.length);
  });

  it('fails an import that skips an entry point, an upward one, a peer and infrastructure reaching a feature', () => {
    withPlants(
      {
        // messages may use channels (below it), but only through channels/index.ts.
        [`${features}/messages/planted-private.ts`]:
          "import { loadChannel } from '../channels/access.js';\nexport const a = loadChannel;\n",
        // audit is at the bottom: admin is above it.
        [`${features}/audit/planted-up.ts`]:
          "import { adminRoutes } from '../admin/index.js';\nexport const b = adminRoutes;\n",
        // polls and reads share a line: peers.
        [`${features}/polls/planted-peer.ts`]:
          "import { readRoutes } from '../reads/index.js';\nexport const c = readRoutes;\n",
        // A test may reach a private file of a lower feature, but not import upward.
        [`${features}/channels/planted-ok.test.ts`]:
          "import { presentUser } from '../users/present.js';\nexport const d = presentUser;\n",
        [`${features}/users/planted-up.test.ts`]:
          "import { sendMessage } from '../messages/actions.js';\nexport const e = sendMessage;\n",
        ['packages/server/src/realtime/planted.ts']:
          "import type { ChannelRow } from '../features/channels/index.js';\nexport type F = ChannelRow;\n",
      },
      () => {
        const problems = checkImports(tree);
        const about = (file) => problems.filter((p) => p.startsWith(file));
        expect(about(`${features}/messages/planted-private.ts`)).toEqual([
          `${features}/messages/planted-private.ts: imports features/channels/access.ts: another feature is imported only through its entry point, features/channels/index.ts`,
        ]);
        expect(about(`${features}/audit/planted-up.ts`)).toEqual([
          `${features}/audit/planted-up.ts: imports features/admin: audit may import only features below it in FEATURE_ORDER, and admin is above it (docs/architecture.md)`,
        ]);
        expect(about(`${features}/polls/planted-peer.ts`)).toEqual([
          `${features}/polls/planted-peer.ts: imports features/reads: polls may import only features below it in FEATURE_ORDER, and reads is its peer (docs/architecture.md)`,
        ]);
        expect(about(`${features}/channels/planted-ok.test.ts`)).toEqual([]);
        expect(about(`${features}/users/planted-up.test.ts`)).toEqual([
          `${features}/users/planted-up.test.ts: imports features/messages: users may import only features below it in FEATURE_ORDER, and messages is above it (docs/architecture.md)`,
        ]);
        expect(about('packages/server/src/realtime/planted.ts')).toEqual([
          'packages/server/src/realtime/planted.ts: imports features/channels/index.ts: infrastructure (platform/, realtime/) must not import features',
        ]);
        expect(problems).toHaveLength(5);
      },
    );
  });

  it('fails a feature with no entry point or no place in the order, and a stale known upward import', () => {
    withPlants({ [`${features}/newcomer/actions.ts`]: 'export const g = 1;\n' }, () => {
      const problems = checkImports(tree, { knownUpward: [...KNOWN_UPWARD, 'admin>audit'] });
      expect(problems).toEqual([
        `${features}/newcomer: not in FEATURE_ORDER (scripts/check-imports.mjs): place it`,
        `${features}/newcomer: has no entry point (index.ts)`,
        'KNOWN_UPWARD (scripts/check-imports.mjs) lists admin>audit, which is no longer imported upward: remove it',
      ]);
    });
  });

  it('finds a cycle made through entry points, naming the files that form it', () => {
    const read = (file) => readFileSync(path.join(tree, features, file), 'utf8');
    withPlants(
      {
        [`${features}/audit/cyc.ts`]: "import { cycB } from '../jobs/index.js';\nexport const cycA = () => cycB;\n",
        [`${features}/audit/index.ts`]: `${read('audit/index.ts')}export { cycA } from './cyc.js';\n`,
        [`${features}/jobs/cyc.ts`]: "import { cycA } from '../audit/index.js';\nexport const cycB = () => cycA;\n",
        [`${features}/jobs/index.ts`]: `${read('jobs/index.ts')}export { cycB } from './cyc.js';\n`,
      },
      () => {
        // The two are peers: allowed here, so that the cycle is the one problem left.
        const problems = checkImports(tree, { knownUpward: [...KNOWN_UPWARD, 'audit>jobs', 'jobs>audit'] });
        expect(problems).toEqual([`import cycle: ${features}/audit/cyc.ts ⇄ ${features}/jobs/cyc.ts`]);
      },
    );
  });
});
