/**
 * The processes of a multi-process run on one Redis: control-plane replicas and workers, each a
 * real node process started from a script of this folder, one environment shared by all, and what
 * the tests read from the workers' event lines.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkClient } from '@envworker/core';
import { startRedisServer, type RedisServer } from '../redis/redis-server.js';
import { NodeScript } from './node-script.js';
import type { RecordingProxy } from './recording-proxy.js';

/**
 * What a multi-process test owns: its redis-server, a work directory for its workers, and every
 * process and proxy it started, all torn down together (processes killed first, so no survivor
 * writes into a removed directory or talks to a stopped Redis).
 */
export class Fleet {
  readonly processes: NodeScript[] = [];
  readonly proxies: RecordingProxy[] = [];
  #redis: RedisServer | undefined;
  #workdir = '';

  /** Starts the redis-server and makes the work directory (`prefix` names it). */
  async setUp(prefix: string): Promise<void> {
    this.#redis = await startRedisServer();
    this.#workdir = await mkdtemp(join(tmpdir(), prefix));
  }

  get redisUrl(): string {
    if (this.#redis === undefined) throw new Error('Fleet.setUp() has not run');
    return this.#redis.url;
  }

  get workdir(): string {
    return this.#workdir;
  }

  /** Records a process or proxy for the tear-down, and hands it back. */
  track<T extends NodeScript | RecordingProxy>(started: T): T {
    if (started instanceof NodeScript) this.processes.push(started);
    else this.proxies.push(started);
    return started;
  }

  async tearDown(): Promise<void> {
    for (const child of this.processes) child.kill('SIGKILL');
    await Promise.all(this.processes.map((child) => child.exit));
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
    await this.#redis?.stop();
    if (this.#workdir !== '') await rm(this.#workdir, { recursive: true, force: true });
  }
}

/** The environment every replica serves; its keys are made per run. */
export interface FleetEnvironment {
  readonly id: string;
  readonly key: string;
  readonly adminKey: string;
}

/** A fresh environment: a fixed id (any valid one will do on a fresh Redis) and random keys. */
export function fleetEnvironment(): FleetEnvironment {
  return { id: 'env_ReplicaProcesses00000000', key: `ek_${randomUUID()}`, adminKey: `ak_${randomUUID()}` };
}

/**
 * The replicas' lease policy. Workers ask for {@link LEASE_TTL_SECONDS}, which is also the
 * minimum, so every heartbeat lease lasts exactly that. The default (the lease of an ack not yet
 * heartbeated) stays at the contract's minimum of 10 s, which a worker assumes it has until its
 * first beat is answered.
 */
export const REPLICA_LEASE = { minTtlSeconds: 4, defaultTtlSeconds: 10 } as const;
export const LEASE_TTL_SECONDS = REPLICA_LEASE.minTtlSeconds;

/**
 * Starts a replica on `port` and resolves once it listens (its ready line; the wait is generous
 * for a loaded machine). `track` gets the process at once, so that it is cleaned up even if it
 * never gets ready.
 */
export async function startReplica(name: string, port: number, redisUrl: string, environment: FleetEnvironment, track: (replica: NodeScript) => void): Promise<NodeScript> {
  const replica = new NodeScript(
    name,
    './replica-process.ts',
    [
      ...['--port', String(port), '--redis-url', redisUrl, '--environment-id', environment.id],
      ...['--min-ttl', String(REPLICA_LEASE.minTtlSeconds), '--default-ttl', String(REPLICA_LEASE.defaultTtlSeconds)],
    ],
    { ENVIRONMENT_KEY: environment.key, ADMIN_KEY: environment.adminKey },
  );
  track(replica);
  await replica.line('its ready line', (line) => line['ready'] === true, 30_000);
  return replica;
}

/** How a worker runs its items: each for `itemMs`, or (`hold`) until it is stopped. */
export type ItemPlan = { readonly itemMs: number } | { readonly hold: true };

/** Starts a worker process polling `baseUrl` (a recording proxy in front of a replica). */
export function startWorker(name: string, baseUrl: string, environment: FleetEnvironment, workdir: string, maxConcurrency: number, plan: ItemPlan): NodeScript {
  return new NodeScript(
    name,
    './worker-process.ts',
    [
      ...['--base-url', baseUrl, '--environment-id', environment.id, '--worker-id', `${name}-${randomUUID()}`],
      ...['--max-concurrency', String(maxConcurrency), '--lease-ttl', String(LEASE_TTL_SECONDS), '--workdir', `${workdir}/${name}`],
      ...('hold' in plan ? ['--hold'] : ['--item-ms', String(plan.itemMs)]),
    ],
    { ENVIRONMENT_KEY: environment.key },
  );
}

/** Items the worker reported `stopped` with outcome `completed`. */
export function completedBy(worker: NodeScript): Set<string> {
  return new Set(worker.lines.filter((line) => line['type'] === 'stopped' && line['outcome'] === 'completed').map((line) => String(line['work_id'])));
}

/** Items whose sandbox the worker reported `started`. */
export function startedBy(worker: NodeScript): Set<string> {
  return new Set(worker.lines.filter((line) => line['type'] === 'started').map((line) => String(line['work_id'])));
}

/** An operator client of the environment on one replica (admin key: enqueue and list). */
export function adminClient(baseUrl: string, environment: FleetEnvironment): WorkClient {
  return new WorkClient({ baseUrl, environmentId: environment.id, environmentKey: environment.key, apiKey: environment.adminKey });
}

/** Enqueues `count` items, a few requests at a time; resolves with their ids in order. */
export async function enqueueItems(client: WorkClient, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; offset < count; offset += 25) {
    const batch = Array.from({ length: Math.min(25, count - offset) }, (_, index) => client.enqueue({ metadata: { n: String(offset + index) } }));
    ids.push(...(await Promise.all(batch)).map((work) => work.id));
  }
  return ids;
}

/**
 * Resolves once `check` holds, looking again every 20 ms; rejects naming `what` after `ms`. For
 * conditions on several processes and proxies at once (one process's lines: `NodeScript.until`).
 */
export async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}
