import { describe, expect, it } from 'vitest';
import { parseQuickstartOptions, UsageError } from '../src/quickstart-options.js';

describe('parseQuickstartOptions', () => {
  it('defaults to 20 items, 4 at a time, a 120 s deadline and the live view', () => {
    expect(parseQuickstartOptions([])).toEqual({ items: 20, concurrency: 4, deadlineMs: 120_000, live: true });
  });

  it('takes every flag', () => {
    expect(parseQuickstartOptions(['--items', '7', '--concurrency', '2', '--deadline', '30', '--no-live'])).toEqual({
      items: 7,
      concurrency: 2,
      deadlineMs: 30_000,
      live: false,
    });
    expect(parseQuickstartOptions(['--help'])).toBe('help');
  });

  it.each([
    [['--items', '0'], '--items: must be an integer between 1 and 500'],
    [['--items', '501'], '--items: must be an integer between 1 and 500'],
    [['--items', '2.5'], '--items: must be an integer between 1 and 500'],
    [['--concurrency', 'four'], '--concurrency: must be an integer between 1 and 32'],
    [['--deadline', '5'], '--deadline: must be an integer between 10 and 3600'],
  ])('refuses %j naming the flag', (argv, message) => {
    expect(() => parseQuickstartOptions(argv)).toThrow(new UsageError(message));
  });

  it('refuses an unknown flag or a positional argument', () => {
    expect(() => parseQuickstartOptions(['--bogus'])).toThrow(UsageError);
    expect(() => parseQuickstartOptions(['20'])).toThrow(UsageError);
  });
});
