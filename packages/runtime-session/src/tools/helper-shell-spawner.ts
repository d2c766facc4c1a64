/**
 * The spawner that asks a helper to start each shell, so the worker never forks itself: a fork
 * blocks the forking process's event loop for some milliseconds, and 64 sessions starting their
 * shells at once would hold every heartbeat back by a fraction of a second. The helper is one
 * small bash (`SHELL_HELPER_SCRIPT`), started on first use with an empty environment, that forks
 * itself for each shell. Each shell connects back to a loopback port the worker listens on and
 * uses that connection as its stdin, stdout and stderr: output flows from bash to the worker
 * directly. Connections are matched to requests by a random id the shell writes first; one that
 * does not name a pending request within 5 s is closed. A helper that dies fails the requests in
 * flight, and the next request starts a new one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { access } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { signalGroup } from '@envworker/core';
import { SHELL_HELPER_SCRIPT } from './shell-helper-source.js';
import { niceShell, type ShellProcess, type ShellRequest, type ShellSpawner } from './shell-spawner.js';

/** How long a shell may take to start and connect before its request fails. */
const SPAWN_TIMEOUT_MS = 10_000;
/** How long a connection may take to name its request. */
const HELLO_TIMEOUT_MS = 5_000;
const ID_LENGTH = 36;
/** How long a shell whose connection closed may take to be reaped, and how often to look. */
const REAP_WAIT_MS = 5_000;
const REAP_POLL_MS = 5;

/** One request to the helper, from sending it until its shell is handed over or given up. */
interface Launch {
  pid: number | null;
  socket: Socket | null;
  /** Set once the request failed or was given up: a shell that still arrives is killed. */
  abandoned: boolean;
  settle(): void;
  fail(error: unknown): void;
}

interface Helper {
  readonly child: ChildProcess;
  /** Where requests go. */
  readonly requests: Socket;
  /** Where the answers come from. */
  readonly answers: Socket;
  readonly server: Server;
}

/**
 * Creates a spawner with its own helper, started on first use. `close()` ends the helper and
 * stops listening; call it once no more shells will be started.
 *
 * @example
 * ```ts
 * const shells = helperShellSpawner();
 * const shell = await shells.spawn({ cwd: '/srv/work/item-1', env: { PATH: '/usr/bin:/bin' }, nice: 19 }, AbortSignal.timeout(10_000));
 * shell.onOutput((text) => process.stdout.write(text));
 * shell.write('echo hi; exit\n');
 * await shell.exited;
 * await shells.close();
 * ```
 */
export function helperShellSpawner(): ShellSpawner {
  return new HelperShellSpawner();
}

class HelperShellSpawner implements ShellSpawner {
  readonly #launches = new Map<string, Launch>();
  #helper: Promise<Helper> | null = null;
  #closed = false;

  async spawn(request: ShellRequest, signal: AbortSignal): Promise<ShellProcess> {
    signal.throwIfAborted();
    if (this.#closed) throw new Error('the shell spawner is closed');
    const helper = await this.#ready();
    signal.throwIfAborted();
    const id = randomUUID();
    const frame = helperRequest(id, request);
    const { pid, socket } = await new Promise<{ pid: number; socket: Socket }>((resolve, reject) => {
      const timer = setTimeout(() => launch.fail(new Error(`the shell helper did not start bash within ${SPAWN_TIMEOUT_MS} ms`)), SPAWN_TIMEOUT_MS);
      const onAbort = (): void => launch.fail(signal.reason);
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#forget(id, helper);
      };
      const launch: Launch = {
        pid: null,
        socket: null,
        abandoned: false,
        settle() {
          if (launch.abandoned || launch.pid === null || launch.socket === null) return;
          finish();
          resolve({ pid: launch.pid, socket: launch.socket });
        },
        fail(error) {
          if (launch.abandoned) return;
          launch.abandoned = true;
          finish();
          if (launch.pid !== null) signalGroup(launch.pid, 'SIGKILL');
          launch.socket?.destroy();
          reject(error);
        },
      };
      this.#launches.set(id, launch);
      // While a request waits, the helper's answers must keep this process alive.
      helper.answers.ref();
      signal.addEventListener('abort', onAbort, { once: true });
      helper.requests.write(frame);
    });
    niceShell(pid, request.nice);
    return shellProcess(pid, socket);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const starting = this.#helper;
    this.#helper = null;
    const helper = await starting?.catch(() => null);
    if (helper === null || helper === undefined) return;
    helper.child.kill('SIGKILL');
    // Not waiting for the server's close: that waits for every shell's connection to end.
    helper.server.close();
  }

  /** Drops a request that can no longer be answered; lets the process exit once none waits. */
  #forget(id: string, helper: Helper): void {
    this.#launches.delete(id);
    if (this.#launches.size === 0) helper.answers.unref();
  }

  #ready(): Promise<Helper> {
    if (this.#helper === null) {
      // Once this helper fails to start or exits, the next request starts a new one.
      const gone = (): void => {
        if (this.#helper === starting) this.#helper = null;
      };
      const starting = this.#start(gone);
      this.#helper = starting;
      starting.catch(gone);
    }
    return this.#helper;
  }

