/**
 * The `secret` of a polled work item: a base64url JSON document carrying the item's sessions
 * token. Its input is untrusted, and it is a credential, so decoding never throws and a failure
 * reason never repeats any part of the input.
 */
import { WorkSecretSchema, type WorkSecret } from './wire.js';

/** The outcome of decoding a `secret`: the payload, or `null` and a reason safe to log. */
export type DecodedWorkSecret = { secret: WorkSecret; reason: null } | { secret: null; reason: string };

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes a work item's `secret` (base64url, with or without padding) into its payload.
 *
 * @example
 * ```ts
 * const { secret, reason } = decodeWorkSecret(work.secret);
 * if (secret) useToken(secret.sessions_token);
 * else logger.warn({ reason }, 'work item carries no usable secret');
 * ```
 */
export function decodeWorkSecret(input: unknown): DecodedWorkSecret {
  if (typeof input !== 'string') return { secret: null, reason: `secret must be a string, got ${describeType(input)}` };
  if (input.length === 0) return { secret: null, reason: 'secret is empty' };
  if (!BASE64URL.test(input)) return { secret: null, reason: 'secret is not base64url' };
  const unpadded = input.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return { secret: null, reason: 'secret has an impossible base64url length' };
  if (input.length !== unpadded.length && input.length % 4 !== 0) {
    return { secret: null, reason: 'secret has wrong base64url padding' };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(unpadded, 'base64url').toString('utf8'));
  } catch {
    return { secret: null, reason: 'secret does not decode to JSON' };
  }
  const parsed = WorkSecretSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ');
    return { secret: null, reason: `secret payload is invalid at: ${fields}` };
  }
  return { secret: parsed.data, reason: null };
}

/** Encodes a secret payload as the server sends it: base64url without padding. */
export function encodeWorkSecret(secret: WorkSecret): string {
  return Buffer.from(JSON.stringify(secret), 'utf8').toString('base64url');
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
