/**
 * How the quickstart shows a run while it goes: on a terminal, the `envworker` CLI's own live view
 * (slots, items with state and age and each session's latest tool call, outcome counters,
 * heartbeat latency, the latest log lines); elsewhere (a pipe, CI), plain progress lines: each
 * item's start and end, and each tool call as it ends.
 */
import { activityText, compactLogLine, LogPanel, renderView, startLiveView, ToolActivity, type LiveView, type ViewModel } from '@envworker/cli';
import { systemClock, type Worker, type WorkerEvent } from '@envworker/core';
import type { ToolCallRecord } from '@envworker/runtime-session';
import type { Observable } from 'rxjs';

/** Where the run's progress goes. */
export interface Progress {
  /** Takes every log line of the worker (JSON; the worker's logger has scrubbed credentials). */
  log(line: string): void;
  /** Takes every worker event. */
  event(event: WorkerEvent): void;
  /** An announcement of the quickstart's own (the operator's stop, say). */
  say(text: string): void;
  /** Starts showing the worker (the live view draws from its `status()`) and its sessions' tool calls. */
  start(worker: Worker, toolCalls$: Observable<ToolCallRecord>): void;
  /** Ends the display (the live view leaves its last frame). */
  stop(): void;
}

/** What the live view needs to know besides the worker. */
export interface Connection {
  readonly baseUrl: string;
  readonly environmentId: string;
}

/** The level of a JSON log line (pino numbers: 40 warn, 50 error), 0 if it has none. */
function levelOf(line: string): number {
  try {
    const record = JSON.parse(line) as { level?: unknown };
    return typeof record.level === 'number' ? record.level : 0;
  } catch {
    return 0;
  }
}

const WARN = 40;

/** Plain lines through `print`. `total` is the number of items, for the `[n/total]` counter. */
export function plainProgress(print: (line: string) => void, total: number): Progress {
  let ended = 0;
  const calls = new Map<string, number>();
  let subscription: { unsubscribe(): void } | null = null;
  return {
    log(line) {
      if (levelOf(line) >= WARN) print(compactLogLine(line));
    },
    event(event) {
      if (event.type === 'started') print(`started  ${event.work_id} (session ${event.session_id ?? '-'}) in sandbox ${event.sandbox_id}`);
      if (event.type === 'stopped') {
        ended += 1;
        const exit = event.exit === undefined ? '' : ` (exit ${event.exit.code ?? event.exit.signal ?? '?'}, ${Math.round(event.exit.durationMs)} ms)`;
        print(`stopped  ${event.work_id}: ${event.outcome}${exit} [${ended}/${total}]`);
      }
    },
    say: print,
    start(_worker, toolCalls$) {
      subscription = toolCalls$.subscribe((call) => {
        const count = (calls.get(call.workId) ?? 0) + 1;
        calls.set(call.workId, count);
        print(`  ${call.workId} | ${activityText({ calls: count, last: call })}`);
      });
    },
    stop() {
      subscription?.unsubscribe();
    },
  };
}

/** How many heartbeat latencies the live view's summary is taken over. */
const LATENCY_WINDOW = 50;
/** Log lines kept under the live view. */
const PANEL_LINES = 8;

/** The CLI's live view on `stream` (a terminal). */
export function liveProgress(stream: NodeJS.WriteStream, connection: Connection): Progress {
  const panel = new LogPanel(PANEL_LINES, null);
  const latencies: number[] = [];
  let lastAnswerAt: number | null = null;
  let notice: string | null = null;
  let view: LiveView | null = null;
  let activity: ToolActivity | null = null;

  const latency = (): ViewModel['controlPlane']['latency'] => {
    const count = latencies.length;
    if (count === 0) return null;
    const sorted = [...latencies].sort((a, b) => a - b);
    return { count, last: latencies[count - 1] as number, p50: sorted[Math.floor((count - 1) / 2)] as number, max: sorted[count - 1] as number };
  };

  return {
    log: (line) => panel.write(line),
    event(event) {
      // A heartbeat answer is the control plane answering: the view's "answered … ago" and latency.
      if (event.type !== 'lease_renewed') return;
      lastAnswerAt = event.at;
      latencies.push(event.latency_ms);
      if (latencies.length > LATENCY_WINDOW) latencies.shift();
    },
    say(text) {
      notice = text;
    },
    start(worker, toolCalls$) {
      const tools = new ToolActivity(toolCalls$);
      activity = tools;
      view = startLiveView(stream, (width) => {
        const now = systemClock.now();
        const status = worker.status();
        return renderView({
          status,
          now,
          runtime: 'session',
          baseUrl: connection.baseUrl,
          environmentId: connection.environmentId,
          controlPlane: { lastAnswerAgoMs: lastAnswerAt === null ? null : now - lastAnswerAt, latency: latency() },
          notice,
          activity: tools.snapshot(status.items.map((item) => item.workId)),
          logLines: panel.lines(),
          width,
        });
      });
    },
    stop() {
      view?.stop();
      view = null;
      activity?.stop();
    },
  };
}
