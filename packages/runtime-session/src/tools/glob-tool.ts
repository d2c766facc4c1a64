/**
 * `glob`: files of the work directory matching a pattern, newest first (ties by path), at most
 * 200. Node 20 has no `fs.glob` (the official tool's), so tinyglobby walks, never following
 * symlinks; a match whose real path leaves the search root is dropped.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { ToolError, type SessionTool } from './session-tool.js';
import { GLOB_RESULT_LIMIT, WALK_MAX_DEPTH, WALK_SKIPPED } from './tool-limits.js';
import { parseToolInput } from './tool-input.js';
import { confine, isWithin } from './workdir-paths.js';

const Input = z.object({ pattern: z.string().min(1, 'is required'), path: z.string().min(1).optional() });
type GlobInput = z.infer<typeof Input>;

export function globTool(workdir: string): SessionTool<GlobInput> {
  return {
    name: 'glob',
    description: 'Match files under the workdir against a glob pattern. Results are mtime-sorted, newest first.',
    inputSchema: { type: 'object', properties: { pattern: { type: 'string' }, path: { type: 'string', description: 'Directory to search in. Defaults to the workdir.' } }, required: ['pattern'] },
    parse: (input) => parseToolInput('glob', Input, input),
    async run({ pattern, path }, ctx) {
      if (isAbsolute(pattern)) throw new ToolError('glob: absolute pattern not permitted; pass a relative pattern (and optionally path)');
      if (pattern.split(/[\\/{},]/).includes('..')) throw new ToolError('glob: ".." is not permitted in the pattern');
      const root = path === undefined ? await realpath(workdir) : await confine(workdir, path);
      let found: string[];
      try {
        found = await glob(pattern, {
          cwd: root,
          absolute: true,
          onlyFiles: true,
          followSymbolicLinks: false,
          deep: WALK_MAX_DEPTH,
          expandDirectories: false,
          ignore: WALK_SKIPPED.map((name) => `**/${name}/**`),
          signal: ctx.signal,
        });
      } catch (error) {
        throw new ToolError(`glob: ${error instanceof Error ? error.message : String(error)}`);
      }
      const matches: { path: string; mtime: number }[] = [];
      for (const file of found) {
        const real = await realpath(file).catch(() => null);
        if (real === null || !isWithin(root, real)) continue;
        matches.push({ path: file, mtime: (await stat(file).catch(() => null))?.mtimeMs ?? 0 });
      }
      if (matches.length === 0) return 'no matches';
      matches.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      return matches
        .slice(0, GLOB_RESULT_LIMIT)
        .map((match) => match.path)
        .join('\n');
    },
  };
}
