/**
 * Where log lines go while the live view owns the terminal: the latest few, made compact, are
 * shown under the view; every line is also passed on whole to `forward` (standard error when it
 * is not the terminal, so `envworker poll 2>worker.log` keeps the full log).
 */

/** A pino destination that keeps the latest lines for the live view. */
export class LogPanel {
  readonly #keep: number;
  readonly #forward: ((line: string) => void) | null;
  readonly #lines: string[] = [];

  constructor(keep: number, forward: ((line: string) => void) | null) {
    this.#keep = keep;
    this.#forward = forward;
  }

  /** Takes one finished log line (pino writes whole lines). */
  write(line: string): void {
    this.#forward?.(line);
    for (const part of line.split('\n')) {
      if (part.trim() === '') continue;
      this.#lines.push(compactLogLine(part));
      if (this.#lines.length > this.#keep) this.#lines.shift();
    }
  }

  /** The latest lines, oldest first. */
  lines(): readonly string[] {
    return [...this.#lines];
  }
}

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * One JSON log line as `HH:MM:SS level message work_…`; any other line as it is. Only the time,
 * level, message and item id are kept: the panel is a glance, the full line is in the log.
 */
export function compactLogLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line.trim();
  }
  if (typeof record !== 'object' || record === null) return line.trim();
  const fields = record as Record<string, unknown>;
  const time = typeof fields['time'] === 'number' ? new Date(fields['time']).toISOString().slice(11, 19) : '--:--:--';
  const level = typeof fields['level'] === 'number' ? (LEVEL_NAMES[fields['level']] ?? String(fields['level'])) : '?';
  const message = typeof fields['msg'] === 'string' ? fields['msg'] : '';
  const workId = typeof fields['work_id'] === 'string' ? ` ${fields['work_id']}` : '';
  return `${time} ${level.padEnd(5)} ${message}${workId}`;
}
