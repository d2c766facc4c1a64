/**
 * The command line as a whole: the version, the help of each command, and a missing or unknown
 * command as one line, exit 2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../src/version.js';
import { runInProcess } from './support/harness.js';

describe('envworker', () => {
  it('prints the version of packages/cli/package.json, whose bin is envworker', async () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };
    expect(VERSION).toBe(manifest.version);
    expect(manifest.bin).toEqual({ envworker: './bin/envworker.js' });
    const run = runInProcess(['--version']);
    expect(await run.exit).toBe(0);
    expect(run.stdout.text).toBe(`${VERSION}\n`);
  });

  it.each([[['--help']], [['help', 'poll']], [['poll', '--help']], [['run', '--help']], [['update', '--help']]])('prints help for %j, exit 0', async (args) => {
    const run = runInProcess(args);
    expect(await run.exit).toBe(0);
    expect(run.stdout.text).toMatch(/^Usage: envworker/);
    expect(run.stderr.text).toBe('');
  });

  it('documents every poll flag with its variable', async () => {
    const run = runInProcess(['poll', '--help']);
    await run.exit;
    // The help is wrapped to the terminal's width.
    const help = run.stdout.text.replace(/\s+/g, ' ');
    for (const text of ['--lease-ttl <duration>', 'ENVWORKER_LEASE_TTL', 'ANTHROPIC_ENVIRONMENT_KEY', '--poll-idle-delay <min>-<max>', 'default 1s-3s', '--no-live', '--docker-memory <size>']) {
      expect(help).toContain(text);
    }
  });

  it.each([
    [[], 'envworker: missing a command (poll, run, control-plane, enqueue, stats, list, get, stop, update, session); see envworker --help'],
    [['pol'], "envworker: unknown command 'pol' (Did you mean poll?) (see envworker --help)"],
    [['stats', 'extra'], "envworker stats: too many arguments for 'stats'. Expected 0 arguments but got 1. (see envworker stats --help)"],
  ])('%j is one line, exit 2', async (args, line) => {
    const run = runInProcess(args);
    expect(await run.exit).toBe(2);
    expect(run.stderr.text).toBe(`${line}\n`);
    expect(run.stdout.text).toBe('');
  });
});