  async #start(onExit: () => void): Promise<Helper> {
    const server = createServer((socket) => this.#accept(socket));
    server.listen(0, '127.0.0.1');
    try {
      await once(server, 'listening');
    } catch (error) {
      throw new Error(`cannot listen for shells on 127.0.0.1: ${error instanceof Error ? error.message : String(error)}`);
    }
    server.unref();
    const { port } = server.address() as AddressInfo;
    // An empty environment: nothing of the worker's (its keys least of all) reaches the helper.
    const child = spawn('/bin/bash', ['--noprofile', '--norc', '-c', SHELL_HELPER_SCRIPT, 'envworker-shell-helper', String(port)], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: {},
    });
    // Pipes to a child are sockets, which can be unref'd; the stream types do not say so.
    const helper: Helper = { child, requests: child.stdin as Socket, answers: child.stdout as Socket, server };
    child.unref();
    helper.answers.unref();
    helper.requests.on('error', () => undefined);
    createInterface({ input: helper.answers }).on('line', (line) => this.#onAnswer(line));
    child.once('exit', (code, signal) => {
      onExit();
      const why = new Error(`the shell helper exited (${signal ?? `code ${code}`})`);
      for (const launch of [...this.#launches.values()]) launch.fail(why);
      server.close();
    });
    try {
      await once(child, 'spawn');
    } catch (error) {
      server.close();
      throw new Error(`cannot start the shell helper: ${error instanceof Error ? error.message : String(error)}`);
    }
    return helper;
  }

  /** A line of the helper: the pid of a started shell, or why one could not start. */
  #onAnswer(line: string): void {
    const [kind, id, ...rest] = line.split(' ');
    const launch = id === undefined ? undefined : this.#launches.get(id);
    if (launch === undefined) return;
    if (kind === 'error') {
      launch.fail(new Error(rest.join(' ')));
      return;
    }
    const pid = Number(rest[0]);
    if (kind !== 'pid' || !Number.isSafeInteger(pid) || pid <= 1) return;
    launch.pid = pid;
    if (launch.abandoned) signalGroup(pid, 'SIGKILL');
    else launch.settle();
  }

  /** A connection from a shell: its first line names its request. */
  #accept(socket: Socket): void {
    let hello = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    socket.on('error', () => undefined);
    socket.once('close', () => clearTimeout(timer));
    const onData = (chunk: Buffer): void => {
      hello = Buffer.concat([hello, chunk]);
      const end = hello.indexOf(0x0a);
      if (end < 0) {
        if (hello.length > ID_LENGTH) socket.destroy();
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      const launch = this.#launches.get(hello.subarray(0, end).toString('latin1'));
      if (launch === undefined || launch.socket !== null || launch.abandoned) {
        socket.destroy();
        return;
      }
      if (end + 1 < hello.length) socket.unshift(hello.subarray(end + 1));
      launch.socket = socket;
      launch.settle();
    };
    socket.on('data', onData);
  }
}

/** The largest request the helper's 8-digit size can carry. */
const MAX_REQUEST_BYTES = 99_999_999;

/** A shell word that bash reads back as exactly `text`, NUL bytes dropped (no C string holds one). */
function singleQuoted(text: string): string {
  return `'${text.replaceAll('\0', '').replaceAll("'", `'\\''`)}'`;
}

/** The bytes of one request, framed as `SHELL_HELPER_SCRIPT` reads them. */
function helperRequest(id: string, request: ShellRequest): string {
  const vars = Object.entries(request.env).map(([name, value]) => singleQuoted(`${name}=${value}`));
  const body = `id=${singleQuoted(id)}; cwd=${singleQuoted(request.cwd)}; vars=(${vars.join(' ')})`;
  const size = Buffer.byteLength(body);
  if (size > MAX_REQUEST_BYTES) throw new Error(`the shell's environment is too large for the shell helper (${size} bytes)`);
  return `${String(size).padStart(8, '0')}${body}`;
}

/**
 * Resolves once `pid` is reaped (its /proc entry gone) or after the deadline. The helper reaps its
 * jobs as they exit, within a few milliseconds; until then the shell is a zombie, and checking
 * its group would scan all of /proc.
 */
async function reaped(pid: number): Promise<void> {
  const deadline = performance.now() + REAP_WAIT_MS;
  while (performance.now() < deadline) {
    if (!(await access(`/proc/${pid}`).then(() => true, () => false))) return;
    await sleep(REAP_POLL_MS);
  }
}

function shellProcess(pid: number, socket: Socket): ShellProcess {
  const outputClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // A shell's connection closes as it exits (or is destroyed, and the shell then exits on end of input).
  const exited = outputClosed.then(() => reaped(pid));
  return {
    pid,
    write: (text) => void socket.write(text),
    onOutput(listener) {
      const decoder = new StringDecoder('utf8');
      let nudged = false;
      socket.on('data', (chunk: Buffer) => {
        listener(decoder.write(chunk));
        // Bash cannot turn off Nagle's algorithm on its end, so a command's second small write
        // (its sentinel after its output) waits for the ACK of the first, which this end delays
        // by ~40 ms unless it has data to carry it. A newline carries it at once, and bash reads
        // it later as an empty command line. One per turn of the event loop is enough.
        if (nudged || socket.destroyed) return;
        nudged = true;
        socket.write('\n');
        setImmediate(() => (nudged = false));
      });
      socket.setNoDelay(true);
      socket.resume();
    },
    outputClosed,
    exited,
    destroy: () => socket.destroy(),
  };
}
