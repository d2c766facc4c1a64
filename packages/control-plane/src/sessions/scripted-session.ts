/**
 * One simulated session: its event history and the scripted agent that writes it. The agent
 * follows its script one step at a time: a tool step emits the tool use and waits (idle,
 * `requires_action`) for its result, a message or a raw event goes on at once, `terminate` ends
 * the session, and after the last step the turn ends (`end_turn`). Every result it receives is
 * recorded in the call it answers, so the transcript says exactly what a worker sent back.
 */
import type { ScriptSkill, ScriptStep, SessionSpec, SessionTranscript, TranscriptCall } from '@envworker/core';
import { randomBase62 } from '../ids.js';

/** A session event as stored and served: `type`, `id`, `processed_at` and the type's fields. */
export type StoredEvent = Record<string, unknown> & { readonly type: string; readonly id: string; readonly processed_at: string };

/** A skill of the session's agent, as the skills endpoints serve it. */
export interface SimulatedSkill extends ScriptSkill {
  readonly skillId: string;
  readonly versionId: string;
  readonly createdAt: string;
}

/** What the simulator served for the session, by kind (for the transcript). */
export type RequestKind = 'retrieve' | 'events_list' | 'events_stream' | 'events_send' | 'skills' | 'refused';

/** A user event a worker sent, already validated. */
export type UserEvent = Record<string, unknown> & { readonly type: string };

/** Why a sent batch was refused: the field and what is wrong with it. */
export class EventRejected extends Error {}

type Call = { -readonly [K in keyof TranscriptCall]: TranscriptCall[K] };

