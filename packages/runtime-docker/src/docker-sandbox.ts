/**
 * One sandbox: a container created for one work item, attached before it starts (so no output is
 * missed), started, handed the work item JSON on standard input (then EOF), watched with a wait
 * call, and removed with its work directory once it has exited.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeWorkdir, errorCode, type Sandbox, type SandboxExit, type SandboxSpec, type TimerHandle } from '@envworker/core';
import { removeContainer, signalContainer } from './container-calls.js';
import { containerConfig } from './container-config.js';
import { DockerApiError, DockerConnectionError, type DockerClient } from './docker-client.js';
import { ContainerInspectAnswer, CreateAnswer, WaitAnswer } from './docker-schemas.js';
import { exitStatusOf } from './exit-status.js';
import { readOutput, type OutputLine } from './output-reader.js';
import type { DockerSettings } from './runtime-options.js';

/** What {@link launchDockerSandbox} needs. */
export interface LaunchInput {
  readonly client: DockerClient;
  readonly spec: SandboxSpec;
  readonly settings: DockerSettings;
  /** The image to run, by id (see `image-policy.ts`). */
  readonly imageId: string;
  /** This worker process's label value (see `worker-process.ts`), or `null`. */
  readonly workerProcess: string | null;
  /** The runtime's containers (id → worker id): a container is in it from its creation until its sandbox's exit resolves. */
  readonly running: Map<string, string>;
  readonly signal: AbortSignal;
}

/**
 * How long output may still come after the container exited. The daemon closes the attach
 * connection at the exit; only a broken connection makes this run out. Real time, since it guards
 * I/O rather than a sandbox's behaviour.
 */
const OUTPUT_DRAIN_MS = 2000;

/** How often, and how far apart, a wait that broke off is tried again (the daemon restarting, say). */
const WAIT_RETRIES = 3;
const WAIT_RETRY_MS = 1000;

/**
 * Creates, attaches and starts the container of one work item; resolves once it runs with its
 * standard input delivered. Rejects when it cannot be started or `input.signal` aborts, leaving no
 * container behind (the caller removes the work directory).
 */
export async function launchDockerSandbox(input: LaunchInput): Promise<DockerSandbox> {
  const { client, spec, settings } = input;
  const name = `envworker-${spec.work.id.replace(/[^A-Za-z0-9_.-]/g, '_')}-${randomBytes(4).toString('hex')}`;
  let id: string;
  let warnings: readonly string[];
  try {
    const created = await client.call('POST', '/containers/create', {
      query: { name },
      body: containerConfig(settings, spec, input.imageId, input.workerProcess),
      schema: CreateAnswer,
    });
    id = created.Id;
    warnings = created.Warnings ?? [];
  } catch (error) {
    // A create whose answer was lost may still have made the container: it is removed by its name.
    if (error instanceof DockerConnectionError) await removeContainer(client, name).catch(() => undefined);
    throw new Error(`the container could not be created (${reasonOf(error)})`, { cause: error });
  }
  input.running.set(id, spec.workerId);
  const discard = async (): Promise<void> => {
    await removeContainer(client, id).catch(() => undefined);
    input.running.delete(id);
  };
  let connection: Duplex;
  let waiting: Awaited<ReturnType<DockerClient['stream']>>;
  try {
    input.signal.throwIfAborted();
    connection = await client.attach(id);
  } catch (error) {
    await discard();
    throw error;
  }
  try {
    input.signal.throwIfAborted();
    // The daemon sends the headers of a wait once the wait is registered: after this, no exit can be missed.
    waiting = await client.stream('POST', `/containers/${id}/wait`, { query: { condition: 'next-exit' }, timeoutMs: null });
  } catch (error) {
    connection.destroy();
    await discard();
    throw error;
  }
  const sandbox = new DockerSandbox(id, connection, warnings, input);
  try {
    await client.call('POST', `/containers/${id}/start`);
  } catch (error) {
    waiting.destroy();
    connection.destroy();
    await discard();
    throw new Error(`the container could not be started (${reasonOf(error)})`, { cause: error });
  }
  sandbox.started(client.answer(waiting, WaitAnswer, 'POST', `/containers/${id}/wait`));
  // The work item JSON, then EOF: ending the connection's write side closes the container's stdin (`StdinOnce`).
  connection.end(spec.stdin);
  if (input.signal.aborted) {
    await sandbox.kill();
    input.signal.throwIfAborted();
  }
  return sandbox;
}

