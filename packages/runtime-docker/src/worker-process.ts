/**
 * Which worker process made a container, so that `reap` with `reapOrphans` can tell a container
 * whose worker is gone from one whose worker still runs. The label holds the kernel's boot id,
 * the pid namespace, the pid and the process's start time (clock ticks after boot): a pid is only
 * comparable within one boot and one pid namespace, and the start time tells the worker apart
 * from a later process that was given the same pid.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** One worker process, as its containers' label records it. */
export interface WorkerProcess {
  readonly bootId: string;
  readonly pidNamespace: string;
  readonly pid: number;
  readonly startTime: number;
}

const LABEL = /^([0-9a-f-]{36})\/(\d+)\/(\d+)\/(\d+)$/;

/** This process's label value, or `null` where there is no `/proc` to read it from (then no container is ever judged an orphan). */
export function ownWorkerProcess(): string | null {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidNamespace = /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    const stat = parseStat(readFileSync('/proc/self/stat', 'utf8'));
    if (pidNamespace === undefined || stat === null) return null;
    const label = `${bootId}/${pidNamespace}/${process.pid}/${stat.startTime}`;
    return LABEL.test(label) ? label : null;
  } catch {
    return null;
  }
}

/** Reads a label value back; `null` when it is not one. */
export function parseWorkerProcess(label: string): WorkerProcess | null {
  const match = LABEL.exec(label);
  if (match === null) return null;
  return { bootId: match[1] as string, pidNamespace: match[2] as string, pid: Number(match[3]), startTime: Number(match[4]) };
}

/**
 * Whether the worker process that `label` names is gone: `true` when it ran in this boot and pid
 * namespace and no longer runs, `false` when it still runs, `null` when it cannot be told from here
 * (another host, another namespace, an earlier boot, or a label that is not one).
 */
export async function workerProcessGone(label: string, own: string | null): Promise<boolean | null> {
  const worker = parseWorkerProcess(label);
  const self = own === null ? null : parseWorkerProcess(own);
  if (worker === null || self === null || worker.bootId !== self.bootId || worker.pidNamespace !== self.pidNamespace) return null;
  let text: string;
  try {
    text = await readFile(`/proc/${worker.pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  const stat = parseStat(text);
  return stat === null || stat.startTime !== worker.startTime || stat.state === 'Z';
}

/**
 * The state (field 3) and start time (field 22) from the text of `/proc/<pid>/stat`; the command
 * name (field 2) may hold spaces and parentheses, so the fields are counted from the last `)`.
 */
function parseStat(text: string): { state: string; startTime: number } | null {
  const close = text.lastIndexOf(')');
  if (close === -1) return null;
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isSafeInteger(startTime)) return null;
  return { state, startTime };
}
