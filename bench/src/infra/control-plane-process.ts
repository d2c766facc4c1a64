/**
 * A control plane in its own process (`envworker control-plane`), so that on a 2-core machine the
 * worker under test and the server it talks to do not share one event loop, as in a deployment.
 * Several processes may share one Redis and one environment (replicas).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'envworker.js');
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62(length: number): string {
  return [...randomBytes(length)].map((byte) => BASE62[byte % 62]).join('');
}

/** Credentials of one environment, shared by the replicas of a run. */
export interface EnvironmentCredentials {
  readonly environmentId: string;
  readonly environmentKey: string;
  readonly adminKey: string;
}

/** Fresh, well-formed credentials (the control plane's own formats). */
export function newCredentials(): EnvironmentCredentials {
  return { environmentId: `env_${base62(24)}`, environmentKey: `ek_${base62(40)}`, adminKey: `adm_${base62(40)}` };
}

export interface ControlPlaneProcessOptions {
  readonly store: 'memory' | 'redis';
  /** Required with `store: 'redis'`. */
  readonly redisUrl?: string;
  /** Generated when absent; pass the same to every replica of a run. */
  readonly credentials?: EnvironmentCredentials;
}

export interface ControlPlaneProcess extends EnvironmentCredentials {
  readonly url: string;
  readonly pid: number;
  /** Queues `count` items over HTTP (admin key), `parallel` requests at a time. */
  enqueue(count: number, metadata?: Record<string, string>, parallel?: number): Promise<void>;
  /** Queues `count` session items whose scripted agent follows `session` (the simulator's enqueue extension). */
  enqueueSessions(count: number, session: Record<string, unknown>, parallel?: number): Promise<void>;
  /** SIGTERM, and resolves when the process has exited. */
  close(): Promise<void>;
}

/** Starts `envworker control-plane` and resolves on its ready line (20 s deadline). */
export async function startControlPlaneProcess(options: ControlPlaneProcessOptions): Promise<ControlPlaneProcess> {
  const credentials = options.credentials ?? newCredentials();
  const args = [
    BIN,
    'control-plane',
    '--port',
    '0',
    '--environment-id',
    credentials.environmentId,
    '--environment-key',
    credentials.environmentKey,
    '--admin-key',
    credentials.adminKey,
  ];
  if (options.store === 'redis') {
    if (options.redisUrl === undefined) throw new Error('startControlPlaneProcess: redisUrl is required with store redis');
    args.push('--store', 'redis', '--redis-url', options.redisUrl);
  }
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => fail(new Error(`control plane did not start within 20 s: ${stderr}`)), 20_000);
    const lines = createInterface({ input: child.stdout! });
    function fail(error: Error): void {
      clearTimeout(deadline);
      child.kill('SIGKILL');
      reject(error);
    }
    lines.once('line', (line) => {
      clearTimeout(deadline);
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch {
        fail(new Error(`control plane printed an unexpected ready line: ${line.slice(0, 200)}`));
      }
    });
    child.once('exit', (code) => fail(new Error(`control plane exited with ${String(code)}: ${stderr}`)));
  });
  const workUrl = `${url}/v1/environments/${credentials.environmentId}/work`;

  async function enqueueOne(body: Record<string, unknown>): Promise<void> {
    const response = await fetch(workUrl, {
      method: 'POST',
      headers: { 'x-api-key': credentials.adminKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`enqueue answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    await response.arrayBuffer();
  }

  async function enqueueMany(count: number, body: Record<string, unknown>, parallel: number): Promise<void> {
    let next = 0;
    const lanes = Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        next += 1;
        await enqueueOne(body);
      }
    });
    await Promise.all(lanes);
  }

  return {
    ...credentials,
    url,
    pid: child.pid!,
    enqueue: (count, metadata = {}, parallel = 8) => enqueueMany(count, { metadata }, parallel),
    enqueueSessions: (count, session, parallel = 8) => enqueueMany(count, { session }, parallel),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
