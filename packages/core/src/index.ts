/**
 * @envworker/core: the Work API client and wire types, time, and (later) the actors and the
 * runtime interface.
 */
export * from './api/wire.js';
export { formatTimestamp, parseTimestamp, millisToMicros } from './api/timestamp.js';
export { decodeWorkSecret, encodeWorkSecret, type DecodedWorkSecret } from './api/secret.js';
export { systemClock, type Clock, type TimerHandle } from './time/clock.js';
export { VirtualClock } from './time/virtual-clock.js';
