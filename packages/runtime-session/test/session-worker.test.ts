/**
 * The session runtime end to end: `createWorker` with `sessionRuntime` against the local control
 * plane's session simulator over HTTP on 127.0.0.1. Every session is a scripted agent whose tool
 * calls run in a real work directory; the simulator's transcript says which results it received.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { WorkClient, type ScriptStep, type SessionTranscript, type Work } from '@envworker/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ToolError, type SessionTool } from '../src/index.js';
import { ServedWorker, stopCalls } from './support/served-worker.js';

let cp: ControlPlane;
let operator: WorkClient;
let served: ServedWorker | null = null;

beforeAll(async () => {
  cp = await startControlPlane({ lease: { minTtlSeconds: 1, defaultTtlSeconds: 30, maxTtlSeconds: 60 } });
  operator = new WorkClient({ baseUrl: cp.url, environmentId: cp.environments[0]?.id ?? '', apiKey: cp.adminKey });
});

afterEach(async () => {
  await served?.close();
  served = null;
});

afterAll(async () => {
  await operator.close();
  await cp.close();
});

async function enqueue(session: Parameters<ControlPlane['enqueue']>[0] extends infer I ? (I extends { session?: infer S } ? S : never) : never): Promise<Work & { data: { type: 'session'; id: string } }> {
  const work = await cp.enqueue({ session });
  if (work.data.type !== 'session') throw new Error('a session item was expected');
  return work as Work & { data: { type: 'session'; id: string } };
}

/** The text of each recorded result, in call order. */
function resultTexts(transcript: SessionTranscript): (string | null)[] {
  return transcript.calls.map((call) => {
    if (call.result === null) return null;
    return call.result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');
  });
}

/** Six quick calls of every tool of the agent toolset, and what each must answer. */
function toolScript(n: number): { script: ScriptStep[]; expected: RegExp[] } {
  return {
    script: [
      { tool: 'bash', input: { command: `echo item-${n} > a.txt && cat a.txt` } },
      { tool: 'write', input: { file_path: 'b.txt', content: 'alpha\nbeta\n' } },
      { tool: 'edit', input: { file_path: 'b.txt', old_string: 'beta', new_string: `gamma-${n}` } },
      { tool: 'read', input: { file_path: 'b.txt' } },
      { tool: 'glob', input: { pattern: '*.txt' } },
      { tool: 'grep', input: { pattern: 'gamma' } },
    ],
    expected: [
      new RegExp(`^item-${n}$`),
      /^wrote 11 bytes to b\.txt$/,
      /^edited b\.txt \(1 replacement\(s\)\)$/,
      new RegExp(`^alpha\\ngamma-${n}\\n$`),
      /^\/\S+\/[ab]\.txt\n\/\S+\/[ab]\.txt$/,
      new RegExp(`^/\\S+/b\\.txt:2:gamma-${n}$`),
    ],
  };
}

