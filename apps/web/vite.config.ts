/**
 * The web app's build: `npm run build -w @parley/web` writes apps/web/dist, which
 * `parley start` serves at `/`. In development (`npm run dev -w @parley/web`), API and
 * WebSocket calls go to a Parley server on PARLEY_URL (default http://127.0.0.1:3000).
 */
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

const target = process.env.PARLEY_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
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
