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

  // The whole repository is checked by `npm run check` itself (parsing every file of every
  // package takes seconds); here the copy of the server's sources.
  it('passes the copy before anything is planted', () => {
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

  it('reads every form of import: each planted form that skips an entry point is named', () => {
    // One file per form, each reaching channels/access.ts past channels' entry point. A form the
    // reader missed would leave its file out of the problems.
    const reach = "'../channels/access.js'";
    const forms = {
      static: `import { loadChannel } from ${reach};\nexport const a = loadChannel;\n`,
      default: `import access from ${reach};\nexport const a = access;\n`,
      namespace: `import * as access from ${reach};\nexport const a = access;\n`,
      'side-effect': `import ${reach};\n`,
      'type-only': `import type { ChannelRow } from ${reach};\nexport type A = ChannelRow;\n`,
      'inline-type': `import { type ChannelRow } from ${reach};\nexport type A = ChannelRow;\n`,
      'export-from': `export { loadChannel } from ${reach};\n`,
      'export-renamed': `export { loadChannel as load } from ${reach};\n`,
      'export-type-from': `export type { ChannelRow } from ${reach};\n`,
      'export-star': `export * from ${reach};\n`,
      'export-star-as': `export * as access from ${reach};\n`,
      dynamic: `export const a = () => import(${reach});\n`,
      'dynamic-template': 'export const a = async () => (await import(`../channels/access.js`)).loadChannel;\n',
      'dynamic-in-class': `export class A {\n  async m() {\n    return import(/* a comment */ ${reach});\n  }\n}\n`,
      require: `declare const require: (s: string) => unknown;\nexport const a = require(${reach});\n`,
      'import-equals': `import access = require(${reach});\nexport const a = access;\n`,
      'type-import': `export type A = import(${reach}).ChannelRow;\n`,
      'jsx-static': `import { loadChannel } from ${reach};\nexport const A = () => <div>{String(loadChannel)}</div>;\n`,
      'jsx-dynamic': `export const A = () => <button onClick={() => import(${reach})}>go</button>;\n`,
    };
    const file = (form) => `${features}/messages/planted-${form}.${form.startsWith('jsx') ? 'tsx' : 'ts'}`;
    withPlants(Object.fromEntries(Object.entries(forms).map(([form, text]) => [file(form), text])), () => {
      const problems = checkImports(tree);
      for (const form of Object.keys(forms))
        expect(problems, form).toContain(
          `${file(form)}: imports features/channels/access.ts: another feature is imported only through its entry point, features/channels/index.ts`,
        );
      expect(problems).toHaveLength(Object.keys(forms).length);
    });
  });

  it('ignores what only looks like an import, and refuses a module named by an expression', () => {
    withPlants(
      {
        // In a string, a comment or a template's text: no import at all.
        [`${features}/messages/planted-text.ts`]: [
          "// import '../channels/access.js';",
          "/* export * from '../channels/access.js'; */",
          'export const code = "import(\'../channels/access.js\')";',
          "export const more = `require('../channels/access.js')`;",
          '',
        ].join('\n'),
        [`${features}/messages/planted-computed.ts`]:
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the planted file's own template
          "const name = 'access';\nexport const a = () => import(`../channels/${name}.js`);\n",
        [`${features}/messages/planted-computed-require.ts`]:
          'declare const require: (s: string) => unknown;\nexport const a = (n: string) => require(n);\n',
        // Another package imported by any form is refused like a static import.
        ['packages/server/src/planted-package.ts']: "export const a = () => import('@parley/react');\n",
      },
      () => {
        expect(checkImports(tree)).toEqual([
          `${features}/messages/planted-computed-require.ts:2: imports a module named by an expression, which cannot be checked: name it with a plain string`,
          `${features}/messages/planted-computed.ts:2: imports a module named by an expression, which cannot be checked: name it with a plain string`,
          'packages/server/src/planted-package.ts: server must not import @parley/react',
        ]);
      },
    );
  });

  it('finds a cycle closed by a side-effect import and one closed by a dynamic import', () => {
    withPlants(
      {
        [`${features}/audit/cyc-a.ts`]: "import './cyc-b.js';\nexport const a = 1;\n",
        [`${features}/audit/cyc-b.ts`]: "export const b = () => import('./cyc-a.js');\n",
      },
      () => {
        expect(checkImports(tree)).toEqual([`import cycle: ${features}/audit/cyc-a.ts ⇄ ${features}/audit/cyc-b.ts`]);
      },
    );
  });

  it('fails a package a light entry loads at once, through the files it reaches, and not one it loads late', () => {
    const db = 'packages/server/src/platform/db';
    withPlants(
      {
        [`${db}/copy-tree.ts`]: [
          "import type { Pool } from 'pg';",
          "import { type Job } from 'pg-boss';",
          "import { reach } from './planted-reach.js';",
          "export const late = () => import('ioredis');",
          'export const needsCopy = (p: Pool, j: Job) => reach(p, j);',
          '',
        ].join('\n'),
        [`${db}/planted-reach.ts`]: "import 'node:fs';\nexport * from 'undici';\nexport const reach = () => 1;\n",
      },
      () => {
        const chain = `${db}/data-folder.ts → ${db}/copy-tree.ts`;
        const rule = `${db}/data-folder.ts must load only node's built-ins and drizzle-orm/migrator, drizzle-orm/node-postgres/migrator, drizzle-orm/pglite/migrator`;
        const fix = 'import it type-only, or with import() where it is needed';
        expect(checkImports(tree)).toEqual([
          `${db}/copy-tree.ts:2: loads pg-boss at once, and ${rule} (LIGHT_ENTRIES; through ${chain}): ${fix}`,
          `${db}/planted-reach.ts:2: loads undici at once, and ${rule} (LIGHT_ENTRIES; through ${chain} → ${db}/planted-reach.ts): ${fix}`,
        ]);
      },
    );
  });

  it('fails a workspace package with sources that no rule checks', () => {
    withPlants(
      {
        'package.json': JSON.stringify({ workspaces: ['packages/server', 'packages/newcomer', 'packages/bin-only'] }),
        'packages/newcomer/src/index.ts': "import { x } from '@parley/server';\nexport const y = x;\n",
        'packages/bin-only/bin/run.mjs': '\n',
      },
      () => {
        expect(checkImports(tree)).toEqual([
          'packages/newcomer: a workspace package with src/ that scripts/check-imports.mjs does not check: add it to roots and allowed',
        ]);
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
