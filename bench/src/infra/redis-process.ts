/**
 * A redis-server for the benchmarks of the Redis store: its own process on 127.0.0.1 at a free
 * port, without persistence. Benchmarks that need it report "not measured" when it is missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { freePort } from './free-port.js';

/** Why redis-server cannot be used here, or `null` when it can. */
export function redisUnavailable(): string | null {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error !== undefined || probe.status !== 0 ? 'redis-server is not installed' : null;
}

export interface RedisProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts redis-server and resolves once it accepts connections (10 s deadline). */
export async function startRedisProcess(): Promise<RedisProcess> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const deadline = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output.slice(-300)}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        clearTimeout(deadline);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`redis-server exited with ${String(code)}: ${output.slice(-300)}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
