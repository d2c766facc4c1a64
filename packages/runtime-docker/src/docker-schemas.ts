/**
 * The shapes of the Docker Engine API answers this runtime reads (API 1.41, Docker 20.10 and
 * later). Only the fields it uses are checked; a daemon that answers something else gets an error
 * naming the field instead of a wrong decision.
 */
import { z } from 'zod';

const labels = z.record(z.string(), z.string()).nullable();

/** `POST /containers/create`. */
export const CreateAnswer = z.object({
  Id: z.string().regex(/^[0-9a-f]{64}$/),
  Warnings: z.array(z.string()).nullable(),
});

/** `POST /containers/{id}/wait`. */
export const WaitAnswer = z.object({
  StatusCode: z.number().int(),
  Error: z.object({ Message: z.string() }).nullish(),
});

/** `GET /containers/{id}/json`: the state of a container. */
export const ContainerInspectAnswer = z.object({
  Id: z.string(),
  State: z.object({
    Status: z.string(),
    Running: z.boolean(),
    OOMKilled: z.boolean(),
    ExitCode: z.number().int(),
  }),
});

/** One entry of `GET /containers/json`. */
export const ContainerSummary = z.object({
  Id: z.string(),
  State: z.string(),
  Labels: labels,
  Mounts: z.array(z.object({ Type: z.string(), Source: z.string(), Destination: z.string() })).nullable(),
});
export type ContainerSummary = z.infer<typeof ContainerSummary>;

/** `GET /containers/json`. */
export const ContainerListAnswer = z.array(ContainerSummary);

/** `GET /version`. */
export const VersionAnswer = z.object({
  Version: z.string(),
  ApiVersion: z.string().regex(/^\d+\.\d+$/),
  Os: z.string(),
});

/** `GET /info`: what the daemon can enforce. */
export const InfoAnswer = z.object({
  MemoryLimit: z.boolean(),
  SwapLimit: z.boolean(),
  PidsLimit: z.boolean(),
  CpuCfsQuota: z.boolean(),
  NCPU: z.number().int().positive(),
  InitBinary: z.string(),
});
export type InfoAnswer = z.infer<typeof InfoAnswer>;

/** `GET /images/{name}/json`. */
export const ImageInspectAnswer = z.object({
  Id: z.string().min(1),
});

/** One line of the progress stream of `POST /images/create` (a pull); a failed pull says so in a line, under status 200. */
export const PullProgressLine = z.object({
  error: z.string().optional(),
  errorDetail: z.object({ message: z.string().optional() }).optional(),
});
export type WaitAnswer = z.infer<typeof WaitAnswer>;