/** An RFC 3339 timestamp with microseconds, as the hosted API writes them. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class ScriptedSession {
  readonly id: string;
  readonly environmentId: string;
  workId: string;
  readonly skills: readonly SimulatedSkill[];
  readonly rejectAuth: boolean;
  readonly createdAt: string;
  updatedAt: string;
  status: 'running' | 'idle' | 'terminated' = 'running';
  readonly events: StoredEvent[] = [];
  readonly calls: Call[] = [];
  readonly requests: Record<RequestKind, number> = { retrieve: 0, events_list: 0, events_stream: 0, events_send: 0, skills: 0, refused: 0 };
  readonly #steps: readonly ScriptStep[];
  readonly #now: () => number;
  #position = 0;
  #done = false;
  /** The call the agent waits on, by tool use id. */
  readonly #open = new Map<string, Call>();
  readonly #listeners = new Set<(event: StoredEvent) => void>();

  constructor(input: { id: string; environmentId: string; workId: string; spec: SessionSpec; skills: readonly SimulatedSkill[]; now: () => number }) {
    this.id = input.id;
    this.environmentId = input.environmentId;
    this.workId = input.workId;
    this.skills = input.skills;
    this.rejectAuth = input.spec.reject_auth === true;
    this.#steps = input.spec.script ?? [];
    this.#now = input.now;
    this.createdAt = timestamp(this.#now());
    this.updatedAt = this.createdAt;
    if (input.spec.status === 'terminated') {
      this.#terminate();
      return;
    }
    this.#append({ type: 'user.message', content: [{ type: 'text', text: `scripted session: ${this.#steps.length} steps` }] });
    this.#append({ type: 'session.status_running' });
    this.#advance();
  }

  get done(): boolean {
    return this.#done;
  }

  /** Calls `listener` with every event appended from now on; returns the unsubscribe. */
  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Takes a batch of user events, all or nothing: a result must answer a tool use that is open
   * (or already answered: a retry, counted and not appended again). Returns the events appended.
   */
  receive(events: readonly UserEvent[]): StoredEvent[] {
    events.forEach((event, index) => {
      const id = resultTarget(event);
      if (id === null) return;
      const call = this.calls.find((candidate) => candidate.tool_use_id === id);
      const expectedKind = event.type === 'user.tool_result' ? 'tool' : 'custom_tool';
      const field = event.type === 'user.tool_result' ? 'tool_use_id' : 'custom_tool_use_id';
      if (call === undefined || call.kind !== expectedKind) throw new EventRejected(`events[${index}].${field}: no ${expectedKind === 'tool' ? 'tool use' : 'custom tool use'} ${id} in this session`);
      if (call.outcome === 'denied') throw new EventRejected(`events[${index}].${field}: the call ${id} was denied; it takes no result`);
    });
    const stored: StoredEvent[] = [];
    for (const event of events) {
      const id = resultTarget(event);
      if (id === null) {
        stored.push(this.#append(event));
        continue;
      }
      const call = this.#open.get(id);
      if (call === undefined) {
        // Answered before: a retried send.
        const answered = this.calls.find((candidate) => candidate.tool_use_id === id);
        if (answered !== undefined) answered.duplicates += 1;
        continue;
      }
      const appended = this.#append(event);
      stored.push(appended);
      this.#open.delete(id);
      call.outcome = 'answered';
      call.result = {
        is_error: event['is_error'] === true,
        content: Array.isArray(event['content']) ? (event['content'] as NonNullable<TranscriptCall['result']>['content']) : [],
        received_at: appended.processed_at,
      };
      this.#append({ type: 'session.status_running' });
      this.#advance();
    }
    this.updatedAt = timestamp(this.#now());
    return stored;
  }

  /** The transcript: the script's progress, every call and what it got, the requests served. */
  transcript(): SessionTranscript {
    return {
      type: 'session_transcript',
      session_id: this.id,
      environment_id: this.environmentId,
      work_id: this.workId,
      status: this.status,
      steps: this.#steps.length,
      position: this.#position,
      done: this.#done,
      calls: this.calls.map((call) => ({ ...call, input: { ...call.input } })),
      requests: { ...this.requests },
      created_at: this.createdAt,
      updated_at: this.updatedAt,
    };
  }

  /** Runs steps until one waits for a result, or the script ends. */
  #advance(): void {
    while (!this.#done) {
      const step = this.#steps[this.#position];
      if (step === undefined) {
        this.#append({ type: 'agent.message', content: [{ type: 'text', text: 'done' }] });
        this.#append({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });
        this.status = 'idle';
        this.#done = true;
        return;
      }
      const index = this.#position;
      this.#position += 1;
      if ('message' in step) this.#append({ type: 'agent.message', content: [{ type: 'text', text: step.message }] });
      else if ('event' in step) this.#append({ ...step.event });
      else if ('terminate' in step) {
        this.#terminate();
        return;
      } else if (this.#callStep(step, index)) return;
    }
  }

  /** Emits a tool call; true when the agent now waits for its result. */
  #callStep(step: Extract<ScriptStep, { input: unknown }>, index: number): boolean {
    const kind = 'tool' in step ? 'tool' : 'custom_tool';
    const name = 'tool' in step ? step.tool : step.custom_tool;
    const permission = 'permission' in step ? (step.permission ?? null) : null;
    const use = this.#append({
      type: kind === 'tool' ? 'agent.tool_use' : 'agent.custom_tool_use',
      name,
      input: step.input,
      ...(permission === null ? {} : { evaluated_permission: permission }),
    });
    const call: Call = {
      step: index,
      tool_use_id: use.id,
      kind,
      name,
      input: step.input,
      permission,
      confirmation: null,
      outcome: 'pending',
      result: null,
      duplicates: 0,
    };
    this.calls.push(call);
    if (permission === 'deny') {
      call.outcome = 'denied';
      return false;
    }
    this.#append({ type: 'session.status_idle', stop_reason: { type: 'requires_action', event_ids: [use.id] }, stop_details: null });
    this.status = 'idle';
    if (permission === 'ask') {
      const verdict = 'confirm' in step ? (step.confirm ?? 'allow') : 'allow';
      call.confirmation = verdict;
      this.#append({ type: 'user.tool_confirmation', tool_use_id: use.id, result: verdict });
      if (verdict === 'deny') {
        call.outcome = 'denied';
        this.#append({ type: 'session.status_running' });
        this.status = 'running';
        return false;
      }
    }
    this.#open.set(use.id, call);
    return true;
  }

  #terminate(): void {
    this.#append({ type: 'session.status_terminated' });
    this.status = 'terminated';
    this.#done = true;
    this.#open.clear();
  }

  #append(event: Record<string, unknown> & { type: string }): StoredEvent {
    if (event.type === 'session.status_running') this.status = 'running';
    const stored: StoredEvent = { ...event, id: typeof event['id'] === 'string' && event['id'] !== '' ? event['id'] : `sevt_${randomBase62(24)}`, processed_at: timestamp(this.#now()) };
    this.events.push(stored);
    this.updatedAt = stored.processed_at;
    for (const listener of [...this.#listeners]) listener(stored);
    return stored;
  }
}

/** The tool use a result answers, or `null` for any other user event. */
function resultTarget(event: UserEvent): string | null {
  if (event.type === 'user.tool_result') return event['tool_use_id'] as string;
  if (event.type === 'user.custom_tool_result') return event['custom_tool_use_id'] as string;
  return null;
}
