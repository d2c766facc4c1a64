/**
 * Where the Redis store connects, one server (`url`) or a Redis Cluster (`cluster.nodes`), and the
 * ioredis clients it opens there. Every option is checked before anything connects, with an error
 * naming the field; no message repeats a URL, which may carry a password.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { StoreError } from '../store-error.js';

/** A Redis Cluster to connect to. */
export interface RedisClusterOptions {
  /**
   * Seed nodes, as `redis://` or `rediss://` URLs (`redis://host:port`, database 0 only); the
   * other nodes are discovered from them. Every URL must use the same scheme, user and password.
   */
  readonly nodes: readonly string[];
}

/** A client of either kind: both run the same commands; a cluster routes each to its slot's node. */
export type RedisClient = Redis | Cluster;

/** The store's clients: one for commands, one that holds its subscription (they may be one client). */
export interface RedisClients {
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  /** Whether Redis can serve requests now: a ping, or in a cluster the cluster's own state. */
  ping(): Promise<void>;
  /** Closes both, politely for the command client. */
  close(): Promise<void>;
}

interface Node {
  readonly host: string;
  readonly port: number;
}

/** A checked target. */
export type RedisTarget =
  | { readonly kind: 'server'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly Node[]; readonly tls: boolean; readonly username: string; readonly password: string };

/** Checks `url` / `cluster` (exactly one), naming the field at fault. */
export function redisTarget(options: { readonly url?: unknown; readonly cluster?: unknown }): RedisTarget {
  const { url, cluster } = options;
  if (url !== undefined && cluster !== undefined) throw new TypeError('redis.cluster: give redis.url (one server) or redis.cluster, not both');
  if (cluster === undefined) {
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) throw new TypeError('redis.url: must be a redis:// or rediss:// URL');
    return { kind: 'server', url };
  }
  if (typeof cluster !== 'object' || cluster === null) throw new TypeError('redis.cluster: must be an object { nodes: [url, …] }');
  const { nodes } = cluster as { nodes?: unknown };
  if (!Array.isArray(nodes) || nodes.length === 0) throw new TypeError('redis.cluster.nodes: must be a non-empty array of redis:// or rediss:// URLs');
  const parsed = nodes.map((node: unknown, index) => clusterNode(node, `redis.cluster.nodes[${index}]`));
  const first = parsed[0] as ParsedNode;
  parsed.forEach((node, index) => {
    if (node.protocol !== first.protocol || node.username !== first.username || node.password !== first.password) {
      throw new TypeError(`redis.cluster.nodes[${index}]: every node must use the same scheme, user and password`);
    }
  });
  return {
    kind: 'cluster',
    nodes: parsed.map(({ host, port }) => ({ host, port })),
    tls: first.protocol === 'rediss:',
    username: first.username,
    password: first.password,
  };
}

interface ParsedNode extends Node {
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
}

function clusterNode(value: unknown, field: string): ParsedNode {
  let url: URL;
  try {
    if (typeof value !== 'string' || !/^rediss?:\/\//.test(value)) throw new TypeError('not a redis URL');
    url = new URL(value);
  } catch {
    throw new TypeError(`${field}: must be a redis:// or rediss:// URL`);
  }
  if (url.hostname === '') throw new TypeError(`${field}: must name a host`);
  if (!['', '/', '/0'].includes(url.pathname)) throw new TypeError(`${field}: a Redis Cluster has database 0 only`);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    protocol: url.protocol,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

/** The target for messages: a URL without its password, or the cluster's seed nodes. */
export function describeTarget(target: RedisTarget): string {
  if (target.kind === 'cluster') return `the Redis Cluster at ${target.nodes.map(({ host, port }) => `${host}:${port}`).join(', ')}`;
  try {
    const parsed = new URL(target.url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the given URL';
  }
}

/** Timeouts of {@link openClients}, in milliseconds. */
export interface ConnectionTimeouts {
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

/**
 * Connects the clients, or rejects with a 503 `StoreError` naming the target. No offline queue
 * and one attempt per request: while Redis is away a call fails at once (503) instead of piling
 * up, and the clients keep reconnecting in the background.
 */
export async function openClients(target: RedisTarget, timeouts: ConnectionTimeouts): Promise<RedisClients> {
  const retry = (attempt: number): number => Math.min(50 * attempt, 1000);
  const clients = target.kind === 'server' ? serverClients(target.url, timeouts, retry) : clusterClients(target, timeouts, retry);
  // Errors surface on the calls that hit them; the events only report reconnect attempts.
  clients.commands.on('error', () => undefined);
  clients.subscriber.on('error', () => undefined);
  try {
    await Promise.all([...new Set([clients.commands, clients.subscriber])].map((client) => client.connect()));
  } catch (error) {
    clients.commands.disconnect();
    clients.subscriber.disconnect();
    throw StoreError.unavailable(`redis store: cannot connect to ${describeTarget(target)}: ${(error as Error).message}`);
  }
  return clients;
}

function serverClients(url: string, timeouts: ConnectionTimeouts, retryStrategy: (attempt: number) => number): RedisClients {
  const connection: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: timeouts.connectTimeoutMs,
    retryStrategy,
  };
  const commands = new Redis(url, { ...connection, commandTimeout: timeouts.commandTimeoutMs });
  // The subscriber keeps its offline queue so that its subscription is restored on reconnect.
  const subscriber = new Redis(url, { ...connection, enableOfflineQueue: true, maxRetriesPerRequest: null });
  return {
    commands,
    subscriber,
    ping: async () => {
      await commands.ping();
    },
    close: async () => {
      subscriber.disconnect();
      await commands.quit().catch(() => commands.disconnect());
    },
  };
}

/**
 * One cluster client does both: ioredis gives a cluster's subscriptions their own connection to
 * one node (moved to another node, subscriptions included, when that one is lost), and a plain
 * PUBLISH reaches every node of a cluster.
 */
function clusterClients(
  target: Extract<RedisTarget, { kind: 'cluster' }>,
  timeouts: ConnectionTimeouts,
  clusterRetryStrategy: (attempt: number) => number,
): RedisClients {
  const cluster = new Cluster(
    target.nodes.map(({ host, port }) => ({ host, port })),
    {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy,
      redisOptions: {
        connectTimeout: timeouts.connectTimeoutMs,
        commandTimeout: timeouts.commandTimeoutMs,
        maxRetriesPerRequest: 1,
        ...(target.username === '' ? {} : { username: target.username }),
        ...(target.password === '' ? {} : { password: target.password }),
        ...(target.tls ? { tls: {} } : {}),
      },
    },
  );
  return {
    commands: cluster,
    subscriber: cluster,
    ping: async () => {
      // A node answers PING while the cluster has lost a slot's master; the cluster's state says whether requests can be served.
      const info = await cluster.cluster('INFO');
      if (!/^cluster_state:ok\b/m.test(info)) throw new Error('the Redis Cluster is not serving every slot');
    },
    close: async () => {
      await cluster.quit().catch(() => cluster.disconnect());
    },
  };
}
