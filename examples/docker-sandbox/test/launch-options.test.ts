/**
 * The launcher's command line: defaults, where the image comes from, and an error naming the flag
 * for every bad input.
 */
import { describe, expect, it } from 'vitest';
import { parseLaunchOptions, UsageError } from '../src/launch-options.js';
import { TEST_IMAGE } from '../src/sandbox.js';

describe('parseLaunchOptions', () => {
  it('defaults to six items, three containers at a time, in the test image', () => {
    expect(parseLaunchOptions([], {})).toEqual({ items: 6, concurrency: 3, image: TEST_IMAGE, drainMs: 10_000 });
  });

  it('takes the image from --image first, then ENVWORKER_IMAGE', () => {
    expect(parseLaunchOptions(['--image', 'busybox:1.36'], { ENVWORKER_IMAGE: 'alpine:3.20' })).toMatchObject({ image: 'busybox:1.36' });
    expect(parseLaunchOptions([], { ENVWORKER_IMAGE: 'alpine:3.20' })).toMatchObject({ image: 'alpine:3.20' });
  });

  it('prints help for --help', () => {
    expect(parseLaunchOptions(['--help'], {})).toBe('help');
  });

  it.each([
    [['--items', '0'], '--items'],
    [['--items', '201'], '--items'],
    [['--concurrency', '9'], '--concurrency'],
    [['--concurrency', 'two'], '--concurrency'],
    [['--drain-ms', '-5'], '--drain-ms'],
    [['--image', 'has space'], '--image'],
    [['--image', ''], '--image'],
    [['--network', 'host'], '--network'],
  ])('refuses %j, naming %s', (args, flag) => {
    expect(() => parseLaunchOptions(args, {})).toThrow(UsageError);
    expect(() => parseLaunchOptions(args, {})).toThrow(flag);
  });
});
