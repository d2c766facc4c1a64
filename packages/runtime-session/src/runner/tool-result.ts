/**
 * Turning what a tool returned or threw into the content of its result event, and building that
 * event: `user.tool_result` answers `agent.tool_use`, `user.custom_tool_result` answers
 * `agent.custom_tool_use` (the wrong one would leave the call unanswered and the session stuck).
 */
import { redactSecrets } from '@envworker/core';
import { ToolError, type ToolOutput, type ToolResultBlock } from '../tools/session-tool.js';
import type { CallKind } from './session-events.js';

/** The longest error text a result carries (a thrown error may embed a page of text). */
const MAX_ERROR_CHARS = 4096;

/** The content blocks of a result; an empty text becomes `(no output)`, as the official runner sends. */
export function resultContent(output: ToolOutput, secrets: readonly string[]): ToolResultBlock[] {
  const blocks: readonly ToolResultBlock[] = typeof output === 'string' ? [{ type: 'text', text: output }] : output;
  const content = blocks.map((block): ToolResultBlock =>
    block.type === 'text' ? { type: 'text', text: block.text === '' ? '(no output)' : redactSecrets(block.text, secrets) } : block,
  );
  return content.length > 0 ? content : [{ type: 'text', text: '(no output)' }];
}

/** The content of a thrown value: a `ToolError`'s own, otherwise `Error: <message>`, cut and scrubbed. */
export function errorContent(error: unknown, secrets: readonly string[]): ToolResultBlock[] {
  if (error instanceof ToolError) return resultContent(error.content, secrets);
  const message = error instanceof Error ? error.message : String(error);
  return [{ type: 'text', text: redactSecrets(`Error: ${message}`, secrets).slice(0, MAX_ERROR_CHARS) }];
}

/** The result event of a call. */
export type ResultEvent =
  | { readonly type: 'user.tool_result'; readonly tool_use_id: string; readonly is_error: boolean; readonly content: ToolResultBlock[] }
  | { readonly type: 'user.custom_tool_result'; readonly custom_tool_use_id: string; readonly is_error: boolean; readonly content: ToolResultBlock[] };

export function resultEvent(kind: CallKind, id: string, isError: boolean, content: ToolResultBlock[]): ResultEvent {
  return kind === 'custom_tool'
    ? { type: 'user.custom_tool_result', custom_tool_use_id: id, is_error: isError, content }
    : { type: 'user.tool_result', tool_use_id: id, is_error: isError, content };
}
