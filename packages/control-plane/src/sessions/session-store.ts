/**
 * The simulator's sessions, in memory: one per `session` work item enqueued on this control plane,
 * by session id, and the skills of their agents by skill id. A Redis store does not hold sessions
 * (see the README): with `store: 'redis'` a session lives in the replica that enqueued it.
 */
import type { SessionSpec } from '@envworker/core';
import { randomBase62 } from '../ids.js';
import { ScriptedSession, timestamp, type SimulatedSkill } from './scripted-session.js';

export class MemorySessionStore {
  readonly #sessions = new Map<string, ScriptedSession>();
  readonly #skills = new Map<string, { readonly session: ScriptedSession; readonly skill: SimulatedSkill }>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  get(sessionId: string): ScriptedSession | undefined {
    return this.#sessions.get(sessionId);
  }

  /** Creates the session of a work item about to be enqueued (its work id is set once it is). */
  create(sessionId: string, environmentId: string, spec: SessionSpec): ScriptedSession {
    const createdAt = timestamp(this.#now());
    const skills: SimulatedSkill[] = (spec.skills ?? []).map((skill) => ({
      ...skill,
      skillId: `skill_${randomBase62(24)}`,
      versionId: String(this.#now() * 1000 + Math.floor(Math.random() * 1000)),
      createdAt,
    }));
    const session = new ScriptedSession({ id: sessionId, environmentId, workId: 'work_pending', spec, skills, now: this.#now });
    this.#sessions.set(sessionId, session);
    for (const skill of skills) this.#skills.set(skill.skillId, { session, skill });
    return session;
  }

  /** Forgets a session whose item could not be enqueued. */
  remove(sessionId: string): void {
    const session = this.#sessions.get(sessionId);
    if (session === undefined) return;
    this.#sessions.delete(sessionId);
    for (const skill of session.skills) this.#skills.delete(skill.skillId);
  }

  skill(skillId: string): { readonly session: ScriptedSession; readonly skill: SimulatedSkill } | undefined {
    return this.#skills.get(skillId);
  }
}
