/**
 * Identifiers and credentials: ids (`work_…`, `sesn_…`, `env_…`), environment keys, sessions
 * tokens, admin keys and request ids, all drawn from the operating system's CSPRNG as base62.
 */
import { randomFillSync } from 'node:crypto';
import { ID_BODY_LENGTH } from '@envworker/core';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The largest multiple of 62 that fits in a byte: bytes at or above it are rejected, so every character is equally likely. */
const UNBIASED_LIMIT = 248;

/** How many random base62 characters a credential carries (about 238 bits). */
export const CREDENTIAL_BODY_LENGTH = 40;

/**
 * Random bytes are drawn from the CSPRNG a pool at a time (as `crypto.randomUUID` does): every
 * request needs an id, and a call into the CSPRNG per id is a measurable share of a request.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++] as number;
}

/** `length` uniformly random base62 characters. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const byte = randomByte();
    if (byte < UNBIASED_LIMIT) out += BASE62[byte % 62];
  }
  return out;
}

/** A new id: `prefix` and 24 random base62 characters (contract §1). */
export function newId(prefix: string): string {
  return prefix + randomBase62(ID_BODY_LENGTH);
}

/** A new credential: a recognisable prefix (so a leaked one can be spotted) and 40 random base62 characters. */
export function newCredential(prefix: string): string {
  return prefix + randomBase62(CREDENTIAL_BODY_LENGTH);
}

/** Whether `text` is `prefix` followed by exactly 24 base62 characters. */
export function isId(prefix: string, text: string): boolean {
  if (!text.startsWith(prefix) || text.length !== prefix.length + ID_BODY_LENGTH) return false;
  return /^[0-9A-Za-z]+$/.test(text.slice(prefix.length));
}

/** Prefixes of the credentials this package issues. */
export const CREDENTIAL_PREFIXES = {
  environmentKey: 'ek_',
  sessionsToken: 'wst_',
  adminKey: 'adm_',
} as const;

/** Prefix of the `request-id` header's value. */
export const REQUEST_ID_PREFIX = 'req_';

/** Prefix of a generated health-check id (the contract names none). */
export const HEALTHCHECK_ID_PREFIX = 'hc_';
