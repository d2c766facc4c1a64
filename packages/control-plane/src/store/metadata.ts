/**
 * Metadata rules shared by enqueue and update (contract §5): at most 16 keys, each key 1–64
 * characters, each value at most 512. Errors name the offending key (shortened when long) and the
 * rule; metadata is not a credential, so naming a key is safe.
 */
import { METADATA_LIMITS, type Metadata, type MetadataPatch } from '@envworker/core';
import { StoreError } from './store-error.js';

/** Checks the metadata of a new item and returns it as a map (keys such as `__proto__` stay plain keys). */
export function metadataFromInput(metadata: Metadata | undefined): Map<string, string> {
  const result = new Map<string, string>();
  if (metadata === undefined) return result;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw StoreError.invalid('metadata: must be an object of string values');
  }
  for (const [key, value] of Object.entries(metadata)) {
    checkKey(key);
    if (typeof value !== 'string') throw StoreError.invalid(`${field(key)}: must be a string`);
    checkValue(key, value);
    result.set(key, value);
  }
  checkCount(result.size);
  return result;
}

/**
 * Applies a merge patch (a string upserts, `null` deletes) to `current` and returns the result;
 * `current` is left untouched when the patch is refused.
 */
export function applyMetadataPatch(current: ReadonlyMap<string, string>, patch: MetadataPatch): Map<string, string> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw StoreError.invalid('metadata: must be an object of string or null values');
  }
  const result = new Map(current);
  for (const [key, value] of Object.entries(patch)) {
    checkKey(key);
    if (value === null) {
      result.delete(key);
      continue;
    }
    if (typeof value !== 'string') throw StoreError.invalid(`${field(key)}: must be a string or null`);
    checkValue(key, value);
    result.set(key, value);
  }
  checkCount(result.size);
  return result;
}

function checkKey(key: string): void {
  if (key.length === 0) throw StoreError.invalid('metadata: keys must not be empty');
  if (key.length > METADATA_LIMITS.maxKeyLength) {
    throw StoreError.invalid(`${field(key)}: key must be at most ${METADATA_LIMITS.maxKeyLength} characters, got ${key.length}`);
  }
}

function checkValue(key: string, value: string): void {
  if (value.length > METADATA_LIMITS.maxValueLength) {
    throw StoreError.invalid(`${field(key)}: value must be at most ${METADATA_LIMITS.maxValueLength} characters, got ${value.length}`);
  }
}

function checkCount(count: number): void {
  if (count > METADATA_LIMITS.maxKeys) {
    throw StoreError.invalid(`metadata: at most ${METADATA_LIMITS.maxKeys} keys are allowed, the result would have ${count}`);
  }
}

/** `metadata.<key>`, the key shortened so that a message stays readable. */
function field(key: string): string {
  const shown = key.length > METADATA_LIMITS.maxKeyLength ? `${key.slice(0, METADATA_LIMITS.maxKeyLength)}…` : key;
  return `metadata.${JSON.stringify(shown)}`;
}
