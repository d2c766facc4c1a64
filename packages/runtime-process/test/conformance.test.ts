/**
 * The process runtime against core's shared adapter suite, with a real Node program per sandbox
 * that obeys each item's `metadata.conformance`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runtimeConformance } from '@envworker/core/conformance';
import { processRuntime } from '../src/index.js';
import { groupRunning } from '@envworker/core';
import { CONFORMANCE_PROGRAM } from './support/harness.js';

const stateDir = mkdtempSync(join(tmpdir(), 'envworker-process-conformance-state-'));

afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

runtimeConformance({
  name: 'process',
  makeRuntime: () => processRuntime({ command: [process.execPath, CONFORMANCE_PROGRAM], stateDir }),
  isRunning: (sandbox) => groupRunning(Number(sandbox.id)),
  timeoutMs: 10_000,
});
