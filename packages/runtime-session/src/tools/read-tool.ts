/** `read`: a UTF-8 file of the work directory, whole (up to the size cap) or a range of its lines. */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ToolError, type SessionTool } from './session-tool.js';
import { parseToolInput } from './tool-input.js';
import { confine, fsErrorMessage } from './workdir-paths.js';

const Input = z.object({
  file_path: z.string().min(1, 'is required'),
  view_range: z.array(z.number().int()).length(2, 'must be [start_line, end_line]').optional(),
});
type ReadInput = z.infer<typeof Input>;

/** Lines `[start, end]` (1-based, inclusive; `end <= 0`: to the end) of `text`. */
export function lineRange(text: string, start: number, end: number): string {
  const lines = text.split('\n');
  return lines.slice(Math.max(0, start - 1), end > 0 ? end : lines.length).join('\n');
}

export function readTool(workdir: string, maxFileBytes: number | null): SessionTool<ReadInput> {
  return {
    name: 'read',
    description: 'Read a UTF-8 text file relative to the workdir.',
    inputSchema: {
      type: 'object',
      properties: { file_path: { type: 'string' }, view_range: { type: 'array', items: { type: 'integer' }, description: '[start_line, end_line] 1-indexed inclusive' } },
      required: ['file_path'],
    },
    parse: (input) => parseToolInput('read', Input, input),
    async run({ file_path, view_range }) {
      const path = await confine(workdir, file_path);
      try {
        const stats = await stat(path);
        if (!stats.isFile()) throw new ToolError(`read: ${file_path} is not a regular file`);
        if (maxFileBytes !== null && stats.size > maxFileBytes) {
          if (view_range === undefined) {
            throw new ToolError(
              `read: ${file_path} is ${stats.size} bytes, exceeds ${maxFileBytes}-byte limit. Use the view_range parameter to read specific line ranges, e.g. view_range: [1, 500].`,
            );
          }
          return await streamRange(path, file_path, view_range[0] as number, view_range[1] as number, maxFileBytes);
        }
        const text = await readFile(path, 'utf8');
        return view_range === undefined ? text : lineRange(text, view_range[0] as number, view_range[1] as number);
      } catch (error) {
        if (error instanceof ToolError) throw error;
        throw new ToolError(`read: ${fsErrorMessage(error, file_path)}`);
      }
    },
  };
}

/** A range of a file over the cap, read line by line so the whole file is never held. */
async function streamRange(path: string, given: string, start: number, end: number, limit: number): Promise<string> {
  const lines: string[] = [];
  let bytes = 0;
  let number = 0;
  const reader = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  try {
    for await (const line of reader) {
      number += 1;
      if (number < start) continue;
      if (end > 0 && number > end) break;
      bytes += Buffer.byteLength(line) + 1;
      if (bytes > limit) throw new ToolError(`read: view_range [${start}, ${end}] of ${given} exceeds ${limit}-byte limit. Narrow the view_range to read a smaller portion.`);
      lines.push(line);
    }
  } finally {
    reader.close();
  }
  return lines.join('\n');
}
