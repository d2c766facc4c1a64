/**
 * Running one tool call: the tool's `parse` of the input, then `run` under a per-call signal that
 * aborts on the tool's timeout or when the session's caller ends the call (a stop of the work
 * item, or the end of the session). A tool that does not return soon after its signal is
 * abandoned, so one tool that ignores its signal cannot hold a session (or a stop) forever.
 */
import type { Clock } from '@envworker/core';
import { ToolError, type SessionTool, type ToolContext, type ToolResultBlock } from '../tools/session-tool.js';
import type { ToolCall } from './session-events.js';
import { errorContent, resultContent } from './tool-result.js';

/** The official runner's per-call timeout, for tools that set none. */
export const DEFAULT_TOOL_TIMEOUT_MS = 120_000;
/** How long a tool may take to return after its signal aborted, before it is abandoned. */
export const ABANDON_GRACE_MS = 5_000;

/** How a call ended. */
export type CallEnding = 'ok' | 'error' | 'timeout' | 'cancelled';

export interface CallOutcome {
  readonly isError: boolean;
  readonly content: ToolResultBlock[];
  readonly ending: CallEnding;
}

/** The reason a call's signal carries when its timeout passed. */
export class ToolTimeout extends Error {
  override readonly name = 'ToolTimeout';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

export interface CallExecutionInput {
  readonly tool: SessionTool;
  readonly call: ToolCall;
  /** The context of the call, but its signal, which this makes. */
  readonly context: Omit<ToolContext, 'signal'>;
  /** Aborts the call from outside (a stop, the session's end); its reason says why. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Credentials to scrub from any text of the result. */
  readonly secrets: readonly string[];
}

/** Runs the call; never throws. */
export async function executeCall(input: CallExecutionInput): Promise<CallOutcome> {
  const { tool, call, clock, secrets } = input;
  let parsed: unknown;
  try {
    parsed = tool.parse(call.input);
  } catch (error) {
    return { isError: true, content: errorContent(error, secrets), ending: 'error' };
  }
  const controller = new AbortController();
  const fromOutside = (): void => controller.abort(input.signal.reason);
  if (input.signal.aborted) fromOutside();
  else input.signal.addEventListener('abort', fromOutside, { once: true });
  const timeoutMs = tool.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const timer = clock.setTimeout(() => controller.abort(new ToolTimeout(timeoutMs)), timeoutMs);
  let abandonTimer: ReturnType<Clock['setTimeout']> | undefined;
  const abandoned = new Promise<'abandoned'>((resolve) => {
    const startGrace = (): void => {
      abandonTimer = clock.setTimeout(() => resolve('abandoned'), ABANDON_GRACE_MS);
    };
    if (controller.signal.aborted) startGrace();
    else controller.signal.addEventListener('abort', startGrace, { once: true });
  });
  try {
    const running = Promise.resolve()
      .then(() => tool.run(parsed, { ...input.context, signal: controller.signal }))
      .then(
        (output) => ({ output }),
        (error: unknown) => ({ error }),
      );
    const settled = await Promise.race([running, abandoned]);
    const ending = endingOf(controller.signal);
    if (settled === 'abandoned') {
      return { isError: true, content: [{ type: 'text', text: `${tool.name}: ${reasonText(controller.signal)}; it did not return within ${ABANDON_GRACE_MS} ms of that and was abandoned` }], ending: ending ?? 'cancelled' };
    }
    if ('output' in settled) return { isError: false, content: resultContent(settled.output, secrets), ending: 'ok' };
    if (ending !== null && !(settled.error instanceof ToolError)) {
      return { isError: true, content: [{ type: 'text', text: `${tool.name}: ${reasonText(controller.signal)}` }], ending };
    }
    return { isError: true, content: errorContent(settled.error, secrets), ending: ending ?? 'error' };
  } finally {
    clock.clearTimeout(timer);
    if (abandonTimer !== undefined) clock.clearTimeout(abandonTimer);
    input.signal.removeEventListener('abort', fromOutside);
  }
}

/** `timeout` or `cancelled` once the call's signal aborted, else `null`. */
function endingOf(signal: AbortSignal): CallEnding | null {
  if (!signal.aborted) return null;
  return signal.reason instanceof ToolTimeout ? 'timeout' : 'cancelled';
}

function reasonText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof ToolTimeout) return reason.message;
  return `cancelled: ${reason instanceof Error ? reason.message : 'the call was ended'}`;
}
