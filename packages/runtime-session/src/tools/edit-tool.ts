/** `edit`: replaces a unique string of a file (or every occurrence with `replace_all`), atomically. */
import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { atomicWrite } from './atomic-write.js';
import { ToolError, type SessionTool } from './session-tool.js';
import { parseToolInput } from './tool-input.js';
import { confine, fsErrorMessage } from './workdir-paths.js';

const Input = z.object({
  file_path: z.string().min(1, 'is required'),
  old_string: z.string().min(1, 'is required'),
  new_string: z.string().optional(),
  replace_all: z.boolean().optional(),
});
type EditInput = z.infer<typeof Input>;

/** The edit of `text`, or the reason it cannot be made (`not found`, `appears N times`). */
export function applyEdit(text: string, oldString: string, newString: string, replaceAll: boolean): { text: string; count: number } | { problem: 'not_found' } | { problem: 'not_unique'; count: number } {
  const count = text.split(oldString).length - 1;
  if (count === 0) return { problem: 'not_found' };
  if (count > 1 && !replaceAll) return { problem: 'not_unique', count };
  return { text: replaceAll ? text.split(oldString).join(newString) : text.replace(oldString, () => newString), count };
}

export function editTool(workdir: string, maxFileBytes: number | null): SessionTool<EditInput> {
  return {
    name: 'edit',
    description: 'Replace an exact string in a file. old_string must be unique unless replace_all is set.',
    inputSchema: {
      type: 'object',
      properties: { file_path: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' }, replace_all: { type: 'boolean' } },
      required: ['file_path', 'old_string', 'new_string'],
    },
    parse: (input) => parseToolInput('edit', Input, input),
    async run({ file_path, old_string, new_string = '', replace_all = false }) {
      const path = await confine(workdir, file_path);
      let text: string;
      try {
        const stats = await stat(path);
        if (!stats.isFile()) throw new ToolError(`edit: ${file_path} is not a regular file`);
        if (maxFileBytes !== null && stats.size > maxFileBytes) throw new ToolError(`edit: ${file_path} is ${stats.size} bytes, exceeds ${maxFileBytes}-byte limit.`);
        text = await readFile(path, 'utf8');
      } catch (error) {
        if (error instanceof ToolError) throw error;
        throw new ToolError(`edit: ${fsErrorMessage(error, file_path)}`);
      }
      const edit = applyEdit(text, old_string, new_string, replace_all);
      if ('problem' in edit) {
        throw new ToolError(edit.problem === 'not_found' ? `edit: old_string not found in ${file_path}` : `edit: old_string appears ${edit.count} times in ${file_path} (must be unique)`);
      }
      try {
        await atomicWrite(path, edit.text);
      } catch (error) {
        throw new ToolError(`edit: write: ${fsErrorMessage(error, file_path)}`);
      }
      return `edited ${file_path} (${replace_all ? edit.count : 1} replacement(s))`;
    },
  };
}
