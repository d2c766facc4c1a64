/**
 * The body of `POST /v1/sessions/{id}/events`, checked field by field before anything is applied:
 * 1–100 user events of the types a client may send, with the content blocks the API takes. A bad
 * one is a 400 naming the field (`events[0].tool_use_id: must be a string`).
 */
import { ApiError } from '../server/api-error.js';
import type { UserEvent } from './scripted-session.js';

const MAX_EVENTS = 100;
const MAX_TEXT = 1024 * 1024;
const BLOCK_TYPES = ['text', 'image', 'document', 'search_result'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function id(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw ApiError.invalid(`${field}: must be a string of 1–256 characters`);
}

function content(value: unknown, field: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (!Array.isArray(value)) throw ApiError.invalid(`${field}: must be an array of content blocks`);
  value.forEach((block, index) => {
    const at = `${field}[${index}]`;
    if (!isObject(block)) throw ApiError.invalid(`${at}: must be an object`);
    if (!(BLOCK_TYPES as readonly unknown[]).includes(block['type'])) throw ApiError.invalid(`${at}.type: must be one of ${BLOCK_TYPES.join(', ')}`);
    if (block['type'] === 'text' && (typeof block['text'] !== 'string' || block['text'].length > MAX_TEXT)) throw ApiError.invalid(`${at}.text: must be a string`);
    if (block['type'] !== 'text' && !isObject(block['source']) && block['type'] !== 'search_result') throw ApiError.invalid(`${at}.source: must be an object`);
  });
}

function isError(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw ApiError.invalid(`${field}: must be a boolean`);
}

/** The events of a sent batch; throws a 400 naming the first bad field. */
export function parseSentEvents(body: unknown): UserEvent[] {
  if (!isObject(body)) throw ApiError.invalid('body: must be a JSON object');
  for (const key of Object.keys(body)) if (key !== 'events') throw ApiError.invalid(`${key}: unknown field`);
  const events = body['events'];
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS) throw ApiError.invalid(`events: must be an array of 1–${MAX_EVENTS} events`);
  return events.map((event: unknown, index) => {
    const at = `events[${index}]`;
    if (!isObject(event)) throw ApiError.invalid(`${at}: must be an object`);
    switch (event['type']) {
      case 'user.tool_result':
        id(event['tool_use_id'], `${at}.tool_use_id`);
        content(event['content'], `${at}.content`, false);
        isError(event['is_error'], `${at}.is_error`);
        break;
      case 'user.custom_tool_result':
        id(event['custom_tool_use_id'], `${at}.custom_tool_use_id`);
        content(event['content'], `${at}.content`, false);
        isError(event['is_error'], `${at}.is_error`);
        break;
      case 'user.message':
        content(event['content'], `${at}.content`, true);
        break;
      case 'user.interrupt':
        break;
      case 'user.tool_confirmation':
        id(event['tool_use_id'], `${at}.tool_use_id`);
        if (event['result'] !== 'allow' && event['result'] !== 'deny') throw ApiError.invalid(`${at}.result: must be "allow" or "deny"`);
        break;
      default:
        throw ApiError.invalid(`${at}.type: must be one of user.tool_result, user.custom_tool_result, user.message, user.interrupt, user.tool_confirmation`);
    }
    return event as UserEvent;
  });
}