/** Why the sandbox was asked to end, when it was: decides the reason of its exit. */
type EndCause = 'stop' | 'limit' | 'kill';

/** A container that runs one work item; see {@link launchDockerSandbox}. */
export class DockerSandbox implements Sandbox {
  /** The container id. */
  readonly id: string;
  readonly exit: Promise<SandboxExit>;
  #resolveExit: (exit: SandboxExit) => void = () => undefined;
  readonly #input: LaunchInput;
  readonly #connection: Duplex;
  readonly #outputDone: Promise<string | null>;
  readonly #timers: TimerHandle[] = [];
  /** Faults met on the way (a signal refused, a removal failed), reported in the exit's `detail`. */
  readonly #faults: string[];
  /** Every signal sent to the container: what its exit status can be read as (see `exit-status.ts`). */
  readonly #sent = new Set<string>();
  #startedAt = 0;
  /** Set once the container has exited: from then on nothing is signalled. */
  #exited = false;
  #cause: EndCause | null = null;
  #limitDetail = '';
  #politeSent = false;
  #killSent = false;
  #sinkFailed = false;

  constructor(id: string, connection: Duplex, warnings: readonly string[], input: LaunchInput) {
    const { settings } = input;
    this.id = id;
    this.#input = input;
    this.#connection = connection;
    this.#faults = warnings.map((warning) => `the daemon warned: ${warning}`);
    this.exit = new Promise((resolve) => (this.#resolveExit = resolve));
    // Reading starts before the container does: nothing it prints is missed.
    this.#outputDone = readOutput(connection, {
      maxLineBytes: settings.maxLineBytes,
      maxOutputBytes: settings.maxOutputBytes,
      onLines: (lines) => this.#passOn(lines),
      onLimit: () => this.#outputLimit(),
    });
  }

  /** Called by {@link launchDockerSandbox} once the container runs; `answer` is its pending wait. */
  started(answer: Promise<WaitAnswer>): void {
    this.#startedAt = this.#input.settings.clock.now();
    void this.#watch(answer);
  }

