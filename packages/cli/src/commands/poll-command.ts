/**
 * `envworker poll`: runs a worker until it is signalled. Before it claims anything it checks
 * that the control plane answers and takes its credentials, so a wrong URL or key is one line
 * and exit 2, not a worker retrying forever. The first SIGTERM/SIGINT drains, the second stops
 * every item, the third exits at once. On a terminal it draws the live view; elsewhere it logs.
 */
import { createLogger, createWorker, systemClock, type LoggerOptions, type Worker } from '@envworker/core';
import { Registry } from 'prom-client';
import { describeApiError } from '../api-error-message.js';
import type { CliContext } from '../cli-context.js';
import { CliError, EXIT_FAILURE, oneLine } from '../cli-error.js';
import type { PollConfig } from '../config/poll-config.js';
import { LogPanel } from '../live/log-panel.js';
import { startLiveView, type LiveView } from '../live/live-view.js';
import { renderView } from '../live/render-view.js';
import { ToolActivity } from '../live/tool-activity.js';
import { apiErrorMetric } from '../status/api-error-metric.js';
import { observeWorker } from '../status/observe-worker.js';
import { startStatusServer, type StatusServer } from '../status/status-server.js';
import { buildRuntime } from '../worker/build-runtime.js';
import { ControlPlaneWatch } from '../worker/control-plane-watch.js';
import { ObservedWorkClient } from '../worker/observed-client.js';
import { onShutdownSignals, signalExitCode } from '../worker/shutdown-signals.js';

/** How long the start-up check waits for the control plane. */
const PREFLIGHT_TIMEOUT_MS = 10_000;
/** Log lines kept under the live view. */
const PANEL_LINES = 6;

/** Runs `poll`; resolves with the exit status once the worker has shut down. */
export async function runPoll(config: PollConfig, context: CliContext): Promise<number> {
  const live = config.live && context.stdout.isTTY === true;
  const panel = live ? new LogPanel(PANEL_LINES, context.stderr.isTTY === true ? null : (line) => context.stderr.write(line)) : null;
  const logOptions: LoggerOptions = {
    level: config.logLevel,
    // The live view shows compact lines made from JSON ones.
    format: panel === null ? config.logFormat : 'json',
    destination: panel ?? { write: (line: string) => context.stdout.write(line) },
    knownSecrets: [config.environmentKey],
  };
  const logger = createLogger(logOptions);
  const built = buildRuntime(config.runtime);
  const { runtime } = built;

  const registry = new Registry();
  const watch = new ControlPlaneWatch(() => systemClock.now(), apiErrorMetric(registry));
  const client = new ObservedWorkClient(
    { baseUrl: config.baseUrl, environmentId: config.environmentId, environmentKey: config.environmentKey },
    watch,
  );
  const cleanups: (() => unknown)[] = [() => client.close(), () => built.close()];
  try {
    await built.prepare();
    await preflight(client, config);
    const worker = createWorker({
      baseUrl: config.baseUrl,
      environmentId: config.environmentId,
      environmentKey: config.environmentKey,
      runtime,
      client,
      maxConcurrency: config.maxConcurrency,
      stopGraceMs: config.stopGraceMs,
      pollIdleDelayMs: config.pollIdleDelayMs,
      logger: logOptions,
      ...(config.workerId === undefined ? {} : { workerId: config.workerId }),
      ...(config.leaseTtlSeconds === undefined ? {} : { leaseTtlSeconds: config.leaseTtlSeconds }),
      ...(config.workdir === undefined ? {} : { workdirRoot: config.workdir }),
    });
    const observation = observeWorker(worker, watch, registry, { leaseTtlSeconds: config.leaseTtlSeconds, pollIdleMaxMs: config.pollIdleDelayMs[1] });
    cleanups.unshift(() => observation.stop());

    if (config.status !== null) {
      const server: StatusServer = await startStatusServer({ ...config.status, status: () => worker.status(), health: () => observation.health(), registry });
      cleanups.unshift(() => server.close());
      logger.info({ status_url: server.url }, 'status server listening');
    }

    let notice: string | null = null;
    cleanups.unshift(
      onShutdownSignals(context.signals, {
        drain(signal) {
          notice = `${signal}: draining (no new work; items may finish for ${config.shutdownGraceMs / 1000}s). Again: stop items now; a third time: exit at once.`;
          logger.info({ signal, shutdown_grace_ms: config.shutdownGraceMs }, 'draining: claiming nothing new; send the signal again to stop items now, a third time to exit at once');
          void worker.shutdown({ mode: 'drain', deadlineMs: config.shutdownGraceMs });
        },
        stop(signal) {
          notice = `${signal}: stopping every item (grace ${config.stopGraceMs / 1000}s). Again: exit at once.`;
          logger.info({ signal, stop_grace_ms: config.stopGraceMs }, 'stopping every item; send the signal again to exit at once');
          void worker.shutdown({ mode: 'stop' });
        },
        exit(signal) {
          logger.warn({ signal }, 'exiting at once; items still running are left to their leases');
          context.exitNow(signalExitCode(signal));
        },
      }),
    );

    let view: LiveView | null = null;
    if (panel !== null) {
      const activity = built.toolCalls$ === null ? null : new ToolActivity(built.toolCalls$);
      if (activity !== null) cleanups.unshift(() => activity.stop());
      view = startLiveView(context.stdout, (width) => {
        const status = worker.status();
        return renderView({
          status,
          now: systemClock.now(),
          runtime: runtime.name,
          baseUrl: config.baseUrl,
          environmentId: config.environmentId,
          controlPlane: {
            lastAnswerAgoMs: watch.lastAnswerAt === null ? null : systemClock.now() - watch.lastAnswerAt,
            latency: watch.latency(),
          },
          notice,
          activity: activity === null ? null : activity.snapshot(status.items.map((item) => item.workId)),
          logLines: panel.lines(),
          width,
        });
      });
      const drawn = view;
      cleanups.unshift(() => drawn.stop());
    }

    return await serve(worker, context);
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

/** Starts the worker and waits for it to end: 0 after a shutdown, 1 when polling failed for good. */
async function serve(worker: Worker, context: CliContext): Promise<number> {
  try {
    await worker.start();
  } catch (error) {
    await worker.shutdown({ mode: 'stop' });
    throw new CliError(error instanceof Error ? error.message : String(error), EXIT_FAILURE);
  }
  try {
    await worker.done;
    return 0;
  } catch (error) {
    // The worker has logged it; standard error gets the one line to act on.
    const message = oneLine(error instanceof Error ? error.message : String(error));
    context.stderr.write(`envworker poll: ${message}\n`);
    return EXIT_FAILURE;
  }
}

/** Checks that the control plane answers and accepts the credentials, before anything is claimed. */
async function preflight(client: ObservedWorkClient, config: PollConfig): Promise<void> {
  try {
    await client.stats({ maxRetries: 0, timeoutMs: PREFLIGHT_TIMEOUT_MS });
  } catch (error) {
    throw describeApiError(error, {
      baseUrl: config.baseUrl,
      credentialHint: '--environment-key or ANTHROPIC_ENVIRONMENT_KEY',
      notFoundHint: `is ${config.environmentId} the right environment? check --environment-id or ANTHROPIC_ENVIRONMENT_ID`,
    });
  }
}
