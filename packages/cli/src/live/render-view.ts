/**
 * The live view of `poll` on a terminal, as a pure function of a snapshot: the worker's slots,
 * each item with its state, age and running time, the outcome counters, the control plane's
 * latency and the latest log lines. Drawing it is `live-view.ts`'s job.
 */
import type { WorkerStatus, WorkItemOutcome } from '@envworker/core';
import type { LatencySummary } from '../worker/control-plane-watch.js';
import { activityText, type ItemActivity } from './tool-activity.js';

/** Everything one frame shows. Times in milliseconds on the worker's clock. */
export interface ViewModel {
  readonly status: WorkerStatus;
  readonly now: number;
  readonly runtime: string;
  readonly baseUrl: string;
  readonly environmentId: string;
  readonly controlPlane: {
    /** Since the last answer; `null` before the first. */
    readonly lastAnswerAgoMs: number | null;
    readonly latency: LatencySummary | null;
  };
  /** What the worker is doing about a signal, if anything. */
  readonly notice: string | null;
  /** Each served session's tool calls, by work id; `null` when the runtime does not serve sessions (no column). */
  readonly activity: ReadonlyMap<string, ItemActivity> | null;
  /** The latest log lines, oldest first, already compact. */
  readonly logLines: readonly string[];
  /** Terminal width: every line is cut to it. */
  readonly width: number;
}

/** Outcomes always shown; the others only once they happened. */
const MAIN_OUTCOMES: readonly WorkItemOutcome[] = ['completed', 'failed'];

const COLUMNS = [
  ['WORK ID', 32],
  ['SESSION', 32],
  ['STATE', 9],
  ['PHASE', 12],
  ['AGE', 8],
  ['RUNNING', 8],
  ['LAST TOOL CALL', 30],
] as const;

/** Renders one frame: lines joined by `\n`, none longer than `width`. */
export function renderView(model: ViewModel): string {
  const { status, now } = model;
  const lines: string[] = [];
  lines.push(`envworker · worker ${status.workerId} · ${model.runtime} runtime · ${status.lifecycle}`);
  lines.push(`control plane ${model.baseUrl} (${model.environmentId}) · ${controlPlaneText(model.controlPlane)}`);
  const { slots } = status;
  lines.push(`slots ${slots.busy}/${slots.max} busy · ${slots.polling} polling · ${slots.free} free · claimed ${status.counters.claimed}`);
  lines.push(`outcomes ${outcomesText(status.counters.outcomes)}`);
  if (model.notice !== null) lines.push(model.notice);
  lines.push('');
  const columns = model.activity === null ? COLUMNS.length - 1 : COLUMNS.length;
  lines.push(row(COLUMNS.slice(0, columns).map(([title]) => title)));
  if (status.items.length === 0) lines.push('(no items)');
  for (const item of status.items) {
    lines.push(
      row([
        item.workId,
        item.sessionId ?? '(healthcheck)',
        item.state,
        item.outcome === undefined ? item.phase : `${item.phase}:${item.outcome}`,
        formatAge(now - item.claimedAt),
        item.startedAt === undefined ? '-' : formatAge(now - item.startedAt),
        ...(model.activity === null ? [] : [activityText(model.activity.get(item.workId))]),
      ]),
    );
  }
  if (model.logLines.length > 0) {
    lines.push('');
    lines.push('recent log');
    for (const line of model.logLines) lines.push(`  ${line}`);
  }
  return lines.map((line) => cut(line, model.width)).join('\n');
}

function controlPlaneText(controlPlane: ViewModel['controlPlane']): string {
  const answered = controlPlane.lastAnswerAgoMs === null ? 'no answer yet' : `answered ${formatAge(controlPlane.lastAnswerAgoMs)} ago`;
  const { latency } = controlPlane;
  if (latency === null) return answered;
  return `${answered} · latency ${ms(latency.last)} (p50 ${ms(latency.p50)}, max ${ms(latency.max)} of last ${latency.count})`;
}

function outcomesText(outcomes: Readonly<Record<WorkItemOutcome, number>>): string {
  return (Object.entries(outcomes) as [WorkItemOutcome, number][])
    .filter(([outcome, count]) => MAIN_OUTCOMES.includes(outcome) || count > 0)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join(' · ');
}

function row(cells: readonly string[]): string {
  return cells
    .map((cell, index) => {
      const width = COLUMNS[index]?.[1] ?? cell.length;
      return cell.length >= width ? `${cell} ` : cell.padEnd(width + 1);
    })
    .join('')
    .trimEnd();
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

/** A short age: `0s`, `42s`, `3m07s`, `2h05m`. */
export function formatAge(ms: number): string {
  const totalSeconds = Math.max(0, Math.floor(ms / 1000));
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m${String(totalSeconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function cut(line: string, width: number): string {
  const chars = [...line];
  return chars.length <= width ? line : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}