  stop(graceMs: number): Promise<SandboxExit> {
    if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
      return Promise.reject(new RangeError(`graceMs must be a finite number >= 0, got ${String(graceMs)}`));
    }
    if (!this.#exited && !this.#killSent) {
      this.#cause ??= 'stop';
      this.#polite();
      this.#timers.push(this.#input.settings.clock.setTimeout(() => this.#killContainer(), graceMs));
    }
    return this.exit;
  }

  kill(): Promise<SandboxExit> {
    // Once SIGKILL has gone out (a grace or a limit ran out), that is what ends the sandbox.
    if (!this.#exited && !this.#killSent) {
      this.#cause = 'kill';
      this.#killContainer();
    }
    return this.exit;
  }

  #outputLimit(): void {
    if (this.#exited || this.#killSent) return;
    this.#cause = 'limit';
    this.#limitDetail = `printed more than maxOutputBytes (${this.#input.settings.maxOutputBytes} bytes) on stdout and stderr`;
    this.#killContainer();
  }

  #polite(): void {
    if (this.#exited || this.#politeSent) return;
    this.#politeSent = true;
    this.#signal(this.#input.settings.stopSignal);
  }

  #killContainer(): void {
    if (this.#exited || this.#killSent) return;
    this.#killSent = true;
    this.#signal('SIGKILL');
  }

  #signal(signal: string): void {
    // Recorded before it is sent: the container may be dead before the call returns.
    this.#sent.add(signal);
    signalContainer(this.#input.client, this.id, signal).catch((error: unknown) => {
      this.#faults.push(`${signal} to the container failed (${reasonOf(error)})`);
    });
  }

  #passOn(lines: readonly OutputLine[]): void {
    try {
      for (const line of lines) this.#input.spec.log.line(line.stream, line.text);
    } catch (error) {
      // A broken sink must not take the worker down with it; the exit says what happened (once).
      if (!this.#sinkFailed) this.#faults.push(`the log sink threw (${reasonOf(error)})`);
      this.#sinkFailed = true;
    }
  }

  /** Waits for the container's exit (trying again if the wait broke off), then winds down. */
  async #watch(answer: Promise<WaitAnswer>): Promise<void> {
    let status: number | null = null;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await answer;
        if (result.Error) this.#faults.push(`the wait reported: ${result.Error.Message}`);
        status = result.StatusCode;
        break;
      } catch (error) {
        if (attempt === WAIT_RETRIES) {
          this.#faults.push(`the container's exit could not be learnt (${reasonOf(error)})`);
          break;
        }
        await sleep(WAIT_RETRY_MS);
        // `not-running` answers at once for a container that has already exited.
        answer = this.#input.client.call('POST', `/containers/${this.id}/wait`, {
          query: { condition: 'not-running' },
          schema: WaitAnswer,
          timeoutMs: null,
        });
      }
    }
    this.#exited = true;
    const durationMs = Math.max(0, this.#input.settings.clock.now() - this.#startedAt);
    for (const timer of this.#timers) this.#input.settings.clock.clearTimeout(timer);
    await this.#drainOutput();
    const oomKilled = await this.#oomKilled();
    await this.#cleanUp();
    const exit = this.#exitOf(status, oomKilled);
    const detail = [exit.detail, ...this.#faults].filter((part) => part !== undefined && part !== '').join('; ');
    this.#resolveExit(detail === '' ? { ...exit, durationMs } : { ...exit, durationMs, detail });
  }

  #exitOf(status: number | null, oomKilled: boolean): Omit<SandboxExit, 'durationMs'> {
    const sent = new Set(this.#sent);
    // The OOM killer ends a process with SIGKILL.
    if (oomKilled) sent.add('SIGKILL');
    const { code, signal } = status === null ? { code: null, signal: null } : exitStatusOf(status, sent);
    const limit = this.#input.settings.memoryBytes ?? 'none set';
    const oom = oomKilled ? `out of memory: the kernel killed a process of the container at its memory limit (${limit} bytes)` : '';
    switch (this.#cause) {
      case 'kill':
        return { code, signal, reason: 'killed', detail: oom };
      case 'limit':
        return { code, signal, reason: 'limit', detail: [this.#limitDetail, oom].filter((part) => part !== '').join('; ') };
      case 'stop':
        // It counts as stopped unless the grace ran out and SIGKILL is what ended it.
        return { code, signal, reason: this.#killSent && signal === 'SIGKILL' ? 'killed' : 'stopped', detail: oom };
      case null:
        return oomKilled ? { code, signal, reason: 'limit', detail: oom } : { code, signal, reason: 'exited' };
    }
  }

  /** Waits for the last output; a connection still open after {@link OUTPUT_DRAIN_MS} is cut. */
  async #drainOutput(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), OUTPUT_DRAIN_MS);
    });
    const outcome = await Promise.race([this.#outputDone, cut]);
    clearTimeout(timer);
    if (outcome === 'cut') {
      this.#faults.push(`output was cut ${OUTPUT_DRAIN_MS} ms after the exit: the attach connection stayed open`);
      this.#connection.destroy();
      await this.#outputDone;
    } else if (outcome !== null) {
      this.#faults.push(outcome);
    }
  }

  /** Whether the kernel's OOM killer struck in the container (the daemon records it). */
  async #oomKilled(): Promise<boolean> {
    try {
      return (await this.#input.client.call('GET', `/containers/${this.id}/json`, { schema: ContainerInspectAnswer })).State.OOMKilled;
    } catch (error) {
      this.#faults.push(`the container could not be inspected after its exit (${reasonOf(error)})`);
      return false;
    }
  }

  /** Removes the container and the work directory (unless kept); records what failed. */
  async #cleanUp(): Promise<void> {
    const { client, spec, settings, running } = this.#input;
    if (!settings.keepContainers) {
      await removeContainer(client, this.id).catch((error: unknown) => this.#faults.push(`the container could not be removed (${reasonOf(error)})`));
    }
    if (!settings.keepWorkdir) {
      await removeWorkdir(spec.workdir).catch((error: unknown) => this.#faults.push(`workdir could not be removed (${errorCode(error)})`));
    }
    running.delete(this.id);
  }
}

/** A short description of an error for an exit's detail or a start's rejection. */
function reasonOf(error: unknown): string {
  if (error instanceof DockerApiError) return error.daemonMessage;
  return error instanceof Error ? error.message : String(error);
}
