/**
 * The worker-thread runtime against the shared adapter suite of `@envworker/core/conformance`:
 * exit codes, stop with grace, kill, one exit, aborted starts, the work directory, and exactly the
 * `--on-work` environment and the work item on standard input.
 */
import { runtimeConformance } from '@envworker/core/conformance';
import { workerThreadRuntime } from '../src/worker-thread-runtime.js';

runtimeConformance({
  name: 'worker-thread',
  makeRuntime: () => workerThreadRuntime({ program: new URL('../src/programs/conformance.mjs', import.meta.url) }),
});
