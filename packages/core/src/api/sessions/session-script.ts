/**
 * The session simulator's wire types, shared by the local control plane (which validates them)
 * and clients (which read them): the script a scripted session follows (the enqueue body's
 * `session`) and the transcript the operator endpoint `GET /v1/sessions/{id}/transcript` answers.
 */
import { z } from 'zod';
import { TimestampSchema } from '../wire.js';

/** Most steps one script may hold. */
export const MAX_SCRIPT_STEPS = 1000;
/** Most skills one session may have. */
export const MAX_SCRIPT_SKILLS = 16;

const InputSchema = z.record(z.string(), z.unknown());
const ToolName = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1–128 letters, digits, _ or -');

export const ScriptStepSchema = z.union([
  z.strictObject({
    tool: ToolName,
    input: InputSchema,
    permission: z.enum(['allow', 'ask', 'deny']).optional(),
    confirm: z.enum(['allow', 'deny']).optional(),
  }),
  z.strictObject({ custom_tool: ToolName, input: InputSchema }),
  z.strictObject({ message: z.string().max(100_000) }),
  // Appended as given (plus an id and a time): for a worker's malformed-event handling.
  z.strictObject({ event: z.looseObject({ type: z.string().min(1) }) }),
  z.strictObject({ terminate: z.literal(true) }),
]);
/** One step of a scripted agent's turn. */
export type ScriptStep = z.infer<typeof ScriptStepSchema>;

export const ScriptSkillSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be 1–64 lower-case letters, digits or -'),
  description: z.string().max(1024).optional(),
  files: z.record(z.string().regex(/^(?!\/)(?!(.*\/)?\.\.?(\/|$))[^\0]{1,255}$/, 'must be a relative path without . or .. parts'), z.string().max(1024 * 1024)),
});
export type ScriptSkill = z.infer<typeof ScriptSkillSchema>;

export const SessionSpecSchema = z.strictObject({
  script: z.array(ScriptStepSchema).max(MAX_SCRIPT_STEPS).optional(),
  status: z.enum(['idle', 'terminated']).optional(),
  skills: z.array(ScriptSkillSchema).max(MAX_SCRIPT_SKILLS).optional(),
  reject_auth: z.boolean().optional(),
});
/** The enqueue body's `session`: how the simulated session behaves. */
export type SessionSpec = z.infer<typeof SessionSpecSchema>;

export const TranscriptCallSchema = z.looseObject({
  step: z.number().int().nonnegative(),
  tool_use_id: z.string().min(1),
  kind: z.enum(['tool', 'custom_tool']),
  name: z.string(),
  input: InputSchema,
  permission: z.enum(['allow', 'ask', 'deny']).nullable(),
  confirmation: z.enum(['allow', 'deny']).nullable(),
  outcome: z.enum(['pending', 'answered', 'denied']),
  result: z
    .looseObject({
      is_error: z.boolean(),
      content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
      received_at: TimestampSchema,
    })
    .nullable(),
  duplicates: z.number().int().nonnegative(),
});
/** One tool call of a scripted session and how it was resolved. */
export type TranscriptCall = z.infer<typeof TranscriptCallSchema>;

export const SessionTranscriptSchema = z.looseObject({
  type: z.literal('session_transcript'),
  session_id: z.string().min(1),
  environment_id: z.string().min(1),
  work_id: z.string().min(1),
  status: z.string().min(1),
  steps: z.number().int().nonnegative(),
  position: z.number().int().nonnegative(),
  done: z.boolean(),
  calls: z.array(TranscriptCallSchema),
  requests: z.looseObject({
    retrieve: z.number().int().nonnegative(),
    events_list: z.number().int().nonnegative(),
    events_stream: z.number().int().nonnegative(),
    events_send: z.number().int().nonnegative(),
    skills: z.number().int().nonnegative(),
    refused: z.number().int().nonnegative(),
  }),
  created_at: TimestampSchema,
  updated_at: TimestampSchema,
});
/** What a scripted session received (`GET /v1/sessions/{id}/transcript`, admin key only). */
export type SessionTranscript = z.infer<typeof SessionTranscriptSchema>;
