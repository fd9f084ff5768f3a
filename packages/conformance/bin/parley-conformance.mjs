#!/usr/bin/env node
// `parley-conformance` (`npx @parley/conformance`): the built JavaScript in dist/. In the
// repository, Node run with `--conditions=@parley/source --import tsx` runs the TypeScript
// sources instead, as the tests do.
const wantsSource = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('@parley/source'));
const { main } = await import(wantsSource ? '../src/main.ts' : '../dist/main.js');
process.exitCode = await main(process.argv.slice(2));
