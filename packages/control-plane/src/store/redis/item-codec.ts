/**
 * The item hash of the Redis store (field names in scripts.ts) to and from the wire `Work`.
 * Metadata is kept as a JSON array of pairs, so its order and keys such as `__proto__` survive.
 */
import { formatTimestamp, type Work, type WorkState } from '@envworker/core';

/** An item hash, decoded from `HGETALL`'s flat reply. */
export type ItemFields = ReadonlyMap<string, string>;

export function fieldsFromReply(reply: unknown): ItemFields {
  if (!Array.isArray(reply)) throw new TypeError('redis store: an item reply is not an array');
  const fields = new Map<string, string>();
  for (let index = 0; index + 1 < reply.length; index += 2) fields.set(String(reply[index]), String(reply[index + 1]));
  return fields;
}

export function encodeMetadata(metadata: ReadonlyMap<string, string>): string {
  return JSON.stringify([...metadata]);
}

export function decodeMetadata(text: string | undefined): Map<string, string> {
  return new Map(text === undefined ? [] : (JSON.parse(text) as Array<[string, string]>));
}

/** Decimal microseconds of a field, or `null` when absent. */
export function microsField(fields: ItemFields, name: string): number | null {
  const text = fields.get(name);
  return text === undefined ? null : Number(text);
}

function time(fields: ItemFields, name: string): string | null {
  const micros = microsField(fields, name);
  return micros === null ? null : formatTimestamp(micros);
}

/** The wire form of an item; `secret` is non-null only in a poll's answer. */
export function workFromFields(environmentId: string, fields: ItemFields, secret: string | null): Work {
  return {
    type: 'work',
    id: fields.get('id') ?? '',
    environment_id: environmentId,
    data: { type: fields.get('dt') === 'healthcheck' ? 'healthcheck' : 'session', id: fields.get('di') ?? '' },
    state: (fields.get('s') ?? 'queued') as WorkState,
    created_at: time(fields, 'c') ?? formatTimestamp(0),
    acknowledged_at: time(fields, 'a'),
    started_at: time(fields, 'st'),
    latest_heartbeat_at: time(fields, 'hb'),
    stop_requested_at: time(fields, 'sr'),
    stopped_at: time(fields, 'sp'),
    metadata: Object.fromEntries(decodeMetadata(fields.get('m'))),
    secret,
  };
}
