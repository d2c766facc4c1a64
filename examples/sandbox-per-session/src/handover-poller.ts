/**
 * A handover poller in the style of the official `ant beta:worker poll --on-work <script>`: it
 * polls, acks, and hands each item over to a fresh run of the on-work script, and does nothing
 * else: no heartbeat, no stop. Whoever the script starts (here a container running `envworker
 * run`) holds the item's lease and stops the item. This is what makes the sandbox-per-session
 * pattern sound: exactly one party holds each lease. (`envworker poll` keeps the lease itself, so
 * an `envworker run` inside one of its sandboxes would be a second holder; see the README.)
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { buildOnWorkEnvironment, WorkApiError, WorkClient, type Work } from '@envworker/core';

/** What the handover poller needs. */
export interface HandoverPollerOptions {
  readonly baseUrl: string;
  readonly environmentId: string;
  readonly environmentKey: string;
  /** Sent as `Anthropic-Worker-ID`. */
  readonly workerId: string;
  /** The on-work script (an absolute path), run with no arguments. */
  readonly onWork: string;
  /** Most on-work scripts running at once. */
  readonly maxConcurrency: number;
  /** Host variables for the script besides the item's `--on-work` ones (PATH, say). */
  readonly env: Readonly<Record<string, string>>;
  /** Told of each item handed over, each line its script prints, and each script's end. */
  readonly report: HandoverReport;
}

/** What the poller tells its host. */
export interface HandoverReport {
  handedOver(work: Work, pid: number | undefined): void;
  line(workId: string, stream: 'stdout' | 'stderr', text: string): void;
  exited(workId: string, code: number | null, signal: NodeJS.Signals | null): void;
  problem(text: string): void;
}

/** A running handover poller. */
export interface HandoverPoller {
  /**
   * Stops polling and resolves once every running script has ended. `'stop'` also sends each one
   * SIGTERM (the docker CLI passes it on to the container, where `envworker run` passes it on to
   * the session's command and then stops the item).
   */
  shutdown(mode: 'drain' | 'stop'): Promise<void>;
}

/** The longest a poll waits for an item (the contract's maximum `block_ms` is 999). */
const POLL_BLOCK_MS = 900;
/** Pause after a failed poll. */
const POLL_ERROR_PAUSE_MS = 1_000;

/** Starts polling. */
export function startHandoverPoller(options: HandoverPollerOptions): HandoverPoller {
  const client = new WorkClient({ baseUrl: options.baseUrl, environmentId: options.environmentId, environmentKey: options.environmentKey });
  const stopping = new AbortController();
  const children = new Map<string, { kill(signal: NodeJS.Signals): void; ended: Promise<void> }>();

  const handOver = (work: Work): void => {
    const child = spawn(options.onWork, [], {
      env: { ...options.env, ...buildOnWorkEnvironment({ work, environmentId: options.environmentId, environmentKey: options.environmentKey, baseUrl: options.baseUrl }) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream] }).on('line', (text) => options.report.line(work.id, stream, text));
    }
    child.stdin.on('error', () => undefined); // a script that does not read its input closes the pipe early
    child.stdin.end(`${JSON.stringify(work)}\n`);
    const ended = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        options.report.problem(`cannot run the on-work script for ${work.id}: ${error.message}`);
        children.delete(work.id);
        resolve();
      });
      child.once('close', (code, signal) => {
        options.report.exited(work.id, code, signal);
        children.delete(work.id);
        resolve();
      });
    });
    children.set(work.id, { kill: (signal) => child.kill(signal), ended });
    options.report.handedOver(work, child.pid);
  };

  const stopRequested = aborted(stopping.signal);
  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      if (children.size >= options.maxConcurrency) {
        await Promise.race([...[...children.values()].map((child) => child.ended), stopRequested]);
        continue;
      }
      let work: Work | null;
      try {
        work = await client.poll({ workerId: options.workerId, blockMs: POLL_BLOCK_MS }, { signal: stopping.signal });
        if (work === null) continue;
        await client.ack(work.id, { signal: stopping.signal });
      } catch (error) {
        if (stopping.signal.aborted) break;
        options.report.problem(`poll or ack failed: ${error instanceof WorkApiError ? `${error.status ?? 'no answer'} ${error.type}` : String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, POLL_ERROR_PAUSE_MS));
        continue;
      }
      if (work.data.type === 'healthcheck') {
        // Contract §7.7: probe the control plane, then stop the item; there is no session to hand over.
        await client.get(work.id).then(() => client.stop(work.id, { force: true })).catch((error: unknown) => options.report.problem(`healthcheck ${work.id}: ${String(error)}`));
        continue;
      }
      handOver(work);
    }
  };
  const looping = loop();

  return {
    async shutdown(mode) {
      stopping.abort();
      await looping;
      if (mode === 'stop') for (const child of children.values()) child.kill('SIGTERM');
      await Promise.all([...children.values()].map((child) => child.ended));
      await client.close();
    },
  };
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
