/**
 * `grep`: lines of the work directory's files matching a regex, `file:line:text`. The search
 * always runs envworker's own walker (never an `rg` from the host, so results do not depend on
 * what the host has installed), on a worker thread per call, at most four at once in the
 * process, ended after 60 s or when the call is cancelled.
 */
import { realpath } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { GREP_WORKER_SOURCE } from './grep-worker-source.js';
import { ToolError, type SessionTool } from './session-tool.js';
import { GREP_MAX_LINE_LENGTH, GREP_MAX_SEARCHES, GREP_OUTPUT_LIMIT, GREP_TIMEOUT_MS, WALK_MAX_DEPTH, WALK_MAX_ENTRIES, WALK_SKIPPED } from './tool-limits.js';
import { parseToolInput } from './tool-input.js';
import { confine } from './workdir-paths.js';

const Input = z.object({ pattern: z.string().min(1, 'is required'), path: z.string().min(1).optional() });
type GrepInput = z.infer<typeof Input>;

/** The searches running in the process, and those waiting for a free slot. */
const slots = { free: GREP_MAX_SEARCHES, waiting: [] as (() => void)[] };

async function takeSlot(signal: AbortSignal): Promise<void> {
  if (slots.free > 0) {
    slots.free -= 1;
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      slots.waiting = slots.waiting.filter((waiter) => waiter !== go);
      reject(new ToolError('grep: aborted'));
    };
    const go = (): void => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    };
    slots.waiting.push(go);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function releaseSlot(): void {
  const next = slots.waiting.shift();
  if (next === undefined) slots.free += 1;
  else next();
}

export function grepTool(workdir: string, timeoutMs: number = GREP_TIMEOUT_MS): SessionTool<GrepInput> {
  return {
    name: 'grep',
    description: 'Search file contents for a regex with a built-in walker.',
    inputSchema: { type: 'object', properties: { pattern: { type: 'string' }, path: { type: 'string' } }, required: ['pattern'] },
    parse: (input) => parseToolInput('grep', Input, input),
    async run({ pattern, path }, ctx) {
      try {
        new RegExp(pattern);
      } catch (error) {
        throw new ToolError(`grep: invalid regex: ${error instanceof Error ? error.message : String(error)}`);
      }
      const root = path === undefined ? await realpath(workdir) : await confine(workdir, path);
      await takeSlot(ctx.signal);
      try {
        return await search(pattern, root, timeoutMs, ctx.signal);
      } finally {
        releaseSlot();
      }
    },
  };
}

function search(pattern: string, root: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(GREP_WORKER_SOURCE, {
      eval: true,
      workerData: { pattern, root, outputLimit: GREP_OUTPUT_LIMIT, maxLineLength: GREP_MAX_LINE_LENGTH, maxEntries: WALK_MAX_ENTRIES, maxDepth: WALK_MAX_DEPTH, skipped: WALK_SKIPPED },
    });
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      void worker.terminate();
      outcome();
    };
    const timer = setTimeout(() => finish(() => reject(new ToolError(`grep: timed out after ${timeoutMs / 1000}s`))), timeoutMs);
    const onAbort = (): void => finish(() => reject(new ToolError('grep: aborted')));
    signal.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (message: { lines?: string[]; truncated?: boolean; error?: string }) =>
      finish(() => {
        if (message.error !== undefined) return reject(new ToolError(`grep: ${message.error}`));
        const lines = message.lines ?? [];
        if (lines.length === 0 && message.truncated !== true) return resolve('no matches');
        resolve(message.truncated === true ? `${lines.join('\n')}\n[output truncated at ${GREP_OUTPUT_LIMIT} bytes]` : lines.join('\n'));
      }),
    );
    worker.once('error', (error) => finish(() => reject(new ToolError(`grep: ${error.message}`))));
  });
}
