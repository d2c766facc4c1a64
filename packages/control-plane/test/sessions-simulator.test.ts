/**
 * The session simulator over HTTP on 127.0.0.1, read with the official SDK's own sessions client
 * (`@anthropic-ai/sdk` 1.14.0) with an item's sessions token: retrieve, the history with
 * auto-pagination, the event stream receiving what follows a sent tool result, skills; and the
 * refusals: credentials of another item, unknown sessions, bad bodies and scripts, naming the field.
 */
import Anthropic from '@anthropic-ai/sdk';
import { decodeWorkSecret, WorkClient, type Work } from '@envworker/core';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../src/index.js';

let cp: ControlPlane;
let worker: WorkClient;

beforeAll(async () => {
  cp = await startControlPlane();
  const environment = cp.environments[0]!;
  worker = new WorkClient({ baseUrl: cp.url, environmentId: environment.id, environmentKey: environment.key });
});

afterAll(async () => {
  await worker.close();
  await cp.close();
});

/** Enqueues a scripted session and polls it, as a worker would: the item and its sessions token. */
async function claimed(session: Parameters<ControlPlane['enqueue']>[0]): Promise<{ work: Work; sessionId: string; token: string }> {
  const queued = await cp.enqueue(session);
  const work = await worker.poll({ workerId: 'simulator-test', blockMs: 500 });
  if (work === null || work.id !== queued.id || work.data.type !== 'session') throw new Error('the poll did not return the item just enqueued');
  const token = decodeWorkSecret(work.secret).secret?.sessions_token;
  if (token === undefined) throw new Error('no sessions token');
  return { work, sessionId: work.data.id, token };
}

function sdk(token: string): Anthropic {
  return new Anthropic({ baseURL: cp.url, apiKey: null, authToken: token, maxRetries: 0, logLevel: 'off' });
}

describe('the session simulator with the official SDK', () => {
  it('retrieves the session, pages its history, streams what follows a sent result, and serves its skills', async () => {
    const { sessionId, token } = await claimed({
      session: { script: [{ tool: 'bash', input: { command: 'echo hi' } }, { message: 'thanks' }], skills: [{ name: 'pdf', files: { 'fill.py': 'print(1)' } }] },
    });
    const client = sdk(token);
    const session = await client.beta.sessions.retrieve(sessionId);
    expect(session).toMatchObject({ type: 'session', id: sessionId, status: 'idle', resources: [] });
    const events = [];
    for await (const event of client.beta.sessions.events.list(sessionId, { limit: 1 })) events.push(event);
    expect(events.map((event) => event.type)).toEqual(['user.message', 'session.status_running', 'agent.tool_use', 'session.status_idle']);
    const use = events[2] as { id: string; name: string };
    expect(use.name).toBe('bash');

    const stream = await client.beta.sessions.events.stream(sessionId);
    await client.beta.sessions.events.send(sessionId, { events: [{ type: 'user.tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'hi' }] }] });
    const after: string[] = [];
    for await (const event of stream) {
      after.push(event.type);
      if (event.type === 'session.status_idle') break;
    }
    expect(after).toEqual(['user.tool_result', 'session.status_running', 'agent.message', 'agent.message', 'session.status_idle']);

    const transcript = await cp.transcript(sessionId);
    expect(transcript.calls[0]).toMatchObject({ name: 'bash', outcome: 'answered', result: { is_error: false, content: [{ type: 'text', text: 'hi' }] } });
    expect(transcript.done).toBe(true);

    const skill = (session.agent.skills as { skill_id: string; version: string }[])[0]!;
    const version = await client.beta.skills.versions.retrieve(skill.version, { skill_id: skill.skill_id });
    expect(version).toMatchObject({ type: 'skill_version', skill_id: skill.skill_id, name: 'pdf' });
    const archive = Buffer.from(await (await client.beta.skills.versions.download(skill.version, { skill_id: skill.skill_id })).arrayBuffer());
    const tar = gunzipSync(archive).toString('latin1');
    expect(tar).toContain('pdf/SKILL.md');
    expect(tar).toContain('pdf/fill.py');
  });

  it('refuses another item\'s token (403), an unknown session (404), and a bad body naming the field', async () => {
    const first = await claimed({ session: { script: [{ tool: 'bash', input: { command: 'true' } }] } });
    const second = await claimed({});
    const call = (token: string, path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(`${cp.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
    expect((await call(second.token, `/v1/sessions/${first.sessionId}`)).status).toBe(403);
    expect((await call(first.token, '/v1/sessions/sesn_nope')).status).toBe(404);
    const bad = await call(first.token, `/v1/sessions/${first.sessionId}/events`, { method: 'POST', body: JSON.stringify({ events: [{ type: 'user.tool_result', tool_use_id: 7 }] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('events[0].tool_use_id: must be a string of 1–256 characters');
    const unknown = await call(first.token, `/v1/sessions/${first.sessionId}/events`, { method: 'POST', body: JSON.stringify({ events: [{ type: 'user.tool_result', tool_use_id: 'sevt_none' }] }) });
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe('events[0].tool_use_id: no tool use sevt_none in this session');
    expect((await call(first.token, `/v1/sessions/${first.sessionId}/transcript`)).status).toBe(403);
    const transcript = await cp.transcript(first.sessionId);
    expect(transcript.requests.refused).toBe(2);
  });

  it('enqueues nothing for a bad session, and names the field', async () => {
    const before = (await worker.stats()).depth;
    const response = await fetch(`${cp.url}/v1/environments/${cp.environments[0]!.id}/work`, {
      method: 'POST',
      headers: { 'x-api-key': cp.adminKey, 'content-type': 'application/json' },
      body: JSON.stringify({ session: { script: [{ tool: 'bash', input: { command: 'x' } }, { tool: 'read', input: 'a.txt' }] } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^session\.script\[1\]\.input: /);
    expect((await worker.stats()).depth).toBe(before);
  });

  it('ends an open stream when the session terminates, and every stream when the control plane closes', async () => {
    const own = await startControlPlane();
    const environment = own.environments[0]!;
    const queued = await own.enqueue({ session: { script: [{ tool: 'bash', input: { command: 'true' } }, { terminate: true }] } });
    if (queued.data.type !== 'session') throw new Error('a session item was expected');
    const headers = { authorization: `Bearer ${environment.key}` };
    const stream = await fetch(`${own.url}/v1/sessions/${queued.data.id}/events/stream`, { headers });
    const use = (await (await fetch(`${own.url}/v1/sessions/${queued.data.id}/events?limit=10`, { headers })).json()) as { data: { type: string; id: string }[] };
    const toolUse = use.data.find((event) => event.type === 'agent.tool_use')!;
    await fetch(`${own.url}/v1/sessions/${queued.data.id}/events`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ events: [{ type: 'user.tool_result', tool_use_id: toolUse.id }] }),
    });
    const text = await stream.text();
    // The response ended (text() resolved) right after the terminated event.
    expect(text).toMatch(/event: session\.status_terminated\ndata: [^\n]+\n\n$/);
    const second = await own.enqueue({});
    if (second.data.type !== 'session') throw new Error('a session item was expected');
    const open = await fetch(`${own.url}/v1/sessions/${second.data.id}/events/stream`, { headers });
    const body = open.text();
    // close() resolves only once the server let go of every connection: the open stream was ended.
    await own.close();
    expect(await body).not.toContain('session.status_terminated');
  });
});
