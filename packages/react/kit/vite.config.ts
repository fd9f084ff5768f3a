/**
 * The kit's catalogue (`npm run build:kit -w @parley/react`): a static page of stories, one per
 * component and state, built with the repo's own Vite from the kit's sources. A Parley server
 * serves it (as it serves the web app) so its stories talk to that server: see kit/README.md.
 */
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  plugins: [react()],
  resolve: { conditions: ['@parley/source', ...defaultClientConditions] },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2_000 },
});
