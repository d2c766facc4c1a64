/**
 * The host's command line: defaults, the two sources of work, and a clear error naming the flag
 * (or variable) for every bad input, without repeating the environment key.
 */
import { describe, expect, it } from 'vitest';
import { parseHostOptions, UsageError } from '../src/host-options.js';

const ENVIRONMENT_ID = 'env_0123456789abcdefABCDEFGH';
const KEY = 'ek_test_environment_key_0001';

describe('parseHostOptions', () => {
  it('defaults to a local control plane with six items, three at a time', () => {
    expect(parseHostOptions([], {})).toEqual({
      source: { kind: 'local', items: 6 },
      concurrency: 3,
      difficulty: 3,
      itemMs: 0,
      drainMs: 10_000,
    });
  });

  it('serves a given Work API with the id from the flag or the environment and the key from the environment', () => {
    const remote = { kind: 'remote', baseUrl: 'http://127.0.0.1:8780', environmentId: ENVIRONMENT_ID, environmentKey: KEY };
    expect(
      parseHostOptions(['--base-url', 'http://127.0.0.1:8780', '--environment-id', ENVIRONMENT_ID], { ANTHROPIC_ENVIRONMENT_KEY: KEY }),
    ).toMatchObject({ source: { ...remote, items: null } });
    expect(
      parseHostOptions(['--base-url', 'http://127.0.0.1:8780', '--items', '2'], { ANTHROPIC_ENVIRONMENT_ID: ENVIRONMENT_ID, ANTHROPIC_ENVIRONMENT_KEY: KEY }),
    ).toMatchObject({ source: { ...remote, items: 2 } });
  });

  it('prints help for --help', () => {
    expect(parseHostOptions(['--help'], {})).toBe('help');
  });

  it.each([
    [['--concurrency', '0'], {}, '--concurrency'],
    [['--concurrency', '65'], {}, '--concurrency'],
    [['--items', 'many'], {}, '--items'],
    [['--items', '0'], {}, '--items'],
    [['--difficulty', '6'], {}, '--difficulty'],
    [['--item-ms', '-1'], {}, '--item-ms'],
    [['--drain-ms', '1.5'], {}, '--drain-ms'],
    [['--verbose'], {}, '--verbose'],
    [['stray'], {}, 'stray'],
    [['--environment-id', ENVIRONMENT_ID], {}, '--environment-id'],
    [['--base-url', 'ftp://example.test'], { ANTHROPIC_ENVIRONMENT_ID: ENVIRONMENT_ID, ANTHROPIC_ENVIRONMENT_KEY: KEY }, '--base-url'],
    [['--base-url', 'not a url'], { ANTHROPIC_ENVIRONMENT_ID: ENVIRONMENT_ID, ANTHROPIC_ENVIRONMENT_KEY: KEY }, '--base-url'],
    [['--base-url', 'http://127.0.0.1:9'], { ANTHROPIC_ENVIRONMENT_KEY: KEY }, '--environment-id'],
    [['--base-url', 'http://127.0.0.1:9', '--environment-id', 'prod'], { ANTHROPIC_ENVIRONMENT_KEY: KEY }, '--environment-id'],
    [['--base-url', 'http://127.0.0.1:9', '--environment-id', ENVIRONMENT_ID], {}, 'ANTHROPIC_ENVIRONMENT_KEY'],
    [['--base-url', 'http://127.0.0.1:9', '--environment-id', ENVIRONMENT_ID], { ANTHROPIC_ENVIRONMENT_KEY: 'has a space' }, 'ANTHROPIC_ENVIRONMENT_KEY'],
  ])('refuses %j (environment %j), naming %s', (args, env, name) => {
    let thrown: unknown;
    try {
      parseHostOptions(args, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toContain(name);
    expect((thrown as Error).message).not.toContain('has a space');
  });
});
