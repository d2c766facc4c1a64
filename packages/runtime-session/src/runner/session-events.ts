/**
 * What the runner makes of each session event. Events come from the server (a page of the history
 * or the live stream) and are untrusted: each type the runner acts on is checked here, and a
 * malformed one becomes a `malformed` classification that names the field, so that a bad tool
 * call is answered with an error result and any other bad event is skipped with a warning,
 * never thrown at the runner. Types the runner does not act on are `other`.
 */
import { z } from 'zod';
import type { SessionEvent } from '@envworker/core';

/** Which kind of call an event asks for: a built-in tool (`user.tool_result`) or a custom one (`user.custom_tool_result`). */
export type CallKind = 'tool' | 'custom_tool';

/** A tool call the session asks for. */
export interface ToolCall {
  readonly kind: CallKind;
  /** The event's id: what the result answers. */
  readonly id: string;
  readonly name: string;
  /** As the server sent it; the tool's own `parse` checks it. */
  readonly input: Readonly<Record<string, unknown>>;
  /** `allow` or absent: run it; `deny`: never; anything else (`ask`, or one this runner does not know): wait for a confirmation. */
  readonly permission: string | undefined;
  readonly threadId: string | undefined;
}

export type ClassifiedEvent =
  | { readonly kind: 'call'; readonly call: ToolCall }
  /** A tool call that cannot be run as sent. With an id it is answered with `problem` as its error result. */
  | { readonly kind: 'malformed_call'; readonly callKind: CallKind; readonly id: string | undefined; readonly problem: string }
  | { readonly kind: 'answered'; readonly toolUseId: string }
  | { readonly kind: 'confirmation'; readonly toolUseId: string; readonly verdict: string }
  /** `session.status_idle`: `endsTurn` unless it waits for an action (`requires_action`). */
  | { readonly kind: 'idle'; readonly endsTurn: boolean }
  | { readonly kind: 'terminated' }
  | { readonly kind: 'thread_terminated'; readonly threadId: string }
  /** Any other event, or one of the types above that is malformed and ignorable (`problem` says why). */
  | { readonly kind: 'other'; readonly type: string; readonly problem?: string };

const id = z.string().min(1).max(256);

const ToolCallSchema = z.looseObject({
  id,
  name: z.string().min(1).max(256),
  input: z.record(z.string(), z.unknown()),
  evaluated_permission: z.string().optional(),
  session_thread_id: z.string().nullable().optional(),
});

const SCHEMAS = {
  'user.tool_result': z.looseObject({ tool_use_id: id }),
  'user.custom_tool_result': z.looseObject({ custom_tool_use_id: id }),
  'user.tool_confirmation': z.looseObject({ tool_use_id: id, result: z.string() }),
  'session.status_idle': z.looseObject({ stop_reason: z.looseObject({ type: z.string() }).nullable().optional() }),
  'session.thread_status_terminated': z.looseObject({ session_thread_id: id }),
} as const;

/** Classifies one event; never throws. */
export function classifyEvent(event: SessionEvent): ClassifiedEvent {
  switch (event.type) {
    case 'agent.tool_use':
      return classifyCall(event, 'tool');
    case 'agent.custom_tool_use':
      return classifyCall(event, 'custom_tool');
    case 'user.tool_result': {
      const parsed = check(event, SCHEMAS['user.tool_result']);
      return 'problem' in parsed ? ignored(event, parsed.problem) : { kind: 'answered', toolUseId: parsed.value.tool_use_id };
    }
    case 'user.custom_tool_result': {
      const parsed = check(event, SCHEMAS['user.custom_tool_result']);
      return 'problem' in parsed ? ignored(event, parsed.problem) : { kind: 'answered', toolUseId: parsed.value.custom_tool_use_id };
    }
    case 'user.tool_confirmation': {
      const parsed = check(event, SCHEMAS['user.tool_confirmation']);
      return 'problem' in parsed
        ? ignored(event, parsed.problem)
        : { kind: 'confirmation', toolUseId: parsed.value.tool_use_id, verdict: parsed.value.result };
    }
    case 'session.status_idle': {
      const parsed = check(event, SCHEMAS['session.status_idle']);
      // An idle whose stop reason cannot be read ends the turn: waiting forever on it would hold the item.
      if ('problem' in parsed) return { kind: 'idle', endsTurn: true };
      return { kind: 'idle', endsTurn: parsed.value.stop_reason?.type !== 'requires_action' };
    }
    case 'session.status_terminated':
    case 'session.deleted':
      return { kind: 'terminated' };
    case 'session.thread_status_terminated': {
      const parsed = check(event, SCHEMAS['session.thread_status_terminated']);
      return 'problem' in parsed ? ignored(event, parsed.problem) : { kind: 'thread_terminated', threadId: parsed.value.session_thread_id };
    }
    default:
      return { kind: 'other', type: event.type };
  }
}

/**
 * Whether an event leaves the idle countdown alone: a confirmation acts on the calls it releases,
 * and a thread's end can come after the last idle, which would then never arm again.
 */
export function isIdleNeutral(event: ClassifiedEvent): boolean {
  return event.kind === 'confirmation' || event.kind === 'thread_terminated';
}

function classifyCall(event: SessionEvent, callKind: CallKind): ClassifiedEvent {
  const parsed = check(event, ToolCallSchema);
  if ('problem' in parsed) {
    const rawId = (event as { id?: unknown }).id;
    const usableId = id.safeParse(rawId).success ? (rawId as string) : undefined;
    return { kind: 'malformed_call', callKind, id: usableId, problem: parsed.problem };
  }
  const { value } = parsed;
  return {
    kind: 'call',
    call: {
      kind: callKind,
      id: value.id,
      name: value.name,
      input: value.input,
      permission: value.evaluated_permission,
      threadId: value.session_thread_id ?? undefined,
    },
  };
}

function check<S extends z.ZodType>(event: SessionEvent, schema: S): { value: z.output<S> } | { problem: string } {
  const parsed = schema.safeParse(event);
  if (parsed.success) return { value: parsed.data };
  return { problem: `${event.type}: ${describeIssue(parsed.error.issues[0])}` };
}

/** `input: expected an object`: the field's path and what it must be, never the value sent. */
function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return 'invalid';
  const path = issue.path.length === 0 ? '(event)' : issue.path.map(String).join('.');
  return `${path}: ${issue.message.replace(/^Invalid input: /, '')}`;
}

function ignored(event: SessionEvent, problem: string): ClassifiedEvent {
  return { kind: 'other', type: event.type, problem };
}
