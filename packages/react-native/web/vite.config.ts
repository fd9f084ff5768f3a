/**
 * The React Native kit rendered by react-native-web, for its Chromium test and the screenshots of
 * docs/react-native.md: `react-native` is aliased to `react-native-web`, the kit and the SDK are
 * read from their sources. A Parley server serves the build (as it serves the web app), so the
 * page talks to that server.
 */
import { defaultClientConditions, defineConfig } from 'vite';

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: './',
  resolve: {
    alias: { 'react-native': 'react-native-web' },
    conditions: ['@parley/source', ...defaultClientConditions],
    extensions: ['.web.tsx', '.web.ts', '.web.js', '.tsx', '.ts', '.mjs', '.js', '.jsx', '.json'],
  },
  define: { __DEV__: 'false' },
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2_000 },
});
