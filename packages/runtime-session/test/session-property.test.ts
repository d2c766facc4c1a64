/**
 * Property: for random scripts of tool calls, the results the simulator records from a session
 * served by the worker equal what the same calls give run directly, one after another, on a
 * fresh toolset in a fresh directory. Paths are compared with the work directory replaced by a
 * placeholder, and glob's lines sorted (files written in the same millisecond tie on mtime).
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { createLogger, type ScriptStep } from '@envworker/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentToolset, ToolError, type ToolOutput } from '../src/index.js';
import { ServedWorker } from './support/served-worker.js';

let cp: ControlPlane;
let served: ServedWorker;
const logger = createLogger({ level: 'fatal', destination: { write: () => undefined } });

beforeAll(async () => {
  cp = await startControlPlane();
  served = await ServedWorker.start(cp, 4, { maxIdleMs: 50, keepWorkdir: true });
});

afterAll(async () => {
  await served.close();
  await cp.close();
});

const file = fc.constantFrom('a.txt', 'b.txt', 'dir/c.txt', '../outside.txt');
const words = fc.constantFrom('alpha', 'beta', 'gamma', 'alpha beta');
const step: fc.Arbitrary<ScriptStep> = fc.oneof(
  fc.record({ tool: fc.constant('write'), input: fc.record({ file_path: file, content: words }) }),
  fc.record({ tool: fc.constant('read'), input: fc.record({ file_path: file }) }),
  fc.record({ tool: fc.constant('edit'), input: fc.record({ file_path: file, old_string: words, new_string: words }) }),
  fc.record({ tool: fc.constant('bash'), input: fc.record({ command: fc.constantFrom('cat a.txt', 'ls -1 | sort', 'echo $((6 * 7))', 'false', 'mkdir -p dir && echo ok') }) }),
  fc.record({ tool: fc.constant('glob'), input: fc.record({ pattern: fc.constantFrom('*.txt', '**/*.txt', '*.md') }) }),
  fc.record({ tool: fc.constant('grep'), input: fc.record({ pattern: fc.constantFrom('alpha', 'beta$', '[') }) }),
) as fc.Arbitrary<ScriptStep>;

function text(output: ToolOutput): string {
  return typeof output === 'string' ? output : output.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** A result comparable across directories. */
function normal(result: string, workdir: string, tool: string): string {
  const replaced = result.replaceAll(workdir, '<workdir>');
  return tool === 'glob' ? replaced.split('\n').sort().join('\n') : replaced;
}

/** The same calls run directly, in order, on a fresh toolset in a fresh directory. */
async function direct(script: readonly ScriptStep[]): Promise<{ text: string; isError: boolean }[]> {
  const workdir = await realpath(await mkdtemp(join(tmpdir(), 'envworker-direct-')));
  const tools = agentToolset({ workdir });
  try {
    const results: { text: string; isError: boolean }[] = [];
    for (const { tool: name, input } of script as Extract<ScriptStep, { tool: string }>[]) {
      const tool = tools.find((candidate) => candidate.name === name);
      if (tool === undefined) throw new Error(`no tool ${name}`);
      try {
        const output = await tool.run(tool.parse(input), { signal: new AbortController().signal, workdir, sessionId: 's', workId: 'w', toolUseId: 't', logger });
        results.push({ text: normal(text(output) === '' ? '(no output)' : text(output), workdir, name), isError: false });
      } catch (error) {
        if (!(error instanceof ToolError)) throw error;
        results.push({ text: normal(text(error.content), workdir, name), isError: true });
      }
    }
    return results;
  } finally {
    for (const tool of tools) await tool.close?.();
    await rm(workdir, { recursive: true, force: true });
  }
}

describe('a served session against the same calls run directly', () => {
  it('records the results a fresh directory gives, call by call', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (script) => {
        const work = await cp.enqueue({ session: { script } });
        if (work.data.type !== 'session') throw new Error('a session item was expected');
        await served.outcomes([work.id], 30_000);
        const workdir = await served.workdirOf(work.id);
        if (workdir === null) throw new Error('no work directory was kept');
        const transcript = await cp.transcript(work.data.id);
        const recorded = transcript.calls.map((call) => ({
          text: normal((call.result?.content ?? []).map((block) => block.text ?? '').join(''), workdir, call.name),
          isError: call.result?.is_error === true,
        }));
        await rm(workdir, { recursive: true, force: true });
        expect(recorded).toEqual(await direct(script));
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
