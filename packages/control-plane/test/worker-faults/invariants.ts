/**
 * The invariants of a run, checked as things happen and at the end:
 *
 * 1. two sandboxes of one item never run at the same virtual time (a frozen worker's in-process
 *    sandbox does not run while it is frozen);
 * 2. a worker never posts a stop for an item after it lost that item's lease (until it claims the
 *    item again: a stop is allowed only while one of the worker's actors of the item still holds
 *    its lease);
 * 3. the server answers 200 to at most one stop {force:true} from workers per item; a worker that
 *    ended an item with its stop call `done` got exactly that one; one that got `already_stopped`
 *    got it too (an earlier attempt whose answer was lost) unless an operator stopped the item;
 *    and such an item ends `stopped`;
 * 4. at the end every item is `stopped` or `queued`;
 * 5. no sandbox outlives its actor: when a worker reports an item `stopped`, every sandbox it ran
 *    for the item has ended; when a worker's shutdown resolves, all of its sandboxes have ended.
 *
 * Worker events name the item, not the actor, and one worker can hold two actors of one item (a
 * poll brought it again while the first claim was still being acked), so 2 and 5 count actors per
 * worker and item: a stop is wrong when every open actor of the item has lost its lease, and an
 * actor's end is wrong when more of the item's sandboxes run on that worker than actors remain.
 */
import type { WorkerEvent, WorkState } from '@envworker/core';
import type { Exchange } from './fault-proxy.js';
import type { Journal, SandboxRun } from './journal.js';
import type { ClientCall } from './observed-client.js';
import type { SimLog } from './sim-log.js';

interface ItemEnd {
  readonly worker: string;
  readonly workId: string;
  readonly outcome: string;
  readonly stopCall: string;
}

export class Invariants {
  readonly violations: string[] = [];
  readonly #journal: Journal;
  readonly #log: SimLog;
  /** Per `worker|workId`: actors claimed and not yet stopped, and how many of them lost the lease. */
  readonly #actors = new Map<string, { open: number; lost: number }>();
  /** 200 answers to workers' stop {force:true}, per item. */
  readonly #forcedStops = new Map<string, number>();
  /** Items an operator stop was answered 200 for. */
  readonly #operatorStopped = new Set<string>();
  readonly #ends: ItemEnd[] = [];
  readonly #reportedOverlaps = new Set<string>();

  constructor(journal: Journal, log: SimLog) {
    this.#journal = journal;
    this.#log = log;
  }

  /** Records a broken invariant (also in the run's log). */
  violation(text: string): void {
    this.violations.push(text);
    this.#log.add('!!', `VIOLATION ${text}`);
  }

  workerEvent(worker: string, event: WorkerEvent): void {
    if (!('work_id' in event)) return;
    const actors = this.#actorsOf(worker, event.work_id);
    switch (event.type) {
      case 'claimed':
        actors.open += 1;
        return;
      case 'lease_lost':
        actors.lost += 1;
        return;
      case 'stopped': {
        actors.open -= 1;
        // An actor that lost its lease always ends with that outcome.
        if (event.outcome === 'lease_lost') actors.lost -= 1;
        const live = this.#journal.live(worker, event.work_id);
        if (live.length > actors.open) {
          this.violation(`${worker} reported ${this.#log.item(event.work_id)} stopped while its sandbox ${runs(live)} still ran (${actors.open} other actor(s) of it left)`);
        }
        this.#ends.push({ worker, workId: event.work_id, outcome: event.outcome, stopCall: event.stop_call });
        return;
      }
      default:
        return;
    }
  }

  workerCall(worker: string, call: ClientCall): void {
    if (call.op !== 'stop' || call.workId === null) return;
    const actors = this.#actorsOf(worker, call.workId);
    if (actors.lost >= actors.open) {
      this.violation(`${worker} posted stop {force:${String(call.force)}} for ${this.#log.item(call.workId)} with no actor of it holding the lease (${actors.open} open, ${actors.lost} lost)`);
    }
  }

  #actorsOf(worker: string, workId: string): { open: number; lost: number } {
    const key = `${worker}|${workId}`;
    let actors = this.#actors.get(key);
    if (actors === undefined) {
      actors = { open: 0, lost: 0 };
      this.#actors.set(key, actors);
    }
    return actors;
  }

  /** The control plane's answer to a worker's request, as the proxy saw it. */
  serverAnswer(worker: string, exchange: Exchange, status: number): void {
    if (exchange.op !== 'stop' || exchange.force !== true || status !== 200 || exchange.workId === null) return;
    const count = (this.#forcedStops.get(exchange.workId) ?? 0) + 1;
    this.#forcedStops.set(exchange.workId, count);
    if (count > 1) this.violation(`${worker}'s stop {force:true} of ${this.#log.item(exchange.workId)} was the ${count}th to succeed`);
  }

  operatorStop(workId: string, status: number): void {
    if (status === 200) this.#operatorStopped.add(workId);
  }

  /** Checks that no item has two sandboxes running; called before virtual time moves on. */
  beforeTimeMoves(frozenWorkers: ReadonlySet<string>): void {
    const running = new Map<string, SandboxRun[]>();
    for (const run of this.#journal.live()) {
      if (frozenWorkers.has(run.worker)) continue;
      running.set(run.workId, [...(running.get(run.workId) ?? []), run]);
    }
    for (const [workId, live] of running) {
      if (live.length < 2) continue;
      const key = live.map((run) => run.id).join(',');
      if (this.#reportedOverlaps.has(key)) continue;
      this.#reportedOverlaps.add(key);
      this.violation(`two sandboxes of ${this.#log.item(workId)} run at once: ${runs(live)}`);
    }
  }

  workerShutDown(worker: string): void {
    const live = this.#journal.live(worker);
    if (live.length > 0) this.violation(`${worker}'s shutdown resolved while its sandboxes ${runs(live)} still ran`);
  }

  /** The end-of-run checks, given every item's final state on the server. */
  atEnd(states: ReadonlyMap<string, WorkState>): void {
    for (const [workId, state] of states) {
      if (state !== 'stopped' && state !== 'queued') this.violation(`${this.#log.item(workId)} ended ${state}, neither stopped nor queued`);
    }
    const live = this.#journal.live();
    if (live.length > 0) this.violation(`sandboxes ${runs(live)} never ended`);
    for (const end of this.#ends) {
      const confirmed = end.stopCall === 'done' || (end.stopCall === 'already_stopped' && !this.#operatorStopped.has(end.workId));
      if (!confirmed) continue;
      const name = this.#log.item(end.workId);
      const count = this.#forcedStops.get(end.workId) ?? 0;
      if (count !== 1) {
        this.violation(`${end.worker} ended ${name} ${end.outcome} with stop call ${end.stopCall}, but ${count} stop {force:true} succeeded on the server`);
      }
      const state = states.get(end.workId);
      if (state !== 'stopped') this.violation(`${end.worker} ended ${name} with stop call ${end.stopCall}, but it is ${String(state)} on the server`);
    }
  }
}

function runs(list: readonly SandboxRun[]): string {
  return list.map((run) => `#${run.id}@${run.worker}`).join(', ');
}
