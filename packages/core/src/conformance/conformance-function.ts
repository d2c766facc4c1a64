/**
 * The reference conformance program: a work function that obeys `metadata.conformance`. The
 * function runtime runs the suite with it; other adapters' programs behave the same way.
 */
import type { WorkFunction } from '../runtime/function-runtime.js';
import { CONFORMANCE_READY_LINE, conformanceEchoLine, parseConformanceBehaviour } from './behaviour.js';

/**
 * Interprets `work.metadata.conformance` (see {@link parseConformanceBehaviour}).
 *
 * @example
 * ```ts
 * runtimeConformance({ name: 'function', makeRuntime: () => functionRuntime(conformanceFunction) });
 * ```
 */
export const conformanceFunction: WorkFunction = async (work, ctx) => {
  const behaviour = parseConformanceBehaviour(work.metadata['conformance']);
  switch (behaviour.kind) {
    case 'exit':
      return behaviour.code;
    case 'echo':
      ctx.write(conformanceEchoLine(ctx.env, ctx.stdin));
      return 0;
    case 'trap':
    case 'sleep': {
      const stopped = abortOf(ctx.signal);
      ctx.write(CONFORMANCE_READY_LINE);
      await stopped;
      return behaviour.kind === 'trap' ? behaviour.code : 0;
    }
    case 'ignore':
      ctx.write(CONFORMANCE_READY_LINE);
      // Never settles: only kill() ends this sandbox, and the runtime then abandons the function.
      return new Promise<never>(() => undefined);
  }
};

function abortOf(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
