/**
 * Reading `/proc/<pid>/stat`: the parser against names that hold spaces and parentheses, and the
 * reader against real processes.
 */
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProcStat, processGroupMembers, readProcStat, readProcStatSync } from '../src/runtime/proc-stat.js';
import { within } from '../src/conformance/within.js';

/** A stat line as the kernel writes it, fields 3 to 52 with the ones read set. */
function statLine(pid: number, comm: string, state: string, pgid: number, startTime: number): string {
  const fields = Array.from({ length: 50 }, (_, index) => String(index + 100));
  fields[0] = state;
  fields[2] = String(pgid);
  fields[19] = String(startTime);
  return `${pid} (${comm}) ${fields.join(' ')}\n`;
}

describe('parseProcStat', () => {
  it('reads state, pgid and start time after a command name holding anything but a newline', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4_194_304 }),
        fc.string({ maxLength: 15 }).filter((comm) => !comm.includes('\n')),
        fc.constantFrom('R', 'S', 'D', 'Z', 'T'),
        fc.integer({ min: 1, max: 4_194_304 }),
        fc.nat(),
        (pid, comm, state, pgid, startTime) => {
          expect(parseProcStat(pid, statLine(pid, comm, state, pgid, startTime))).toEqual({ pid, state, pgid, startTime });
        },
      ),
    );
  });

  it('knows a name like ") S 1 (" for a name', () => {
    expect(parseProcStat(7, statLine(7, ') S 1 (', 'S', 42, 99))).toEqual({ pid: 7, state: 'S', pgid: 42, startTime: 99 });
  });

  it('gives null for text that is not a stat line', () => {
    expect(parseProcStat(1, '')).toBeNull();
    expect(parseProcStat(1, '1 (x) S')).toBeNull();
    expect(parseProcStat(1, 'no parenthesis here')).toBeNull();
  });
});

describe('reading /proc', () => {
  it('a detached child leads its own group, has a start time no earlier than ours, and is gone once collected', async () => {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const pid = child.pid as number;
    const stat = readProcStatSync(pid);
    const own = readProcStatSync(process.pid);
    expect(stat?.pgid).toBe(pid);
    expect(stat?.startTime).toBeGreaterThanOrEqual(own?.startTime as number);
    expect((await processGroupMembers(pid)).map((member) => member.pid)).toEqual([pid]);
    child.kill('SIGKILL');
    await within(new Promise((resolve) => child.once('exit', resolve)), 5000, 'exit');
    expect(await readProcStat(pid)).toBeNull();
  });
});
