/**
 * Builds the `SandboxSpec` of one work item the way the worker does, so that adapters, the
 * conformance suite and the worker all hand sandboxes the same thing.
 */
import { isAbsolute } from 'node:path';
import { buildOnWorkEnvironment, type OnWorkEnvironmentInput } from './on-work-environment.js';
import type { SandboxLogSink, SandboxSpec } from './sandbox-runtime.js';

/** What {@link buildSandboxSpec} needs: the `--on-work` inputs plus where the item runs. */
export interface SandboxSpecInput extends OnWorkEnvironmentInput {
  /** The id of the worker that holds the lease. */
  readonly workerId: string;
  /** The item's work directory; an absolute path that the adapter creates fresh. */
  readonly workdir: string;
  /** Where the sandbox's output goes. */
  readonly log: SandboxLogSink;
}

/**
 * Builds a sandbox spec: the `--on-work` environment, and on standard input the work item as
 * polled, as one JSON line. Throws a `TypeError` naming the field when an input is unusable.
 */
export function buildSandboxSpec(input: SandboxSpecInput): SandboxSpec {
  if (typeof input.workerId !== 'string' || input.workerId.length === 0) {
    throw new TypeError('workerId must be a non-empty string');
  }
  if (typeof input.workdir !== 'string' || !isAbsolute(input.workdir)) {
    throw new TypeError(`workdir must be an absolute path, got ${JSON.stringify(input.workdir)}`);
  }
  const env = buildOnWorkEnvironment(input);
  return {
    work: input.work,
    workerId: input.workerId,
    env,
    stdin: `${JSON.stringify(input.work)}\n`,
    workdir: input.workdir,
    log: input.log,
  };
}
