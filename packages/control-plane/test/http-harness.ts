/**
 * Helpers of the HTTP tests: plain `fetch` and `node:http` calls to a control plane on 127.0.0.1
 * (no client library in between), with every answer checked for a `request-id` header.
 */
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import type { ControlPlane } from '../src/index.js';

/** What came back. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON (`undefined` when it is not JSON). */
  readonly body: unknown;
}

const REQUEST_ID = /^req_[0-9A-Za-z]{24}$/;

/** Sends a request with fetch and checks that the answer carries a request id. */
export async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  expect(response.headers.get('request-id'), `request-id of ${init.method ?? 'GET'} ${url}`).toMatch(REQUEST_ID);
  return { status: response.status, headers: response.headers, text, body: parseJson(text) };
}

/** Sends a request with node:http, for what fetch will not send (no content-length, chunked bodies, odd headers). */
export async function rawCall(
  url: string,
  options: { method: string; headers?: Record<string, string>; body?: string; chunked?: boolean },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method, headers: options.headers ?? {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === 'string') headers.set(name, value);
        }
        expect(headers.get('request-id')).toMatch(REQUEST_ID);
        resolve({ status: response.statusCode ?? 0, headers, text, body: parseJson(text) });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    if (options.chunked === true) request.setHeader('transfer-encoding', 'chunked');
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

/** The error envelope's `error` object, after checking the envelope's shape. */
export function errorOf(answer: Answer): { type: string; message: string; details?: Record<string, unknown> } {
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.body).toMatchObject({ type: 'error', error: { type: expect.any(String), message: expect.any(String) } });
  const error = (answer.body as { error: { type: string; message: string; details?: Record<string, unknown> } }).error;
  expect(Object.keys(answer.body as object)).toEqual(['type', 'error']);
  return error;
}

/** Waits until `check` holds, polling it; fails with `what` after the deadline. */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The value of an unlabelled metric on `/metrics` (0 when absent). */
export async function metric(cp: ControlPlane, name: string): Promise<number> {
  const { text } = await call(`${cp.url}/metrics`);
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

/** Waits until the server has exactly `count` long polls waiting. */
export async function waitForWaitingPolls(cp: ControlPlane, count: number): Promise<void> {
  await waitFor(async () => (await metric(cp, 'envworker_control_plane_waiting_polls')) === count, `${count} waiting polls`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
