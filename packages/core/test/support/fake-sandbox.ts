/**
 * fakeRuntime / FakeSandbox: a FAKE sandbox runtime whose every step the test decides. It is a fake
 * on purpose, and only for the work-item machine's tests: they need a sandbox that exits exactly
 * when told, ignores a stop, starts only after an abort, or never starts, on demand and in
 * virtual time, which no real adapter can do. The real runtimes run in the end-to-end tests.
 */
import type { Sandbox, SandboxExit, SandboxRuntime, SandboxSpec } from '../../src/runtime/sandbox-runtime.js';

/** How a fake sandbox answers `stop(graceMs)`. */
export type StopBehaviour = 'obey' | 'ignore';

export class FakeSandbox implements Sandbox {
  readonly id: string;
  readonly exit: Promise<SandboxExit>;
  readonly stopCalls: number[] = [];
  kills = 0;
  exited: SandboxExit | null = null;
  readonly #resolve: (exit: SandboxExit) => void;
  readonly #stopBehaviour: StopBehaviour;
  readonly #log: string[];

  constructor(id: string, stopBehaviour: StopBehaviour, log: string[]) {
    this.id = id;
    this.#stopBehaviour = stopBehaviour;
    this.#log = log;
    let resolve: (exit: SandboxExit) => void = () => undefined;
    this.exit = new Promise((r) => (resolve = r));
    this.#resolve = resolve;
  }

  /** Ends the sandbox (once) as if it exited by itself. */
  finish(code: number | null, reason: SandboxExit['reason'] = 'exited', signal: string | null = null): void {
    if (this.exited !== null) return;
    this.exited = { code, signal, reason, durationMs: 1 };
    this.#log.push(`exit:${reason}`);
    this.#resolve(this.exited);
  }

  stop(graceMs: number): Promise<SandboxExit> {
    this.stopCalls.push(graceMs);
    this.#log.push(`sandbox.stop:${graceMs}`);
    if (this.#stopBehaviour === 'obey') this.finish(0, 'stopped');
    return this.exit;
  }

  kill(): Promise<SandboxExit> {
    this.kills += 1;
    this.#log.push('sandbox.kill');
    this.finish(null, 'killed', 'SIGKILL');
    return this.exit;
  }
}

/** How a fake runtime answers `start`. */
export type StartBehaviour =
  /** Resolves with a sandbox at once. */
  | 'ok'
  /** Rejects. */
  | 'fail'
  /** Resolves only when the test calls `release()`, whatever the abort signal says. */
  | 'held';

export class FakeRuntime implements SandboxRuntime {
  readonly name = 'fake';
  readonly sandboxes: FakeSandbox[] = [];
  readonly signals: AbortSignal[] = [];
  readonly specs: SandboxSpec[] = [];
  #held: Array<() => void> = [];

  constructor(
    private readonly log: string[],
    private readonly startBehaviour: StartBehaviour = 'ok',
    private readonly stopBehaviour: StopBehaviour = 'obey',
  ) {}

  start(spec: SandboxSpec, signal: AbortSignal): Promise<Sandbox> {
    this.log.push('runtime.start');
    this.specs.push(spec);
    this.signals.push(signal);
    if (this.startBehaviour === 'fail') return Promise.reject(new Error('the image could not be pulled'));
    const sandbox = new FakeSandbox(`fake-${this.sandboxes.length + 1}`, this.stopBehaviour, this.log);
    this.sandboxes.push(sandbox);
    if (this.startBehaviour === 'ok') return Promise.resolve(sandbox);
    return new Promise((resolve) => this.#held.push(() => resolve(sandbox)));
  }

  /** Lets every held start resolve. */
  release(): void {
    for (const resolve of this.#held.splice(0)) resolve();
  }

  /** The only sandbox started; fails the test if there is not exactly one. */
  get sandbox(): FakeSandbox {
    if (this.sandboxes.length !== 1) throw new Error(`expected one sandbox, got ${this.sandboxes.length}`);
    return this.sandboxes[0] as FakeSandbox;
  }
}
