/**
 * A real Redis Cluster for the Redis store's tests: three redis-server processes with cluster
 * mode on, at free ports on 127.0.0.1 (their cluster bus ports chosen free too), joined by
 * `redis-cli --cluster create` with no replicas, ready once every node reports `cluster_state:ok`.
 * When redis-server or redis-cli is missing the tests are not run (one printed line says why),
 * unless ENVWORKER_REQUIRE_REDIS=1 asks for them to fail instead.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, redisServerUnavailable, startRedisServer, type RedisServer } from './redis-server.js';

/** Why a Redis Cluster cannot be started here, or `null` when it can. */
export function redisClusterUnavailable(): string | null {
  const server = redisServerUnavailable();
  if (server !== null) return server;
  const probe = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return 'redis-cli is not installed (not on PATH)';
  return null;
}

/** A running cluster: its nodes (every one a master) and how to stop it. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** The nodes' URLs, the seed list a client is given. */
  readonly urls: readonly string[];
  stop(): Promise<void>;
}

/** Starts a cluster of `size` masters (at least 3, as `redis-cli --cluster create` requires); 20 s deadline. */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const directory = await mkdtemp(join(tmpdir(), 'envworker-redis-cluster-'));
  const nodes: RedisServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
    await rm(directory, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < size; index += 1) {
      const busPort = await freePort();
      nodes.push(
        await startRedisServer(undefined, [
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(busPort),
          '--cluster-config-file',
          join(directory, `nodes-${index}.conf`),
          '--dir',
          directory,
        ]),
      );
    }
    await createCluster(nodes.map((node) => `127.0.0.1:${node.port}`));
    await Promise.all(nodes.map((node) => clusterStateOk(node.url, Date.now() + 20_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, urls: nodes.map((node) => node.url), stop };
}

async function createCluster(addresses: readonly string[]): Promise<void> {
  const child = spawn('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-cli --cluster create did not finish within 20 s: ${output.slice(-500)}`));
    }, 20_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      if (code === 0) resolve();
      else reject(new Error(`redis-cli --cluster create exited with ${String(code)}: ${output.slice(-500)}`));
    });
  });
}

/** Resolves once the node reports `cluster_state:ok`, asking again each time it does not (until `deadline`, ms since the epoch). */
async function clusterStateOk(url: string, deadline: number): Promise<void> {
  const client = new Redis(url);
  try {
    for (;;) {
      const info = await client.cluster('INFO');
      if (/^cluster_state:ok\b/m.test(info)) return;
      if (Date.now() > deadline) throw new Error(`the cluster node at ${url} never reported cluster_state:ok: ${info.slice(0, 200)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}
