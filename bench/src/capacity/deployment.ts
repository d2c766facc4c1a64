/**
 * The control-plane deployments the capacity benchmark loads: one replica on the memory store, one
 * on Redis, and three replicas sharing one Redis (one environment, the same credentials). Each
 * replica is its own process; each Redis deployment gets a fresh redis-server.
 */
import { newCredentials, startControlPlaneProcess, type ControlPlaneProcess } from '../infra/control-plane-process.js';
import { startRedisProcess, type RedisProcess } from '../infra/redis-process.js';

/** A deployment by store and number of replicas. */
export interface DeploymentSpec {
  readonly store: 'memory' | 'redis';
  readonly replicas: number;
}

export const DEPLOYMENTS: readonly DeploymentSpec[] = [
  { store: 'memory', replicas: 1 },
  { store: 'redis', replicas: 1 },
  { store: 'redis', replicas: 3 },
];

/** How a deployment is named in the result (the plots' series). */
export function deploymentLabel(spec: DeploymentSpec): string {
  return `${spec.store} ×${spec.replicas}`;
}

export interface Deployment {
  readonly spec: DeploymentSpec;
  /** The replicas; all serve the same environment. */
  readonly replicas: readonly ControlPlaneProcess[];
  /** Stops the replicas, then Redis. */
  close(): Promise<void>;
}

/** Starts the deployment's Redis (when it has one) and its replicas, in parallel. */
export async function startDeployment(spec: DeploymentSpec): Promise<Deployment> {
  const redis: RedisProcess | undefined = spec.store === 'redis' ? await startRedisProcess() : undefined;
  const credentials = newCredentials();
  const started = await Promise.allSettled(
    Array.from({ length: spec.replicas }, () =>
      startControlPlaneProcess({ store: spec.store, credentials, ...(redis === undefined ? {} : { redisUrl: redis.url }) }),
    ),
  );
  const replicas = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  async function close(): Promise<void> {
    await Promise.all(replicas.map((replica) => replica.close()));
    await redis?.stop();
  }
  const failure = started.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) {
    await close();
    throw failure.reason;
  }
  return { spec, replicas, close };
}
