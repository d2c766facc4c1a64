/** `write`: creates or replaces a file of the work directory, atomically. */
import { z } from 'zod';
import { atomicWrite } from './atomic-write.js';
import { ToolError, type SessionTool } from './session-tool.js';
import { parseToolInput } from './tool-input.js';
import { confine, fsErrorMessage } from './workdir-paths.js';

const Input = z.object({ file_path: z.string().min(1, 'is required'), content: z.string().optional() });
type WriteInput = z.infer<typeof Input>;

export function writeTool(workdir: string): SessionTool<WriteInput> {
  return {
    name: 'write',
    description: 'Write (create or overwrite) a UTF-8 text file relative to the workdir.',
    inputSchema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } }, required: ['file_path', 'content'] },
    parse: (input) => parseToolInput('write', Input, input),
    async run({ file_path, content = '' }) {
      const path = await confine(workdir, file_path);
      try {
        await atomicWrite(path, content);
      } catch (error) {
        throw new ToolError(`write: ${fsErrorMessage(error, file_path)}`);
      }
      return `wrote ${Buffer.byteLength(content)} bytes to ${file_path}`;
    },
  };
}
