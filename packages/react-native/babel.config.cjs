// Jest compiles the tests, this package and the SDK's TypeScript sources with React Native's own preset.
module.exports = { presets: ['module:@react-native/babel-preset'] };
