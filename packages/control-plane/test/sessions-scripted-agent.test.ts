/**
 * The scripted agent as a state machine, property-tested: for random scripts and random user
 * events (right and wrong results, retries, messages), the history and the transcript keep their
 * invariants whatever the order.
 */
import fc from 'fast-check';
import type { ScriptStep } from '@envworker/core';
import { describe, expect, it } from 'vitest';
import { EventRejected, ScriptedSession, type UserEvent } from '../src/sessions/scripted-session.js';

const step: fc.Arbitrary<ScriptStep> = fc.oneof(
  fc.record({ tool: fc.constantFrom('bash', 'read'), input: fc.constant({}), permission: fc.constantFrom(undefined, 'allow', 'ask', 'deny') as fc.Arbitrary<'allow' | 'ask' | 'deny' | undefined>, confirm: fc.constantFrom(undefined, 'allow', 'deny') as fc.Arbitrary<'allow' | 'deny' | undefined> }, { requiredKeys: ['tool', 'input'] }),
  fc.record({ custom_tool: fc.constant('lookup'), input: fc.constant({}) }),
  fc.record({ message: fc.constant('note') }),
  fc.constant({ terminate: true as const }),
) as fc.Arbitrary<ScriptStep>;

/** What the simulated worker does next: answer the open call, answer a past one again, a wrong id, or a message. */
const action = fc.constantFrom('answer', 'retry', 'wrong', 'message');

describe('the scripted agent', () => {
  it('answers each call at most once, only grows, and ends with end_turn or terminated, or waits on one call', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), fc.array(action, { maxLength: 30 }), (script, actions) => {
        let now = 1_800_000_000_000;
        const session = new ScriptedSession({ id: 'sesn_x', environmentId: 'env_x', workId: 'work_x', spec: { script }, skills: [], now: () => (now += 1) });
        let lastLength = session.events.length;
        for (const next of actions) {
          const pending = session.calls.find((call) => call.outcome === 'pending');
          const answered = session.calls.find((call) => call.outcome === 'answered');
          const resultOf = (id: string, kind: string): UserEvent =>
            kind === 'tool' ? { type: 'user.tool_result', tool_use_id: id, content: [{ type: 'text', text: 'ok' }] } : { type: 'user.custom_tool_result', custom_tool_use_id: id, content: [] };
          try {
            if (next === 'answer' && pending !== undefined) session.receive([resultOf(pending.tool_use_id, pending.kind)]);
            else if (next === 'retry' && answered !== undefined) session.receive([resultOf(answered.tool_use_id, answered.kind)]);
            else if (next === 'wrong') expect(() => session.receive([resultOf('sevt_unknown', 'tool')])).toThrow(EventRejected);
            else if (next === 'message') session.receive([{ type: 'user.message', content: [{ type: 'text', text: 'hi' }] }]);
          } catch (error) {
            if (!(error instanceof EventRejected)) throw error;
          }
          expect(session.events.length).toBeGreaterThanOrEqual(lastLength);
          lastLength = session.events.length;
        }
        const transcript = session.transcript();
        // Every call is answered at most once in the history, and the transcript says so.
        for (const call of transcript.calls) {
          const results = session.events.filter((event) => event['tool_use_id'] === call.tool_use_id && event.type === 'user.tool_result').length + session.events.filter((event) => event['custom_tool_use_id'] === call.tool_use_id).length;
          expect(results).toBeLessThanOrEqual(1);
          expect(call.outcome === 'answered').toBe(results === 1);
        }
        // At most one call waits, and only while the script is not done.
        const waiting = transcript.calls.filter((call) => call.outcome === 'pending').length;
        expect(waiting).toBeLessThanOrEqual(1);
        if (transcript.done && session.status !== 'terminated') expect(waiting).toBe(0);
        // The agent's last word (users may write after it): the turn's end, or a wait for a result.
        const last = session.events.filter((event) => !event.type.startsWith('user.')).at(-1);
        if (transcript.done) {
          const ended = last?.type === 'session.status_terminated' || (last?.type === 'session.status_idle' && (last['stop_reason'] as { type: string }).type === 'end_turn');
          expect(ended).toBe(true);
        } else {
          expect(last?.type).toBe('session.status_idle');
          expect((last?.['stop_reason'] as { type: string }).type).toBe('requires_action');
        }
        // Event ids are unique.
        expect(new Set(session.events.map((event) => event.id)).size).toBe(session.events.length);
      }),
      { numRuns: 300 },
    );
  });
});
