/**
 * @envworker/control-plane: a local Work API server. It serves every endpoint of the Work API
 * contract over HTTP, backed by a {@link WorkStore} (in memory by default), so that workers can be
 * developed and tested without the hosted service.
 *
 * @example
 * ```ts
 * import { startControlPlane } from '@envworker/control-plane';
 *
 * const cp = await startControlPlane();
 * await cp.enqueue();
 * console.log(cp.url, cp.environments[0].id);
 * await cp.close();
 * ```
 */
export {
  startControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
  type EnvironmentOption,
} from './start-control-plane.js';
export type { LoggerOptions } from './server/build-server.js';
export type { RateLimitOptions } from './server/rate-limiter.js';
export { MemoryWorkStore, type MemoryWorkStoreOptions } from './store/memory-store.js';
export { RedisWorkStore, type RedisWorkStoreOptions } from './store/redis/redis-store.js';
export { StoreError } from './store/store-error.js';
export type {
  BearerPrincipal,
  CreateEnvironmentInput,
  EnqueueInput,
  EnvironmentRecord,
  HeartbeatInput,
  LeasePolicy,
  ListInput,
  PollInput,
  WorkStore,
} from './store/work-store.js';
