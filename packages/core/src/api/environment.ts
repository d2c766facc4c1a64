/**
 * The environment object of the local control plane's `POST /v1/environments` (contract §6).
 * Loose like every wire schema: unknown fields are ignored.
 */
import { z } from 'zod';
import { TimestampSchema } from './wire.js';

export const EnvironmentSchema = z.looseObject({
  type: z.literal('environment'),
  id: z.string().min(1),
  name: z.string(),
  environment_key: z.string().min(1),
  created_at: TimestampSchema,
  config: z.looseObject({ type: z.literal('self_hosted') }),
});
/**
 * A newly created environment. `environment_key` is a credential, shown only in this answer:
 * store it, never log it.
 */
export type Environment = z.infer<typeof EnvironmentSchema>;
