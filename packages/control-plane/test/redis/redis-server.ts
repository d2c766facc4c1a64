/**
 * A real redis-server for the Redis store's tests: spawned on 127.0.0.1 at a free port, without
 * persistence, and stopped after the file. When the binary is missing the tests are not run
 * (one printed line says why), unless ENVWORKER_REQUIRE_REDIS=1 asks for them to fail instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Why redis-server cannot be used here, or `null` when it can. */
export function redisServerUnavailable(): string | null {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) return 'redis-server is not installed (not on PATH)';
  return null;
}

/** Whether the environment demands the Redis tests run (CI with Redis installed). */
export const REDIS_REQUIRED = process.env['ENVWORKER_REQUIRE_REDIS'] === '1';

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A running redis-server and how to stop it. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Freezes the process (SIGSTOP): connections stay open but nothing is answered, as in a hung Redis. */
  pause(): void;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
  stop(): Promise<void>;
}

/**
 * Starts redis-server (on `port`, or a free one; `extraArgs` appended to its command line) and
 * resolves once it accepts connections (10 s deadline).
 */
export async function startRedisServer(port?: number, extraArgs: readonly string[] = []): Promise<RedisServer> {
  const chosen = port ?? (await freePort());
  const child: ChildProcess = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const deadline = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output.slice(-500)}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(deadline);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`redis-server exited with ${String(code)}: ${output.slice(-500)}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
