/**
 * The steps of a simulated run as fast-check commands, and their arbitraries. The model is what
 * decides which steps may come next: at most `MAX_ITEMS` items, an operator stop only once there
 * is an item, a shutdown only of a worker that can still be shut down (a `stop` may cut a `drain`
 * short) and is not frozen, a thaw only of a frozen worker. After every step the run's invariants
 * are checked.
 */
import fc from 'fast-check';
import { FAULT_KINDS, FAULT_TARGETS, type FaultRule } from './fault-proxy.js';
import type { RunPlan, Simulation, ThawOrder } from './simulation.js';

export const MAX_ITEMS = 6;

type WorkerLifecycle = 'running' | 'draining' | 'stopping';

export interface Model {
  items: number;
  readonly workers: WorkerLifecycle[];
  readonly frozen: boolean[];
}

export function initialModel(plan: RunPlan): Model {
  return { items: 0, workers: plan.workers.map(() => 'running'), frozen: plan.workers.map(() => false) };
}

type Command = fc.AsyncCommand<Model, Simulation>;

class Enqueue implements Command {
  constructor(
    readonly kind: 'session' | 'healthcheck',
    readonly durationMs: number,
  ) {}

  check(model: Readonly<Model>): boolean {
    return model.items < MAX_ITEMS;
  }

  async run(model: Model, sim: Simulation): Promise<void> {
    await sim.enqueue(this.kind, this.durationMs);
    model.items += 1;
    sim.assertHealthy();
  }

  toString(): string {
    return this.kind === 'healthcheck' ? 'enqueue(healthcheck)' : `enqueue(${this.durationMs})`;
  }
}

class Advance implements Command {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true;
  }

  async run(_model: Model, sim: Simulation): Promise<void> {
    await sim.advance(this.ms);
    sim.assertHealthy();
  }

  toString(): string {
    return `advance(${this.ms})`;
  }
}

class OperatorStop implements Command {
  constructor(
    readonly item: number,
    readonly force: boolean,
  ) {}

  check(model: Readonly<Model>): boolean {
    return model.items > 0;
  }

  async run(_model: Model, sim: Simulation): Promise<void> {
    await sim.operatorStop(this.item, this.force);
    sim.assertHealthy();
  }

  toString(): string {
    return `operatorStop(item ${this.item}, force ${String(this.force)})`;
  }
}

class InjectFault implements Command {
  constructor(
    readonly worker: number,
    readonly rule: FaultRule,
  ) {}

  check(): boolean {
    return true;
  }

  async run(_model: Model, sim: Simulation): Promise<void> {
    sim.inject(this.worker, this.rule);
  }

  toString(): string {
    const { target, kind, count, delayMs } = this.rule;
    return `fault(worker ${this.worker}, next ${count} ${target} → ${kind}, ${delayMs} ms)`;
  }
}

class Freeze implements Command {
  constructor(readonly worker: number) {}

  check(model: Readonly<Model>): boolean {
    return model.frozen[this.worker % model.frozen.length] === false;
  }

  async run(model: Model, sim: Simulation): Promise<void> {
    sim.freeze(this.worker);
    model.frozen[this.worker % model.frozen.length] = true;
  }

  toString(): string {
    return `freeze(worker ${this.worker})`;
  }
}

class Thaw implements Command {
  constructor(
    readonly worker: number,
    readonly order: ThawOrder,
  ) {}

  check(model: Readonly<Model>): boolean {
    return model.frozen[this.worker % model.frozen.length] === true;
  }

  async run(model: Model, sim: Simulation): Promise<void> {
    await sim.thaw(this.worker, this.order);
    model.frozen[this.worker % model.frozen.length] = false;
    sim.assertHealthy();
  }

  toString(): string {
    return `thaw(worker ${this.worker}, ${this.order})`;
  }
}

class Shutdown implements Command {
  constructor(
    readonly worker: number,
    readonly mode: 'drain' | 'stop',
    readonly deadlineMs: number,
  ) {}

  check(model: Readonly<Model>): boolean {
    const index = this.worker % model.workers.length;
    const lifecycle = model.workers[index];
    // A frozen worker cannot act on a shutdown until it is thawed.
    if (model.frozen[index] === true) return false;
    return lifecycle === 'running' || (lifecycle === 'draining' && this.mode === 'stop');
  }

  async run(model: Model, sim: Simulation): Promise<void> {
    await sim.shutdown(this.worker, this.mode, this.deadlineMs);
    model.workers[this.worker % model.workers.length] = this.mode === 'drain' ? 'draining' : 'stopping';
    sim.assertHealthy();
  }

  toString(): string {
    return `shutdown(worker ${this.worker}, ${this.mode}${this.mode === 'drain' ? `, ${this.deadlineMs} ms` : ''})`;
  }
}

/** Short (under a beat), medium (past a TTL or a reclaim window) and long (several TTLs) spans of virtual time. */
const span = fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 3000, max: 15_000 }), fc.integer({ min: 15_000, max: 60_000 }));

const workerIndex = fc.nat({ max: 2 });

const enqueue = fc
  .tuple(fc.constantFrom('session', 'session', 'session', 'healthcheck' as const), span)
  .map(([kind, durationMs]): Command => new Enqueue(kind as 'session' | 'healthcheck', durationMs));
const advance = span.map((ms): Command => new Advance(ms));
const operatorStop = fc.tuple(fc.nat({ max: MAX_ITEMS - 1 }), fc.boolean()).map(([item, force]): Command => new OperatorStop(item, force));
const fault = fc
  .record({
    worker: workerIndex,
    target: fc.constantFrom(...FAULT_TARGETS),
    kind: fc.constantFrom(...FAULT_KINDS),
    count: fc.integer({ min: 1, max: 4 }),
    delayMs: fc.integer({ min: 100, max: 15_000 }),
  })
  .map(({ worker, ...rule }): Command => new InjectFault(worker, rule));
const freeze = workerIndex.map((worker): Command => new Freeze(worker));
const thaw = fc
  .tuple(workerIndex, fc.constantFrom<ThawOrder>('timers_first', 'io_first'))
  .map(([worker, order]): Command => new Thaw(worker, order));
const shutdown = fc
  .tuple(workerIndex, fc.constantFrom<'drain' | 'stop'>('drain', 'stop'), fc.integer({ min: 0, max: 40_000 }))
  .map(([worker, mode, deadlineMs]): Command => new Shutdown(worker, mode, deadlineMs));

/** The steps of a run; advances and faults are listed twice to come up more often. */
export function stepsArbitrary(maxCommands: number): fc.Arbitrary<Iterable<Command>> {
  return fc.commands([enqueue, enqueue, advance, advance, advance, fault, fault, operatorStop, freeze, thaw, shutdown], { maxCommands, size: 'max' });
}

/** One to three workers, each with its slots, pollers, TTL and grace; the server's TTL before the first beat. */
export const planArbitrary: fc.Arbitrary<RunPlan> = fc.record({
  workers: fc.array(
    fc
      .record({
        maxConcurrency: fc.integer({ min: 1, max: 2 }),
        bothPoll: fc.boolean(),
        leaseTtlSeconds: fc.constantFrom(10, 15, 30),
        stopGraceMs: fc.integer({ min: 0, max: 3000 }),
      })
      .map(({ bothPoll, ...worker }) => ({ ...worker, pollers: bothPoll ? worker.maxConcurrency : 1 })),
    { minLength: 1, maxLength: 3 },
  ),
  serverDefaultTtlSeconds: fc.constantFrom(10, 30, 120),
  seed: fc.integer(),
});
