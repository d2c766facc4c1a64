/**
 * `run` with no command: the item's agent session served in this process, in the given
 * directory, with the item's sessions token (the `ant beta:worker run` job, for an image whose
 * entrypoint is envworker). The session's own lines go to the log under the item's ids.
 */
import type { Logger } from '@envworker/core';
import { serveSession } from '@envworker/runtime-session';
import type { Served } from './served.js';

/** What the session is served with. */
export interface SessionServeConfig {
  readonly workId: string;
  readonly sessionId: string;
  readonly workdir: string;
  readonly baseUrl: string;
  readonly credential: string;
  readonly secrets: readonly string[];
  readonly maxIdleMs: number;
  readonly inheritEnv: readonly string[];
  /** Of the session's bash tool. */
  readonly nice: number;
  readonly stopGraceMs: number;
}

/** Serves the session; ends with 0 once it is over (turn ended and idle, terminated, or stopped), 1 when it failed. */
export function serveSessionItem(config: SessionServeConfig, logger: Logger): Served {
  const sandbox = serveSession(
    {
      workId: config.workId,
      sessionId: config.sessionId,
      workdir: config.workdir,
      baseUrl: config.baseUrl,
      credential: config.credential,
      secrets: config.secrets,
      log: { line: (stream, text) => logger.info({ stream }, text) },
      onToolCall: (call) => logger.debug({ tool: call.name, tool_use_id: call.toolUseId, ending: call.ending, duration_ms: Math.round(call.durationMs) }, 'tool call'),
    },
    { maxIdleMs: config.maxIdleMs, inheritEnv: config.inheritEnv, bashNice: config.nice },
  );
  logger.info({ workdir: config.workdir, max_idle_ms: config.maxIdleMs }, 'serving the session');
  const ended = sandbox.exit.then(async (exit) => {
    await sandbox.close();
    logger.info({ reason: exit.reason, exit_code: exit.code, ...(exit.detail === undefined ? {} : { detail: exit.detail }) }, 'the session ended');
    return exit.code ?? 137;
  });
  return {
    stop: () => void sandbox.stop(config.stopGraceMs),
    kill: () => void sandbox.kill(),
    ended,
  };
}
