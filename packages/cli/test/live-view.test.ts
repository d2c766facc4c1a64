/**
 * The live view without a terminal: the frame as a pure function of a status snapshot (slots,
 * items with state, age and running time, outcome counters, control-plane latency, the notice of
 * a signal, the log panel, the width), and the compact log lines of its panel.
 */
import type { WorkerStatus, WorkItemOutcome } from '@envworker/core';
import { describe, expect, it } from 'vitest';
import { compactLogLine, LogPanel } from '../src/live/log-panel.js';
import { formatAge, renderView, type ViewModel } from '../src/live/render-view.js';

const NOW = 1_800_000_000_000;
const OUTCOMES: Record<WorkItemOutcome, number> = {
  completed: 12,
  failed: 1,
  stopped_by_control_plane: 0,
  lease_lost: 2,
  shutdown: 0,
  start_failed: 0,
  ack_refused: 0,
  healthcheck: 0,
};

const STATUS: WorkerStatus = {
  workerId: 'host-1',
  lifecycle: 'running',
  slots: { max: 4, busy: 2, polling: 1, free: 1 },
  items: [
    { workId: 'work_AAAAAAAAAAAAAAAAAAAAAAAA', sessionId: 'sesn_BBBBBBBBBBBBBBBBBBBBBBBB', state: 'active', phase: 'active', claimedAt: NOW - 125_000, startedAt: NOW - 123_000 },
    { workId: 'work_CCCCCCCCCCCCCCCCCCCCCCCC', sessionId: null, state: 'starting', phase: 'starting', claimedAt: NOW - 800 },
  ],
  counters: { claimed: 17, outcomes: OUTCOMES },
};

function model(overrides: Partial<ViewModel> = {}): ViewModel {
  return {
    status: STATUS,
    now: NOW,
    runtime: 'process',
    baseUrl: 'http://127.0.0.1:4000',
    environmentId: 'env_DDDDDDDDDDDDDDDDDDDDDDDD',
    controlPlane: { lastAnswerAgoMs: 400, latency: { count: 20, last: 3.2, p50: 2.4, max: 11.7 } },
    notice: null,
    activity: null,
    logLines: [],
    width: 200,
    ...overrides,
  };
}

describe('renderView', () => {
  it('shows the worker, the control plane, the slots and the outcome counters', () => {
    const lines = renderView(model()).split('\n');
    expect(lines[0]).toBe('envworker · worker host-1 · process runtime · running');
    expect(lines[1]).toBe('control plane http://127.0.0.1:4000 (env_DDDDDDDDDDDDDDDDDDDDDDDD) · answered 0s ago · latency 3 ms (p50 2 ms, max 12 ms of last 20)');
    expect(lines[2]).toBe('slots 2/4 busy · 1 polling · 1 free · claimed 17');
    // completed and failed always; the others once they happened.
    expect(lines[3]).toBe('outcomes completed 12 · failed 1 · lease_lost 2');
  });

  it('lists each item with its state, phase, age and running time', () => {
    const lines = renderView(model()).split('\n');
    const header = lines.findIndex((line) => line.startsWith('WORK ID'));
    expect(lines[header]).toMatch(/^WORK ID\s+SESSION\s+STATE\s+PHASE\s+AGE\s+RUNNING$/);
    expect(lines[header + 1]).toMatch(/^work_A{24}\s+sesn_B{24}\s+active\s+active\s+2m05s\s+2m03s$/);
    expect(lines[header + 2]).toMatch(/^work_C{24}\s+\(healthcheck\)\s+starting\s+starting\s+0s\s+-$/);
  });

  it("shows each served session's latest tool call when the runtime serves sessions", () => {
    const last = {
      workId: 'work_AAAAAAAAAAAAAAAAAAAAAAAA',
      sessionId: 'sesn_BBBBBBBBBBBBBBBBBBBBBBBB',
      toolUseId: 'sevt_1',
      kind: 'tool',
      name: 'bash',
      ending: 'ok',
      isError: false,
      posted: true,
      startedAt: NOW - 1000,
      durationMs: 12.4,
    } as const;
    const lines = renderView(model({ runtime: 'session', activity: new Map([[last.workId, { calls: 3, last }]]) })).split('\n');
    const header = lines.findIndex((line) => line.startsWith('WORK ID'));
    expect(lines[header]).toMatch(/\sRUNNING\s+LAST TOOL CALL$/);
    expect(lines[header + 1]).toMatch(/\s2m03s\s+#3 bash ok 12ms$/);
    expect(lines[header + 2]).toMatch(/\s0s\s+-\s+-$/);
  });

  it('says when there is no item, before the first answer, and what a signal started', () => {
    const frame = renderView(
      model({
        status: { ...STATUS, lifecycle: 'draining', items: [] },
        controlPlane: { lastAnswerAgoMs: null, latency: null },
        notice: 'SIGTERM: draining',
      }),
    );
    expect(frame).toContain('· draining');
    expect(frame).toContain('(env_DDDDDDDDDDDDDDDDDDDDDDDD) · no answer yet\n');
    expect(frame).toContain('\nSIGTERM: draining\n');
    expect(frame).toContain('\n(no items)');
  });

  it('shows the outcome of an item that is ending, and the recent log', () => {
    const [first] = STATUS.items;
    if (first === undefined) throw new Error('no item');
    const ending = { ...first, phase: 'winding_down' as const, state: 'stopping' as const, outcome: 'shutdown' as const };
    const frame = renderView(model({ status: { ...STATUS, items: [ending] }, logLines: ['12:00:00 info  claimed work_A'] }));
    expect(frame).toMatch(/stopping\s+winding_down:shutdown/);
    expect(frame.endsWith('\nrecent log\n  12:00:00 info  claimed work_A')).toBe(true);
  });

  it('cuts every line to the terminal width', () => {
    for (const width of [20, 40, 79]) {
      for (const line of renderView(model({ width, logLines: ['x'.repeat(300)] })).split('\n')) {
        expect([...line].length).toBeLessThanOrEqual(width);
      }
    }
    expect(renderView(model({ width: 20 })).split('\n')[0]).toBe('envworker · worker …');
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [42_000, '42s'],
    [187_000, '3m07s'],
    [7_500_000, '2h05m'],
    [-5, '0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('the log panel', () => {
  it('keeps the latest lines, compact, and passes each whole line on', () => {
    const forwarded: string[] = [];
    const panel = new LogPanel(2, (line) => forwarded.push(line));
    const line = (msg: string, extra: Record<string, unknown> = {}) => `${JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 0, 5), msg, ...extra })}\n`;
    panel.write(line('first'));
    panel.write(line('claimed', { work_id: 'work_A', secret: '[REDACTED]' }));
    panel.write(`${JSON.stringify({ level: 50, time: Date.UTC(2026, 0, 1, 12, 0, 6), msg: 'lease lost' })}\n`);
    expect(panel.lines()).toEqual(['12:00:05 info  claimed work_A', '12:00:06 error lease lost']);
    expect(forwarded).toHaveLength(3);
    expect(forwarded[1]).toBe(line('claimed', { work_id: 'work_A', secret: '[REDACTED]' }));
  });

  it('shows a line that is not JSON as it is', () => {
    expect(compactLogLine('  [12:00:00.000] INFO: hello  ')).toBe('[12:00:00.000] INFO: hello');
    expect(compactLogLine('42')).toBe('42');
  });
});
