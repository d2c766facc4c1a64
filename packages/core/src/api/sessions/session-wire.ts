/**
 * The Sessions API objects a worker reads (`/v1/sessions/{id}`, its events, the skills of its
 * agent), each as a runtime schema and its type. Like the Work API's, the schemas are loose: they
 * check the fields a worker acts on and let everything else through, so a server that adds fields
 * or event types breaks nothing. An event is checked only as an envelope here (an object with a
 * `type`); what each type must carry is checked where it is acted on, so one malformed event can
 * be answered by name instead of failing the whole page or stream.
 */
import { z } from 'zod';
import { TimestampSchema } from '../wire.js';

/** The states of a session, as `GET /v1/sessions/{id}` reports them. */
export const SESSION_STATUSES = ['rescheduling', 'running', 'idle', 'terminated'] as const;

/** A skill the session's agent has: downloaded into the work directory before the session is served. */
export const SessionSkillSchema = z.looseObject({
  type: z.string(),
  skill_id: z.string().min(1),
  version: z.string().min(1),
});
export type SessionSkill = z.infer<typeof SessionSkillSchema>;

export const SessionSchema = z.looseObject({
  type: z.literal('session'),
  id: z.string().min(1),
  // A status this client does not know is kept as text: only `terminated` changes what a worker does.
  status: z.string().min(1),
  environment_id: z.string().min(1),
  agent: z.looseObject({
    skills: z.array(SessionSkillSchema),
  }),
  resources: z.array(z.looseObject({ type: z.string() })),
  created_at: TimestampSchema,
});
/** A session (the fields a worker reads; the rest pass through). */
export type Session = z.infer<typeof SessionSchema>;

/** Any session event: an object with a `type`, whatever else it holds. */
export const SessionEventSchema = z.looseObject({ type: z.string().min(1) });
export type SessionEvent = z.infer<typeof SessionEventSchema>;

export const SessionEventsPageSchema = z.looseObject({
  data: z.array(SessionEventSchema),
  next_page: z.string().min(1).nullable().optional(),
});
/** One page of a session's events (`GET /v1/sessions/{id}/events`). */
export type SessionEventsPage = z.infer<typeof SessionEventsPageSchema>;

export const SentEventsSchema = z.looseObject({
  data: z.array(SessionEventSchema).optional(),
});
/** The answer to `POST /v1/sessions/{id}/events`: the events as the server recorded them. */
export type SentEvents = z.infer<typeof SentEventsSchema>;

export const SkillVersionSchema = z.looseObject({
  type: z.literal('skill_version'),
  id: z.string().min(1),
  skill_id: z.string().min(1),
  name: z.string(),
});
/** One version of a skill (`GET /v1/skills/{id}/versions/{version}`); `id` is what its content is downloaded by. */
export type SkillVersion = z.infer<typeof SkillVersionSchema>;

/** Most events one list page may hold (the official runner asks for this many). */
export const MAX_EVENTS_PAGE = 1000;
