import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/time/virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers only when time reaches them, at their due time', () => {
    const clock = new VirtualClock(1000);
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 50);
    clock.advance(49);
    expect(seen).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual([1050]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires timers scheduled by timers within the same advance', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    const tick = (): void => {
      seen.push(clock.now());
      if (seen.length < 5) clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    clock.advance(35);
    expect(seen).toEqual([10, 20, 30]);
    expect(clock.now()).toBe(35);
    clock.advance(100);
    expect(seen).toEqual([10, 20, 30, 40, 50]);
  });

  it('never fires a cleared timer', () => {
    const clock = new VirtualClock();
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 5);
    clock.clearTimeout(handle);
    clock.advance(10);
    expect(fired).toBe(false);
  });

  it('fires any set of timers in due order, ties in scheduling order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 30 }), fc.integer({ min: 0, max: 120 }), (delays, step) => {
        const clock = new VirtualClock();
        const fired: Array<{ index: number; at: number }> = [];
        delays.forEach((delay, index) => clock.setTimeout(() => fired.push({ index, at: clock.now() }), delay));
        for (let t = 0; t <= 120; t += Math.max(step, 1)) clock.advanceTo(t);
        clock.advanceTo(200);
        const expected = delays.map((delay, index) => ({ index, at: delay })).sort((a, b) => a.at - b.at || a.index - b.index);
        expect(fired).toEqual(expected);
      }),
    );
  });

  it('refuses to go back in time', () => {
    const clock = new VirtualClock(10);
    expect(() => clock.advanceTo(5)).toThrow(RangeError);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});
