/**
 * Validation of what a request carries besides its credential: query strings and JSON bodies.
 * Every refusal is a 400 whose message starts with the field at fault. Unknown query parameters
 * and unknown body fields are refused, except `beta`, which some SDK versions append to every path.
 */
import type { EnqueueInput } from '../store/work-store.js';
import type { Metadata, MetadataPatch } from '@envworker/core';
import { ApiError } from './api-error.js';

/** Parses one query parameter's text, or throws a 400 naming `name`. */
export type QueryParser<T> = (text: string, name: string) => T;

/** The parameters a route accepts, each with its parser. */
export type QuerySpec = Readonly<Record<string, QueryParser<unknown>>>;

/** The parsed query: every parameter optional (absent when not sent). */
export type ParsedQuery<S extends QuerySpec> = { -readonly [K in keyof S]?: ReturnType<S[K]> };

/** Accepted on every route and ignored. */
const IGNORED_PARAMETERS = new Set(['beta']);

export function parseQuery<S extends QuerySpec>(query: unknown, spec: S): ParsedQuery<S> {
  const result: Record<string, unknown> = {};
  if (query === undefined || query === null) return result as ParsedQuery<S>;
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    if (IGNORED_PARAMETERS.has(name)) continue;
    const parser = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (parser === undefined) throw ApiError.invalid(`${name.length === 0 ? '""' : shorten(name)}: unknown query parameter`);
    if (typeof value !== 'string') throw ApiError.invalid(`${name}: must be given once`);
    result[name] = parser(value, name);
  }
  return result as ParsedQuery<S>;
}

/** An integer written in plain decimal digits within `[min, max]`. */
export function integerParameter(min: number, max: number): QueryParser<number> {
  const rule = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer between ${min} and ${max}`;
  return (text, name) => {
    const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw ApiError.invalid(`${name}: must be ${rule}`);
    return value;
  };
}

/** A non-empty string of at most `maxLength` characters. */
export function stringParameter(maxLength: number): QueryParser<string> {
  return (text, name) => {
    if (text.length === 0 || text.length > maxLength) {
      throw ApiError.invalid(`${name}: must be a non-empty string of at most ${maxLength} characters`);
    }
    return text;
  };
}

/** For endpoints that take no body (ack, heartbeat): only an absent or empty one passes. */
export function requireNoBody(body: unknown, endpoint: string): void {
  if (body !== undefined) throw ApiError.invalid(`body: ${endpoint} takes no body`);
}

/** Stop's optional body: `{}` or `{"force": bool}`; an absent body means `force: false`. */
export function parseStopBody(body: unknown): { force: boolean } {
  if (body === undefined) return { force: false };
  const object = jsonObject(body, 'body', ['force']);
  const force = object['force'];
  if (force !== undefined && typeof force !== 'boolean') throw ApiError.invalid('force: must be a boolean');
  return { force: force ?? false };
}

/** Update's body: `{"metadata": {key: string | null}}`. Limits are the store's to check. */
export function parseUpdateBody(body: unknown): MetadataPatch {
  const object = jsonObject(body, 'body', ['metadata']);
  if (object['metadata'] === undefined) return {};
  const metadata = jsonObject(object['metadata'], 'metadata');
  for (const [key, value] of Object.entries(metadata)) {
    if (value !== null && typeof value !== 'string') throw ApiError.invalid(`${metadataField(key)}: must be a string or null`);
  }
  return metadata as MetadataPatch;
}

/** Enqueue's body (local extension): `{data?: {type, id?}, metadata?}`; an absent body enqueues a session. */
/** Enqueue's body (local extension): `{data?, metadata?, session?}`; `session` is returned as sent, for the simulator to check. */
export function parseEnqueueBody(body: unknown): { input: EnqueueInput; session: unknown } {
  if (body === undefined) return { input: {}, session: undefined };
  const object = jsonObject(body, 'body', ['data', 'metadata', 'session']);
  const input: { data?: NonNullable<EnqueueInput['data']>; metadata?: Metadata } = {};
  if (object['data'] !== undefined) {
    const data = jsonObject(object['data'], 'data', ['type', 'id']);
    const type = data['type'];
    if (type !== 'session' && type !== 'healthcheck') throw ApiError.invalid('data.type: must be "session" or "healthcheck"');
    const id = data['id'];
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 128)) {
      throw ApiError.invalid('data.id: must be a string of 1–128 characters');
    }
    input.data = id === undefined ? { type } : { type, id };
  }
  if (object['metadata'] !== undefined) {
    const metadata = jsonObject(object['metadata'], 'metadata');
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw ApiError.invalid(`${metadataField(key)}: must be a string`);
    }
    input.metadata = metadata as Metadata;
  }
  return { input, session: object['session'] };
}

/** Create-environment's body (local extension): `{name, config?: {type: "self_hosted"}}`. */
export function parseCreateEnvironmentBody(body: unknown): { name: string } {
  const object = jsonObject(body, 'body', ['name', 'config']);
  const name = object['name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
    throw ApiError.invalid('name: must be a string of 1–256 characters');
  }
  if (object['config'] !== undefined) {
    const config = jsonObject(object['config'], 'config', ['type']);
    if (config['type'] !== 'self_hosted') throw ApiError.invalid('config.type: must be "self_hosted"');
  }
  return { name };
}

/** A JSON object; with `allowed`, a field outside it is refused. */
function jsonObject(value: unknown, field: string, allowed?: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ApiError.invalid(`${field}: must be a JSON object`);
  }
  const object = value as Record<string, unknown>;
  if (allowed !== undefined) {
    for (const key of Object.keys(object)) {
      if (!allowed.includes(key)) {
        throw ApiError.invalid(`${field}: unknown field ${JSON.stringify(shorten(key))}`);
      }
    }
  }
  return object;
}

function metadataField(key: string): string {
  return `metadata.${JSON.stringify(shorten(key))}`;
}

/** Names from a request, cut so that an error message stays short. */
function shorten(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}
