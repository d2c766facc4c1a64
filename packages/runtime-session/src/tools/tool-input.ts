/**
 * Parsing a tool's input, which comes from the model through the server: untrusted JSON. A zod
 * schema per tool checks the fields it knows (extra ones are ignored, as models add some); the
 * first problem becomes a `ToolError` naming the tool and the field: `read: file_path: expected a string`.
 */
import type { z } from 'zod';
import { ToolError } from './session-tool.js';

/** Parses `input` with `schema`, or throws a {@link ToolError} naming `tool` and the field. */
export function parseToolInput<S extends z.ZodType>(tool: string, schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? 'input' : issue.path.map(String).join('.');
  throw new ToolError(`${tool}: ${path}: ${issue?.message ?? 'invalid'}`);
}
