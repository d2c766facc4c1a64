/**
 * One sandbox: the command as a child process that leads its own process group, with its output
 * read into the log sink, its state file kept for `reap`, and its work directory removed at the
 * end. Every signal goes to the whole group, so what the command started ends with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  errorCode,
  GROUP_POLL_MS,
  groupRunning,
  niceSandbox,
  readProcStatSync,
  removeWorkdir,
  signalGroup,
  type Sandbox,
  type SandboxExit,
  type SandboxSpec,
  type TimerHandle,
} from '@envworker/core';
import { childEnvironment } from './child-environment.js';
import type { OutputFile, OutputLine } from './output-file.js';
import { OutputReader } from './output-reader.js';
import { limitSignalDetail } from './resource-limits.js';
import type { ProcessSettings } from './runtime-options.js';
import { removeState, writeState } from './state-files.js';

/** What {@link launchProcessSandbox} needs. */
export interface LaunchInput {
  readonly spec: SandboxSpec;
  readonly settings: ProcessSettings;
  /** The worker's state directory, already made and checked. */
  readonly stateDir: string;
  /** The item's output file, if the runtime keeps one; the sandbox closes it. */
  readonly output: OutputFile | null;
  /** The runtime's running sandboxes (pid → worker id): the sandbox is in it from spawn until its exit resolves. */
  readonly running: Map<number, string>;
}

/**
 * How long output may still come after the command exited and its group was killed. Only a
 * process that left the group (`setsid`) and kept the pipes open makes it run out; the pipes are
 * then closed on it. Real time, since it guards I/O rather than a sandbox's behaviour.
 */
const OUTPUT_DRAIN_MS = 2000;

/** How long the processes of a group may take to be gone after SIGKILL (one in uninterruptible I/O can take a while). */
const KILL_WAIT_MS = 5000;

/**
 * Spawns the command for one work item and records its state file; resolves once the process runs
 * and can be found by `reap`. Rejects (leaving no process behind) when it cannot be started.
 */
export async function launchProcessSandbox(input: LaunchInput): Promise<ProcessSandbox> {
  const { spec, settings } = input;
  const child = spawn(settings.file, settings.args, {
    cwd: spec.workdir,
    env: childEnvironment(spec.env, settings.inheritEnv),
    // Its own process group (pgid = pid), so that signals reach everything it starts. Detached also
    // means a process session of its own, and so a scheduling group of its own (see niceSandbox).
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(settings.user === null ? {} : { uid: settings.user.uid, gid: settings.user.gid }),
  });
  // Until the event loop turns, the child cannot have been collected: its pid is still its own,
  // so the start time read now is the one `reap` must find to know the group for this sandbox's.
  const stat = child.pid === undefined ? null : readProcStatSync(child.pid);
  // Before the event loop turns, so that the command has had the least time to start anything
  // that would keep the old priority.
  if (child.pid !== undefined) niceSandbox(child.pid, settings.nice);
  try {
    await spawned(child);
  } catch (error) {
    for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
    throw new Error(`the command could not be started (${errorCode(error)}: ${(error as Error).message})`, { cause: error });
  }
  const pid = child.pid as number;
  // Without /proc (not Linux) there is no start time to check, and so nothing `reap` could safely kill.
  const state =
    stat === null
      ? Promise.resolve(null)
      : writeState(input.stateDir, { version: 1, pid, pgid: pid, startTime: stat.startTime, workdir: spec.workdir, workId: spec.work.id });
  const sandbox = new ProcessSandbox(child, pid, state.catch(() => null), input);
  try {
    await state;
  } catch (error) {
    await sandbox.kill();
    throw new Error(`the state file of sandbox ${pid} could not be written (${errorCode(error)}); it was killed`, { cause: error });
  }
  return sandbox;
}

/** Resolves once the child runs; rejects with the spawn error (`ENOENT`, `EACCES`, `EPERM`, …). */
function spawned(child: ChildProcess): Promise<void> {
  // A ChildProcess 'error' without a listener would crash the worker; failures are reported otherwise.
  child.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const onSpawn = (): void => {
      child.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      child.off('spawn', onSpawn);
      reject(error);
    };
    child.once('spawn', onSpawn);
    child.once('error', onError);
  });
}

/** Why the sandbox was asked to end, when it was: decides the reason of its exit. */
type EndCause = 'stop' | 'limit' | 'kill';

