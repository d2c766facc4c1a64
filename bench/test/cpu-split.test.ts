/** The parsers of the benchmark's CPU split, against /proc lines as Linux writes them and against this machine's own. */
import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpuSnapshot, cpuSplit, machineBusyMs, processCpuMs } from '../src/cpu-split.js';

describe('cpu split', () => {
  it('machine busy time adds user, nice, system, irq and softirq ticks, and leaves idle, iowait and steal out', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1e9 }), { minLength: 10, maxLength: 10 }), (ticks) => {
        const [user, nice, system, , , irq, softirq] = ticks as [number, number, number, number, number, number, number];
        expect(machineBusyMs(`cpu  ${ticks.join(' ')}\ncpu0 1 2 3 4 5 6 7 8 9 10\n`)).toBe((user + nice + system + irq + softirq) * 10);
      }),
    );
  });

  it('refuses a /proc/stat whose first line is not the all-cores line', () => {
    expect(() => machineBusyMs('cpu0 1 2 3 4 5 6 7\n')).toThrow(/unexpected first line/);
  });

  it('reads utime and stime of a process whose name holds spaces and parentheses', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '(', ')', 'x') }), fc.nat({ max: 1e9 }), fc.nat({ max: 1e9 }), (name, utime, stime) => {
        const line = `4242 (${name}) S 1 4242 4242 0 -1 4194560 100 0 0 0 ${utime} ${stime} 7 8 20 0 1 0 5 0 0`;
        expect(processCpuMs(line)).toBe((utime + stime) * 10);
      }),
    );
  });

  it('splits a run per session, the rest being what the two processes did not use', () => {
    const split = cpuSplit({ machineBusyMs: 1000, selfMs: 100, otherMs: 50 }, { machineBusyMs: 3000, selfMs: 900, otherMs: 250 }, 20);
    expect(split).toEqual({ machine: 100, worker: 40, controlPlane: 10, rest: 50 });
    expect(cpuSplit(null, { machineBusyMs: 1, selfMs: 1, otherMs: 1 }, 20)).toBeNull();
  });

  it('snapshots this machine where /proc exists (busy time and this process only grow), and gives null elsewhere', () => {
    if (!existsSync('/proc/stat')) {
      expect(cpuSnapshot(process.pid)).toBeNull();
      return;
    }
    const before = cpuSnapshot(process.pid)!;
    let spin = 0;
    for (let i = 0; i < 5e6; i += 1) spin += i % 7;
    const after = cpuSnapshot(process.pid)!;
    expect(spin).toBeGreaterThan(0);
    expect(after.machineBusyMs).toBeGreaterThanOrEqual(before.machineBusyMs);
    expect(after.selfMs).toBeGreaterThan(before.selfMs);
    expect(cpuSnapshot(2 ** 22 + 1)).toBeNull();
  });
});
