/**
 * The tool interface of the session runtime: what a tool is (a name, a description, the JSON
 * schema of its input, a parser of that input, and `run`), what `run` is given, and what it
 * returns. The agent toolset (bash, read, write, edit, glob, grep) and a host's custom tools are
 * all `SessionTool`s; the runner does not tell them apart except by the event that called them.
 */
import type { Logger } from '@envworker/core';

/** One block of a tool result, as the Sessions API takes it (`user.tool_result.content`). */
export type ToolResultBlock =
  | { readonly type: 'text'; readonly text: string }
  | {
      readonly type: 'image';
      readonly source:
        | { readonly type: 'base64'; readonly media_type: string; readonly data: string }
        | { readonly type: 'url'; readonly url: string };
    };

/** What `run` resolves with: text (one text block), or blocks. */
export type ToolOutput = string | readonly ToolResultBlock[];

/** A JSON schema of a tool's input: always an object schema, as the API requires. */
export interface ToolInputSchema {
  readonly type: 'object';
  readonly properties?: Readonly<Record<string, unknown>>;
  readonly required?: readonly string[];
  readonly [keyword: string]: unknown;
}

/** What a tool's `run` is given besides its input. */
export interface ToolContext {
  /**
   * Aborts when the call must end: its timeout passed, the work item is being stopped, or the
   * session ended. A tool must return (or throw) soon after; its process children must be gone.
   */
  readonly signal: AbortSignal;
  /** The work item's work directory (absolute): the root the file tools are confined to. */
  readonly workdir: string;
  readonly sessionId: string;
  readonly workId: string;
  /** The `agent.tool_use` / `agent.custom_tool_use` event's id, which its result answers. */
  readonly toolUseId: string;
  /** A logger bound to the session and the call; it scrubs the item's credentials. */
  readonly logger: Logger;
}

/**
 * A tool the runner can call. Tool calls of one session run one at a time, in the order the
 * session asked for them; calls of different sessions run concurrently, so a tool must keep no
 * global mutable state and must never block the event loop (no sync I/O, no CPU-heavy work on
 * the main thread: every other session's heartbeat shares it).
 *
 * @example
 * ```ts
 * const deploy: SessionTool<{ service: string }> = {
 *   name: 'deploy',
 *   description: 'Deploy a service by name.',
 *   inputSchema: { type: 'object', properties: { service: { type: 'string' } }, required: ['service'] },
 *   parse: (input) => {
 *     const service = (input as { service?: unknown } | null)?.service;
 *     if (typeof service !== 'string') throw new ToolError('deploy: service: must be a string');
 *     return { service };
 *   },
 *   run: async ({ service }, ctx) => `deployed ${service} for session ${ctx.sessionId}`,
 * };
 * ```
 */
export interface SessionTool<Input = unknown> {
  /** The name the agent calls it by (`bash`, `read`, or a custom tool's name). */
  readonly name: string;
  readonly description: string;
  readonly inputSchema: ToolInputSchema;
  /**
   * Checks the input the server sent (untrusted JSON) and returns it typed; throws a
   * {@link ToolError} whose text names the field at fault, which becomes the error result.
   */
  parse(input: unknown): Input;
  /** Runs the call. A {@link ToolError} becomes an error result with its content; any other throw, `Error: <message>`. */
  run(input: Input, ctx: ToolContext): Promise<ToolOutput>;
  /** Longest a call may run before its signal aborts; default 120 000 ms (the official runner's). */
  readonly timeoutMs?: number;
  /** Releases what the tool holds (a shell), once the session is over; called once. */
  close?(): Promise<void> | void;
}

/** A tool call that failed in a way the agent should read: its content becomes the error result. */
export class ToolError extends Error {
  override readonly name = 'ToolError';
  readonly content: ToolOutput;

  constructor(content: ToolOutput) {
    super(typeof content === 'string' ? content : content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join(' '));
    this.content = content;
  }
}