/** A running child process group; see {@link launchProcessSandbox}. */
export class ProcessSandbox implements Sandbox {
  /** The pid, which is also the process group id. */
  readonly id: string;
  readonly exit: Promise<SandboxExit>;
  #resolveExit: (exit: SandboxExit) => void = () => undefined;
  readonly #child: ChildProcess;
  readonly #pid: number;
  readonly #input: LaunchInput;
  readonly #state: Promise<string | null>;
  readonly #startedAt: number;
  readonly #timers: TimerHandle[] = [];
  /** Faults met on the way (a signal refused, a file not removed), reported in the exit's `detail`. */
  readonly #faults: string[] = [];
  readonly #outputDone: Promise<void>;
  /** Set once the command has exited (its group may still have processes). */
  #commandExited = false;
  /** Set once no process of the group runs, before the clean-up: from then on nothing is signalled. */
  #ended = false;
  #cause: EndCause | null = null;
  #limitDetail = '';
  #politeSent = false;
  #killSent = false;
  #sinkFailed = false;

  constructor(child: ChildProcess, pid: number, state: Promise<string | null>, input: LaunchInput) {
    const { spec, settings } = input;
    this.id = String(pid);
    this.#child = child;
    this.#pid = pid;
    this.#input = input;
    this.#state = state;
    this.#startedAt = settings.clock.now();
    this.exit = new Promise((resolve) => (this.#resolveExit = resolve));
    input.running.set(pid, spec.workerId);
    input.output?.setPid(pid);

    const reader = new OutputReader({
      maxLineBytes: settings.maxLineBytes,
      maxOutputBytes: settings.maxOutputBytes,
      onLines: (lines) => this.#passOn(lines),
      onLimit: () => this.#outputLimit(),
    });
    const { stdin, stdout, stderr } = child;
    if (stdin === null || stdout === null || stderr === null) throw new Error('the child process has no standard streams');
    this.#outputDone = Promise.all([reader.read(stdout, 'stdout'), reader.read(stderr, 'stderr')]).then(() => undefined);
    // A command that exits without reading all of its input makes the write fail with EPIPE; that is its choice.
    stdin.on('error', () => undefined);
    stdin.end(spec.stdin);
    child.once('exit', (code, signal) => this.#exited(code, signal));
    if (settings.maxRunMs !== null) this.#schedule(settings.maxRunMs, () => this.#runLimit());
  }

  stop(graceMs: number): Promise<SandboxExit> {
    if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
      return Promise.reject(new RangeError(`graceMs must be a finite number >= 0, got ${String(graceMs)}`));
    }
    if (!this.#ended && !this.#killSent) {
      this.#cause ??= 'stop';
      this.#polite();
      this.#schedule(graceMs, () => this.#killGroup());
    }
    return this.exit;
  }

  kill(): Promise<SandboxExit> {
    // Once SIGKILL has gone out (a grace or a limit ran out), that is what ends the sandbox.
    if (!this.#ended && !this.#killSent) {
      if (!this.#commandExited) this.#cause = 'kill';
      this.#killGroup();
    }
    return this.exit;
  }

  #runLimit(): void {
    // A stop already under way decides the end; the limit adds nothing to it.
    if (this.#commandExited || this.#cause !== null) return;
    this.#cause = 'limit';
    this.#limitDetail = `ran longer than maxRunMs (${this.#input.settings.maxRunMs} ms)`;
    this.#polite();
    this.#schedule(this.#input.settings.limitGraceMs, () => this.#killGroup());
  }

  #outputLimit(): void {
    // After the command's exit, the reason is decided; what is left of its group is still killed.
    if (!this.#commandExited && !this.#killSent) {
      this.#cause = 'limit';
      this.#limitDetail = `printed more than maxOutputBytes (${this.#input.settings.maxOutputBytes} bytes) on stdout and stderr`;
    }
    this.#killGroup();
  }

  #polite(): void {
    if (this.#ended || this.#politeSent) return;
    this.#politeSent = true;
    this.#signal(this.#input.settings.stopSignal);
  }

  #killGroup(): void {
    if (this.#ended || this.#killSent) return;
    this.#killSent = true;
    this.#signal('SIGKILL');
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      signalGroup(this.#pid, signal);
    } catch (error) {
      this.#faults.push(`${signal} to process group ${this.#pid} failed (${errorCode(error)})`);
    }
  }

  #passOn(lines: readonly OutputLine[]): void {
    try {
      for (const line of lines) this.#input.spec.log.line(line.stream, line.text);
    } catch (error) {
      // A broken sink must not take the worker down with it; the exit says what happened (once).
      if (!this.#sinkFailed) this.#faults.push(`the log sink threw (${error instanceof Error ? error.message : String(error)})`);
      this.#sinkFailed = true;
    }
    this.#input.output?.write(lines);
  }

  #exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.#commandExited = true;
    const exit = this.#exitOf(code, signal);
    // Nothing of an item outlives it. During a stop (or a run-time limit) the rest of the group
    // keeps its grace, since it was sent the polite signal too and may be winding down (a shell
    // dies at SIGTERM at once, the program it runs may take a while), and the pending SIGKILL ends
    // it. Otherwise what the command left running in its group is killed now.
    if (!this.#politeSent || this.#killSent) this.#killGroup();
    void this.#windDown(exit);
  }

  async #windDown(exit: Omit<SandboxExit, 'durationMs'>): Promise<void> {
    await this.#groupGone();
    this.#ended = true;
    const durationMs = Math.max(0, this.#input.settings.clock.now() - this.#startedAt);
    for (const timer of this.#timers) this.#input.settings.clock.clearTimeout(timer);
    await this.#cleanUp();
    const detail = [exit.detail, ...this.#faults].filter((part) => part !== undefined && part !== '').join('; ');
    this.#resolveExit(detail === '' ? { ...exit, durationMs } : { ...exit, durationMs, detail });
  }

  /**
   * Resolves once no process of the group runs. The command has been collected, so only its
   * group's other processes are watched (the process table has no event for them): until the
   * pending SIGKILL, and then at most {@link KILL_WAIT_MS} more.
   */
  async #groupGone(): Promise<void> {
    let killedAt: number | null = null;
    while (await groupRunning(this.#pid)) {
      if (this.#killSent) {
        killedAt ??= performance.now();
        if (performance.now() - killedAt > KILL_WAIT_MS) {
          this.#faults.push(`processes of group ${this.#pid} still ran ${KILL_WAIT_MS} ms after SIGKILL`);
          return;
        }
      }
      await sleep(GROUP_POLL_MS);
    }
  }

  #exitOf(code: number | null, signal: NodeJS.Signals | null): Omit<SandboxExit, 'durationMs'> {
    switch (this.#cause) {
      case 'kill':
        return { code, signal, reason: 'killed' };
      case 'limit':
        return { code, signal, reason: 'limit', detail: this.#limitDetail };
      case 'stop':
        // It counts as stopped unless the grace ran out and SIGKILL is what ended it.
        return { code, signal, reason: this.#killSent && signal === 'SIGKILL' ? 'killed' : 'stopped' };
      case null: {
        const detail = limitSignalDetail(signal, this.#input.settings.limits);
        return detail === null ? { code, signal, reason: 'exited' } : { code, signal, reason: 'limit', detail };
      }
    }
  }

  /** Waits for the last output, then removes the work directory and the state file; records what failed. */
  async #cleanUp(): Promise<void> {
    const { spec, settings, output, running } = this.#input;
    const drain = setTimeout(() => {
      this.#faults.push(`output was cut ${OUTPUT_DRAIN_MS} ms after the exit: a process outside the group kept stdout or stderr open`);
      this.#child.stdout?.destroy();
      this.#child.stderr?.destroy();
    }, OUTPUT_DRAIN_MS);
    await this.#outputDone;
    clearTimeout(drain);
    if (output !== null) {
      output.close();
      if (output.fault !== null) this.#faults.push(output.fault);
    }
    // The work directory goes first: a crash between the two leaves the state file, and `reap` removes the directory.
    if (!settings.keepWorkdir) {
      await removeWorkdir(spec.workdir).catch((error: unknown) => this.#faults.push(`workdir could not be removed (${errorCode(error)})`));
    }
    const statePath = await this.#state;
    if (statePath !== null) {
      await removeState(statePath).catch((error: unknown) => this.#faults.push(`state file could not be removed (${errorCode(error)})`));
    }
    running.delete(this.#pid);
  }

  #schedule(ms: number, fn: () => void): void {
    this.#timers.push(this.#input.settings.clock.setTimeout(fn, ms));
  }
}
