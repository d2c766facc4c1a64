/**
 * Where a run's CPU went, from `/proc` (Linux only): the whole machine's busy time, the benchmark
 * process's own (the worker, all its threads), a control plane process's, and the rest (the
 * shells and the helper, which are not this process's threads, kernel threads, anything else
 * running). Throughput on this shared machine moves with the host's load from one hour to the
 * next; what a session costs in CPU, and who pays it, says why a figure is where it is.
 */
import { readFileSync } from 'node:fs';
import { statFields } from '@envworker/core';

/** Linux reports `/proc` times in USER_HZ ticks, which it fixes at 100 a second for userspace. */
const MS_PER_TICK = 10;

/** CPU times at one instant, in milliseconds. */
export interface CpuSnapshot {
  /** user + nice + system + irq + softirq over all cores (idle, iowait and steal left out). */
  readonly machineBusyMs: number;
  /** This process, every thread. */
  readonly selfMs: number;
  /** The other process watched. */
  readonly otherMs: number;
}

/** CPU milliseconds per unit of work (a session) of one run. */
export interface CpuSplit {
  readonly machine: number;
  readonly worker: number;
  readonly controlPlane: number;
  /** machine − worker − control plane: shells, the helper, kernel threads, anything else. */
  readonly rest: number;
}

/** Now, with `otherPid`'s CPU; `null` where `/proc` cannot be read (not Linux, or the process is gone). */
export function cpuSnapshot(otherPid: number): CpuSnapshot | null {
  try {
    const own = process.cpuUsage();
    return { machineBusyMs: machineBusyMs(readFileSync('/proc/stat', 'utf8')), selfMs: (own.user + own.system) / 1000, otherMs: processCpuMs(readFileSync(`/proc/${otherPid}/stat`, 'utf8')) };
  } catch {
    return null;
  }
}

/** The CPU of the run between two snapshots, per unit of work (at least one); `null` if either is missing. */
export function cpuSplit(before: CpuSnapshot | null, after: CpuSnapshot | null, units: number): CpuSplit | null {
  if (before === null || after === null) return null;
  const machine = (after.machineBusyMs - before.machineBusyMs) / units;
  const worker = (after.selfMs - before.selfMs) / units;
  const controlPlane = (after.otherMs - before.otherMs) / units;
  return { machine, worker, controlPlane, rest: machine - worker - controlPlane };
}

/** Busy time of all cores from the `cpu` line of `/proc/stat`. */
export function machineBusyMs(procStat: string): number {
  const line = procStat.split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 8) throw new Error(`/proc/stat: unexpected first line ${JSON.stringify(line)}`);
  const [user, nice, system, , , irq, softirq] = fields.slice(1, 8).map(Number) as [number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq) * MS_PER_TICK;
}

/** utime + stime of one process from its `/proc/<pid>/stat` (the command name may hold spaces and parentheses). */
export function processCpuMs(pidStat: string): number {
  // utime and stime are fields 14 and 15 of stat(5).
  const fields = statFields(pidStat) ?? [];
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('/proc/<pid>/stat: no utime and stime');
  return (utime + stime) * MS_PER_TICK;
}
