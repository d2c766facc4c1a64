/**
 * The checks every store makes of its own inputs (environment records and enqueued work data),
 * so that the memory and Redis stores refuse the same inputs with the same messages.
 */
import { ID_PREFIXES, type WorkData } from '@envworker/core';
import { HEALTHCHECK_ID_PREFIX, isId, newId } from '../ids.js';
import { StoreError } from './store-error.js';
import type { CreateEnvironmentInput, EnqueueInput } from './work-store.js';

const ENVIRONMENT_KEY_PATTERN = /^[\x21-\x7e]{16,256}$/;
const MAX_NAME_LENGTH = 256;
const MAX_DATA_ID_LENGTH = 128;

/** Refuses an environment whose name, given id or given key is malformed. */
export function checkEnvironmentInput(input: CreateEnvironmentInput): void {
  if (typeof input.name !== 'string' || input.name.length === 0 || input.name.length > MAX_NAME_LENGTH) {
    throw StoreError.invalid(`name: must be a string of 1–${MAX_NAME_LENGTH} characters`);
  }
  if (input.id !== undefined && !isId(ID_PREFIXES.environment, input.id)) {
    throw StoreError.invalid(`id: must be ${ID_PREFIXES.environment} followed by 24 base62 characters`);
  }
  if (input.key !== undefined && !ENVIRONMENT_KEY_PATTERN.test(input.key)) {
    throw StoreError.invalid('key: must be 16–256 printable ASCII characters without spaces');
  }
}

/** The work data of an enqueue: as given (checked), with a generated id where none was given. */
export function workDataFromInput(input: EnqueueInput['data']): WorkData {
  if (input === undefined) return { type: 'session', id: newId(ID_PREFIXES.session) };
  if (input.type !== 'session' && input.type !== 'healthcheck') {
    throw StoreError.invalid('data.type: must be "session" or "healthcheck"');
  }
  if (input.id !== undefined && (typeof input.id !== 'string' || input.id.length === 0 || input.id.length > MAX_DATA_ID_LENGTH)) {
    throw StoreError.invalid(`data.id: must be a string of 1–${MAX_DATA_ID_LENGTH} characters`);
  }
  return { type: input.type, id: input.id ?? newId(input.type === 'session' ? ID_PREFIXES.session : HEALTHCHECK_ID_PREFIX) };
}