describe('the session runtime in a worker', () => {
  it('serves 50 scripted sessions at maxConcurrency 16: every tool result as the script expects, each item stopped once', async () => {
    served = await ServedWorker.start(cp, 16, { maxIdleMs: 200 });
    const stopsBefore = await stopCalls(cp);
    const items = await Promise.all(
      Array.from({ length: 50 }, async (_, n) => {
        const { script, expected } = toolScript(n);
        return { work: await enqueue({ script }), expected };
      }),
    );
    const outcomes = await served.outcomes(
      items.map(({ work }) => work.id),
      90_000,
    );
    for (const { work, expected } of items) {
      expect(outcomes.get(work.id), work.id).toBe('completed');
      expect(served.stoppedEvents(work.id)).toHaveLength(1);
      const transcript = await cp.transcript(work.data.id);
      expect(transcript.done, work.id).toBe(true);
      expect(transcript.calls.map((call) => [call.name, call.outcome, call.result?.is_error, call.duplicates])).toEqual(
        ['bash', 'write', 'edit', 'read', 'glob', 'grep'].map((name) => [name, 'answered', false, 0]),
      );
      resultTexts(transcript).forEach((text, index) => expect(text, `${work.id} step ${index}`).toMatch(expected[index] as RegExp));
      // The two glob lines name the two files, newest first or not: both are there.
      const globbed = (resultTexts(transcript)[4] ?? '').split('\n').map((line) => line.slice(line.lastIndexOf('/') + 1));
      expect(globbed.sort()).toEqual(['a.txt', 'b.txt']);
      expect(transcript.requests.events_send).toBe(6);
    }
    // Each item was stopped by its worker exactly once.
    expect(await stopCalls(cp)).toBe(stopsBefore + 50);
    expect(served.calls.filter((call) => call.ending === 'ok')).toHaveLength(300);
    // No session's credentials reached the worker's log.
    const log = served.logLines.join('\n');
    for (const { work } of items) if (work.secret !== null) expect(log).not.toContain(work.secret);
    expect(log).not.toContain(cp.environments[0]?.key);
  }, 120_000);

  it('cancels a running bash call on a graceful stop, sends its error result, and ends stopped_by_control_plane', async () => {
    served = await ServedWorker.start(cp, 2, { maxIdleMs: 0 });
    const work = await enqueue({ script: [{ tool: 'bash', input: { command: 'echo started > started.txt; sleep 30; echo slept' } }, { message: 'never reached' }] });
    const current = served;
    await current.until(
      async () => {
        const workdir = await current.workdirOf(work.id);
        return workdir !== null && (await access(join(workdir, 'started.txt')).then(() => true, () => false));
      },
      20_000,
      () => 'the bash call to start',
    );
    await operator.stop(work.id, { force: false });
    const outcomes = await current.outcomes([work.id], 20_000);
    expect(outcomes.get(work.id)).toBe('stopped_by_control_plane');
    const transcript = await cp.transcript(work.data.id);
    expect(transcript.calls).toHaveLength(1);
    expect(transcript.calls[0]?.result?.is_error).toBe(true);
    expect(resultTexts(transcript)[0]).toMatch(/^bash: cancelled: the work item is being stopped/);
    expect(current.calls.map((call) => [call.name, call.ending, call.posted])).toEqual([['bash', 'cancelled', true]]);
  }, 60_000);

  it('ends a session whose token is refused after one refusal, without a retry storm', async () => {
    served = await ServedWorker.start(cp, 1, { maxIdleMs: 0 });
    const work = await enqueue({ script: [{ tool: 'bash', input: { command: 'true' } }], reject_auth: true });
    const outcomes = await served.outcomes([work.id], 20_000);
    expect(outcomes.get(work.id)).toBe('failed');
    const transcript = await cp.transcript(work.data.id);
    // The refusal is for good (401): not retried, nothing else asked.
    expect(transcript.requests.refused).toBe(1);
    expect(transcript.requests.events_send).toBe(0);
    expect(transcript.calls[0]?.outcome).toBe('pending');
    expect(served.stoppedEvents(work.id)[0]?.exit?.detail).toMatch(/401|authentication/i);
  }, 30_000);

  it('skips a terminated session: no stream opened, the item completed and stopped', async () => {
    served = await ServedWorker.start(cp, 1, { maxIdleMs: 0 });
    const work = await enqueue({ status: 'terminated' });
    const stopsBefore = await stopCalls(cp);
    const outcomes = await served.outcomes([work.id], 20_000);
    expect(outcomes.get(work.id)).toBe('completed');
    const transcript = await cp.transcript(work.data.id);
    expect(transcript.requests).toMatchObject({ retrieve: 1, events_stream: 0, events_send: 0 });
    expect(await stopCalls(cp)).toBe(stopsBefore + 1);
    expect(served.stoppedEvents(work.id)[0]?.exit?.detail).toMatch(/terminated/);
  }, 30_000);

  it('answers a malformed tool input with an error naming the field, and the session goes on', async () => {
    served = await ServedWorker.start(cp, 1, { maxIdleMs: 100 });
    const work = await enqueue({
      script: [
        { tool: 'read', input: { file_path: 42 } },
        { tool: 'bash', input: { command: ['echo', 'hi'] } },
        { tool: 'bash', input: { command: 'echo still-serving' } },
      ],
    });
    const outcomes = await served.outcomes([work.id], 20_000);
    expect(outcomes.get(work.id)).toBe('completed');
    const transcript = await cp.transcript(work.data.id);
    expect(transcript.calls.map((call) => call.result?.is_error)).toEqual([true, true, false]);
    const [read, bash, last] = resultTexts(transcript);
    expect(read).toMatch(/^read: file_path: /);
    expect(bash).toMatch(/^bash: command: /);
    expect(last).toBe('still-serving');
  }, 30_000);

  it("runs the host's own tools, answered as custom tool results", async () => {
    const lookup: SessionTool<{ key: string }> = {
      name: 'lookup',
      description: 'Looks a key up in the host inventory.',
      inputSchema: { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] },
      parse(input) {
        const key = (input as { key?: unknown }).key;
        if (typeof key !== 'string') throw new ToolError('lookup: key: expected a string');
        return { key };
      },
      run: async ({ key }, ctx) => (key === 'db' ? `db.internal (asked from ${ctx.sessionId})` : Promise.reject(new ToolError(`lookup: no entry ${key}`))),
    };
    served = await ServedWorker.start(cp, 1, { maxIdleMs: 100, tools: [lookup] });
    const work = await enqueue({ script: [{ custom_tool: 'lookup', input: { key: 'db' } }, { custom_tool: 'lookup', input: { key: 'cache' } }] });
    await served.outcomes([work.id], 20_000);
    const transcript = await cp.transcript(work.data.id);
    expect(transcript.calls.map((call) => [call.kind, call.outcome, call.result?.is_error])).toEqual([
      ['custom_tool', 'answered', false],
      ['custom_tool', 'answered', true],
    ]);
    expect(resultTexts(transcript)).toEqual([`db.internal (asked from ${work.data.id})`, 'lookup: no entry cache']);
  }, 30_000);
});
