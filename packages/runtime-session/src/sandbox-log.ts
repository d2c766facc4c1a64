/**
 * The logger of one session's sandbox: pino (with the item's credentials scrubbed), whose records
 * reach the sandbox's log sink as one readable line each (`tool call tool=bash is_error=false …`),
 * warnings and errors on `stderr`. The worker then logs each line under the item's ids, so the
 * session's own lines read like any sandbox's output instead of JSON nested in JSON.
 */
import { createLogger, type Logger, type LogLevel, type SandboxLogSink } from '@envworker/core';

/** Fields every worker line already carries, or that say nothing in a compact line. */
const DROPPED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);
const WARN = 40;
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export function sandboxLogger(sink: SandboxLogSink, level: LogLevel, secrets: readonly string[]): Logger {
  return createLogger({
    level,
    base: {},
    knownSecrets: secrets,
    destination: {
      write(line: string) {
        const compact = compactRecord(line);
        sink.line(compact.level >= WARN ? 'stderr' : 'stdout', compact.text);
      },
    },
  });
}

/** `<msg> key=value …` (with `warn: ` before a warning's), from one JSON line of pino. */
export function compactRecord(line: string): { level: number; text: string } {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { level: 30, text: line.trimEnd() };
  }
  const level = typeof record['level'] === 'number' ? record['level'] : 30;
  const fields = Object.entries(record)
    .filter(([key]) => !DROPPED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  const message = typeof record['msg'] === 'string' ? record['msg'] : '';
  const prefix = level >= WARN ? `${LEVEL_NAMES[level] ?? 'warn'}: ` : '';
  return { level, text: [`${prefix}${message}`, ...fields].join(' ') };
}
