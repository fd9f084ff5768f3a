#!/usr/bin/env node
// The parley command runs its TypeScript sources through tsx, so no build step stands
// between `npm ci` and `npx parley start`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
