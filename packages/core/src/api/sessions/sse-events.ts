/**
 * Reading a session's event stream: Server-Sent Events (parsed by `eventsource-parser`), where
 * each message named with an event name carries one session event as JSON. As the official SDK
 * reads it: `ping` and unnamed messages are skipped, an `error` message is the server's error
 * envelope and ends the stream with a `WorkApiError`. A message whose data is not a JSON object
 * with a `type` does not end the stream: it is yielded as a {@link MalformedStreamEvent}, so the
 * reader can say what was wrong and go on.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { WorkApiError } from '../errors.js';
import { SessionEventSchema, type SessionEvent } from './session-wire.js';

/** A stream message that could not be read as a session event; `reason` never quotes it. */
export class MalformedStreamEvent {
  constructor(readonly reason: string) {}
}

/** What a session event stream yields. */
export type StreamedEvent = SessionEvent | MalformedStreamEvent;

/** The longest message the reader accepts; a bigger one ends the stream (the server is misbehaving). */
const MAX_MESSAGE_CHARS = 8 * 1024 * 1024;

/** Yields the session events of an SSE body, in order, as they arrive. */
export async function* sseSessionEvents(operation: string, body: AsyncIterable<Buffer>): AsyncGenerator<StreamedEvent, void, undefined> {
  const ready: StreamedEvent[] = [];
  let failure: WorkApiError | null = null;
  const parser = createParser({
    onEvent(message: EventSourceMessage) {
      if (failure !== null) return;
      if (message.event === undefined || message.event === 'ping') return;
      if (message.event === 'error') {
        failure = streamError(operation, message.data);
        return;
      }
      ready.push(readEvent(message.data));
    },
  });
  const decoder = new TextDecoder();
  let pending = 0;
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    pending += text.length;
    parser.feed(text);
    if (ready.length > 0) pending = 0;
    if (pending > MAX_MESSAGE_CHARS) throw streamError(operation, null, `a stream message is longer than ${MAX_MESSAGE_CHARS} characters`);
    while (ready.length > 0) yield ready.shift() as StreamedEvent;
    if (failure !== null) throw failure;
  }
}

function readEvent(data: string): StreamedEvent {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return new MalformedStreamEvent('the data is not JSON');
  }
  const parsed = SessionEventSchema.safeParse(json);
  if (!parsed.success) {
    const field = parsed.error.issues[0]?.path.map(String).join('.') ?? '';
    return new MalformedStreamEvent(field === '' ? 'the data is not an object with a type' : `${field}: must be a non-empty string`);
  }
  return parsed.data;
}

/** The error of an `event: error` message (the contract's envelope), or of a broken stream. */
function streamError(operation: string, data: string | null, problem?: string): WorkApiError {
  let type = 'api_error';
  let message = problem ?? 'the stream ended with an error';
  if (data !== null) {
    try {
      const envelope = JSON.parse(data) as { error?: { type?: unknown; message?: unknown } };
      if (typeof envelope.error?.type === 'string') type = envelope.error.type;
      if (typeof envelope.error?.message === 'string') message = envelope.error.message.slice(0, 300);
    } catch {
      // An error message without an envelope still ends the stream, as an api_error.
    }
  }
  return new WorkApiError({ operation, status: null, type, message: `${operation}: ${type}: ${message}` });
}
