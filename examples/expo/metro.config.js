// Metro for this example inside the Parley repository. The Parley packages (@parley/react-native,
// @parley/client, @parley/protocol) come from the repository's workspace, built by its `npm ci`;
// everything else from this app's own node_modules, with its own lockfile: React 19.2.3 and
// React Native 0.86.3, as Expo SDK 57 pairs them (the workspace itself is on React 19.3).
// In your own app you install @parley/react-native from npm and need none of this.
const path = require('node:path');
const { getDefaultConfig } = require('expo/metro-config');

const app = __dirname;
const repo = path.resolve(app, '../..');
const config = getDefaultConfig(app);

config.watchFolders = [path.join(repo, 'packages'), path.join(repo, 'node_modules')];
config.resolver.nodeModulesPaths = [path.join(app, 'node_modules'), path.join(repo, 'node_modules')];

// One React and one React Native in the bundle, the app's: a file of the repository would
// otherwise find the workspace's copies by walking up from where it is.
const OWN = /^(react|react-native|react-dom|scheduler)(\/.*)?$/;
const entry = path.join(app, 'index.ts');
config.resolver.resolveRequest = (context, moduleName, platform) =>
  context.resolveRequest(
    OWN.test(moduleName) ? { ...context, originModulePath: entry } : context,
    moduleName,
    platform,
  );

module.exports = config;
