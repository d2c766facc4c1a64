/** The pure parts of the suite: the summaries every figure goes through, and the flags of `pnpm bench`. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../src/cli-args.js';
import { median, percentile, summarize } from '../src/stats.js';

const values = fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 });

describe('stats', () => {
  it('median lies between min and max and does not depend on order', () => {
    fc.assert(
      fc.property(values, (list) => {
        const m = median(list);
        expect(m).toBeGreaterThanOrEqual(Math.min(...list));
        expect(m).toBeLessThanOrEqual(Math.max(...list));
        expect(median([...list].reverse())).toBe(m);
      }),
    );
  });

  it('median of an odd count is the middle value, of an even count the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('percentile is a value of the list, rises with p, and p100 is the max', () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 99 }), (list, p) => {
        expect(list).toContain(percentile(list, p));
        expect(percentile(list, p)).toBeLessThanOrEqual(percentile(list, p + 1));
        expect(percentile(list, 100)).toBe(Math.max(...list));
      }),
    );
  });

  it('summarize keeps every run and its median, min and max', () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: [5, 1, 3] });
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(/no values/);
    expect(() => percentile([], 50)).toThrow(/no values/);
  });
});

describe('parseCliArgs', () => {
  const names = ['side-by-side', 'claim-latency'];

  it('reads --quick, repeated --only, --items, --runs and --out', () => {
    expect(parseCliArgs(['--quick', '--only', 'side-by-side', '--only', 'claim-latency', '--items', '7', '--runs', '2', '--out', '/tmp/x'], names, '/bench')).toEqual({
      quick: true,
      only: ['side-by-side', 'claim-latency'],
      items: 7,
      runs: 2,
      benchDir: '/tmp/x',
    });
  });

  it('defaults to a full run of every benchmark into the default directory', () => {
    expect(parseCliArgs([], names, '/bench')).toEqual({ quick: false, only: [], benchDir: '/bench' });
  });

  it('names the flag of a bad value', () => {
    expect(() => parseCliArgs(['--only', 'nope'], names, '/bench')).toThrow('--only must be one of: side-by-side, claim-latency');
    expect(() => parseCliArgs(['--items', '0'], names, '/bench')).toThrow('--items must be an integer');
    expect(() => parseCliArgs(['--runs'], names, '/bench')).toThrow('--runs must be an integer');
    expect(() => parseCliArgs(['--fast'], names, '/bench')).toThrow('unknown flag --fast');
  });
});
