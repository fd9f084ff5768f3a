/**
 * Jest as React Native projects run it: React Native's preset (its native modules mocked, the
 * React Native environment), Testing Library for components. The network is real: the global
 * setup starts a Parley server (`parley start` on a temporary folder) and the tests talk to it
 * over real sockets (`ws`) and `fetch`.
 */
module.exports = {
  preset: '@react-native/jest-preset',
  rootDir: __dirname,
  testMatch: ['<rootDir>/__tests__/**/*.spec.ts?(x)'],
  // The workspace packages' TypeScript sources, as the repository's other tests read them.
  testEnvironmentOptions: { customExportConditions: ['@parley/source', 'require', 'react-native'] },
  // The sources import each other as `./file.js` (ESM rules); here they are `.ts` files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transformIgnorePatterns: [
    'node_modules/(?!((jest-)?react-native|@react-native(-community)?|@react-native-async-storage)/)',
  ],
  globalSetup: '<rootDir>/__tests__/server/global-setup.cjs',
  globalTeardown: '<rootDir>/__tests__/server/global-teardown.cjs',
  testTimeout: 30_000,
};
