/**
 * One ordered log of everything in a simulated run (steps, worker events, client calls, faults,
 * server answers, sandboxes), in virtual time, printed with a failing run. Work ids are shown as
 * short names (`i0`, `i1`, …) in the order the items were enqueued.
 */

interface LogEntry {
  readonly at: number;
  readonly who: string;
  readonly text: string;
  /** Routine traffic (renewals, empty polls), left out of the printout. */
  readonly routine: boolean;
}

export class SimLog {
  readonly #origin: number;
  readonly #now: () => number;
  readonly #entries: LogEntry[] = [];
  readonly #names = new Map<string, string>();

  constructor(origin: number, now: () => number) {
    this.#origin = origin;
    this.#now = now;
  }

  /** How many entries so far: `settle()` waits until it stops growing. */
  get size(): number {
    return this.#entries.length;
  }

  /** Gives a work id its short name. */
  nameItem(workId: string): string {
    const name = `i${this.#names.size}`;
    this.#names.set(workId, name);
    return name;
  }

  item(workId: string | null): string {
    if (workId === null) return '-';
    return this.#names.get(workId) ?? workId;
  }

  add(who: string, text: string, routine = false): void {
    this.#entries.push({ at: this.#now(), who, text, routine });
  }

  /** Virtual time as `+12.345s` since the start of the run. */
  time(at: number): string {
    return `+${((at - this.#origin) / 1000).toFixed(3)}s`;
  }

  /** The last `limit` entries that are not routine, one a line. */
  render(limit = 300): string {
    const shown = this.#entries.filter((entry) => !entry.routine);
    const lines = shown.slice(-limit).map((entry) => `${this.time(entry.at).padStart(10)} ${entry.who.padEnd(4)} ${entry.text}`);
    const skipped = shown.length - lines.length;
    return `${skipped > 0 ? `… ${skipped} earlier entries\n` : ''}${lines.join('\n')}`;
  }
}
