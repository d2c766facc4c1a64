/**
 * The official SDK's own session runner (`EnvironmentWorker` of `@anthropic-ai/sdk` 1.14.0)
 * against our control plane's session simulator, over HTTP on 127.0.0.1: it polls, serves a
 * scripted session with its agent toolset, and the simulator records the results the script
 * expects. This is the proof that the simulator answers as the hosted API does, and the reference
 * our own runtime is held to (the same script, the same results, in `session-worker.test.ts`).
 *
 * On Node 20 the official glob tool cannot run (it calls `fs.glob`, new in Node 22); its result is
 * an error, which the test shows rather than hides.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import type { SessionTranscript } from '@envworker/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let cp: ControlPlane;
let workdir: string;

beforeAll(async () => {
  cp = await startControlPlane();
  workdir = await mkdtemp(join(tmpdir(), 'envworker-official-runner-'));
});

afterAll(async () => {
  await cp.close();
  await rm(workdir, { recursive: true, force: true });
});

function texts(transcript: SessionTranscript): (string | null)[] {
  return transcript.calls.map((call) => (call.result === null ? null : call.result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('')));
}

/** Resolves once `done()` holds, checked every 50 ms; rejects after `deadlineMs`. */
async function until(done: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the official SDK's EnvironmentWorker against the session simulator", () => {
  it('serves a scripted session: every tool result recorded, the item stopped', async () => {
    const environment = cp.environments[0];
    if (environment === undefined) throw new Error('no environment');
    const work = await cp.enqueue({
      session: {
        script: [
          { tool: 'bash', input: { command: 'echo hi > a.txt && cat a.txt' } },
          { tool: 'read', input: { file_path: 'a.txt' } },
          { tool: 'write', input: { file_path: 'b.txt', content: 'alpha\nbeta\n' } },
          { tool: 'edit', input: { file_path: 'b.txt', old_string: 'beta', new_string: 'gamma' } },
          { tool: 'grep', input: { pattern: 'gamma' } },
          { tool: 'glob', input: { pattern: '*.txt' } },
          { tool: 'read', input: { file_path: '../outside.txt' } },
        ],
      },
    });
    if (work.data.type !== 'session') throw new Error('a session item was expected');
    const sessionId = work.data.id;
    const client = new Anthropic({ baseURL: cp.url, apiKey: null, authToken: environment.key, maxRetries: 2, logLevel: 'off' });
    const stop = new AbortController();
    const worker = client.beta.environments.work.worker({ environmentId: environment.id, environmentKey: environment.key, workdir, maxIdleMs: 200 });
    const running = worker.run(stop.signal).catch((error: unknown) => (stop.signal.aborted ? undefined : Promise.reject(error)));
    try {
      await until(async () => (await cp.store.get(environment.id, work.id)).state === 'stopped', 30_000, 'the official worker to stop the item');
    } finally {
      stop.abort();
      await running;
    }
    const transcript = await cp.transcript(sessionId);
    expect(transcript.done).toBe(true);
    expect(transcript.calls.map((call) => [call.name, call.outcome])).toEqual(
      ['bash', 'read', 'write', 'edit', 'grep', 'glob', 'read'].map((name) => [name, 'answered']),
    );
    const [bash, read, write, edit, grep, glob, outside] = texts(transcript);
    expect(bash).toBe('hi');
    expect(read).toBe('hi\n');
    expect(write).toBe('wrote 11 bytes to b.txt');
    expect(edit).toBe('edited b.txt (1 replacement(s))');
    expect(grep).toMatch(/b\.txt:2:gamma$/);
    // Node 20 has no fs.glob: the official tool fails where ours (tinyglobby) answers.
    expect(transcript.calls[5]?.result?.is_error).toBe(true);
    expect(glob).toMatch(/glob/);
    expect(transcript.calls[6]?.result?.is_error).toBe(true);
    expect(outside).toMatch(/outside/);
    // The runner used the item's sessions token for the session's calls: none was refused.
    expect(transcript.requests.refused).toBe(0);
    expect(transcript.requests.events_send).toBe(7);
  }, 60_000);
});
