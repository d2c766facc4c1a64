/**
 * @envworker/core/conformance: the shared test suite of runtime adapters, and what it needs (spec
 * builder, the conformance behaviours, the reference program). A separate entry so that importing
 * `@envworker/core` never loads vitest.
 */
export { runtimeConformance, type RuntimeConformanceOptions } from './runtime-conformance.js';
export {
  makeSpec,
  recordingLogSink,
  type MakeSpecOptions,
  type TestSandboxSpec,
  type RecordingLogSink,
  type LoggedLine,
} from './make-spec.js';
export {
  parseConformanceBehaviour,
  conformanceEchoLine,
  parseConformanceEchoLine,
  CONFORMANCE_READY_LINE,
  CONFORMANCE_ECHO_PREFIX,
  CONFORMANCE_CANARY_VARIABLE,
  type ConformanceBehaviour,
  type ConformanceEcho,
} from './behaviour.js';
export { conformanceFunction } from './conformance-function.js';
export { within } from './within.js';
export { runReadmeExample } from './readme-example.js';
