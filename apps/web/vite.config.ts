/**
 * The web app's build: `npm run build -w @parley/web` writes apps/web/dist, which
 * `parley start` serves at `/`. In development (`npm run dev -w @parley/web`), API and
 * WebSocket calls go to a Parley server on PARLEY_URL (default http://127.0.0.1:3000).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';

const target = process.env.PARLEY_URL ?? 'http://127.0.0.1:3000';

/**
 * The service worker (src/sw.js), written to dist/sw.js with the build's own files to cache and
 * a version made from their names: a new build is a new worker, which caches all of that build
 * when it installs (so the installed app opens offline, lazily loaded chunks included) and drops
 * the older builds' caches. Written after the bundle, when every file's final name is known. A
 * hand-written worker of 150 lines rather than a generator (Workbox): it also handles Web Push.
 */
function serviceWorker(): Plugin {
  return {
    name: 'parley-service-worker',
    apply: 'build',
    writeBundle(options, bundle) {
      const files = Object.keys(bundle)
        .filter((f) => f.startsWith('assets/') && !f.endsWith('.map'))
        .map((f) => `/${f}`)
        .sort();
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      const template = readFileSync(path.join(import.meta.dirname, 'src', 'sw.js'), 'utf8');
      const source = template
        .replace(`['/__PARLEY_FILES__']`, JSON.stringify(files))
        .replace(`'__PARLEY_BUILD__'`, JSON.stringify(version));
      if (source.includes('__PARLEY_')) throw new Error('src/sw.js: the build placeholders were not found');
      writeFileSync(path.join(options.dir ?? 'dist', 'sw.js'), source);
    },
  };
}

export default defineConfig({
  plugins: [react(), serviceWorker()],
  // The workspace packages' TypeScript sources (the `@parley/source` export condition), not
  // their dist/: the dev server reloads on an edit to the kit or the SDK, and the build needs
  // no packages built before it.
  resolve: { conditions: ['@parley/source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One chunk per big dependency group keeps the app's own code small to re-download.
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes('node_modules/react') || id.includes('node_modules/scheduler')) return 'react';
          // The emoji picker's data (~430 KB) loads when the picker first opens, not with the app.
          if (id.includes('node_modules/@emoji-mart/')) return 'emoji';
          if (id.includes('node_modules/')) return 'vendor';
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: {
      '/v1': { target, ws: true, changeOrigin: false },
    },
  },
});
