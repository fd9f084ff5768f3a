/**
 * @parley/conformance: Parley's conformance kit (scenarios in scenarios/, README.md) and its
 * runner. The `parley-conformance` bin runs it from a command line; this entry runs it from code.
 */
export { Adapter, AdapterError } from './adapter.js';
export { ConformanceError, type ConformanceOptions, ConformanceUsageError, conformance } from './command.js';
export { main } from './main.js';
export type { Json } from './match.js';
export {
  KIT,
  type Kit,
  loadKit,
  loadScenarios,
  type Outcome,
  runKit,
  runSdk,
  runWire,
  type Scenario,
  StepFailure,
  type Target,
} from './run.js';
