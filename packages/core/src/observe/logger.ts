/**
 * The logger: pino, with every secret-bearing field redacted by path and every known secret
 * scrubbed from each finished line by value. Both are needed: paths cover the fields we know carry
 * credentials, and the value scrub covers a credential that turns up verbatim anywhere else (a
 * sandbox's output line, an error message, a URL).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Work } from '../api/wire.js';
import { REDACTED, redactSecrets } from './redact-secrets.js';

/** The levels a logger can be set to; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `json`: one JSON object a line (for machines); `text`: one readable line a record (for people). */
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written; default `info`. */
  readonly level?: LogLevel;
  /** Line format; default `json`. */
  readonly format?: LogFormat;
  /** Where lines go; default standard output. Receives whole lines, already scrubbed. */
  readonly destination?: DestinationStream;
  /** Fields on every line, in place of pino's default `pid` and `hostname`. */
  readonly base?: Record<string, unknown>;
  /**
   * Secret values to scrub from every line, read again at each line: pass a `Set` and add each
   * sessions token as it is issued (and delete it when its item ends).
   */
  readonly knownSecrets?: Iterable<string>;
  /** Colours in the `text` format; default off. */
  readonly colorize?: boolean;
}

/**
 * Field names that carry credentials. Each is redacted at the top level and two levels down
 * (`work.secret`, `spec.env.ANTHROPIC_WORK_SECRET`, `req.headers.authorization`, …); anything deeper
 * is left to the value scrub.
 */
const SECRET_FIELDS = [
  'secret',
  'sessions_token',
  'sessionsToken',
  'environment_key',
  'environmentKey',
  'apiKey',
  'api_key',
  'adminKey',
  'admin_key',
  'authorization',
  'x-api-key',
  'ANTHROPIC_ENVIRONMENT_KEY',
  'ANTHROPIC_WORK_SECRET',
  'ANTHROPIC_API_KEY',
] as const;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The pino redaction paths built from {@link SECRET_FIELDS}. */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((field) => {
  const top = IDENTIFIER.test(field) ? field : `["${field}"]`;
  const nested = IDENTIFIER.test(field) ? `.${field}` : `["${field}"]`;
  return [top, `*${nested}`, `*.*${nested}`];
});

/**
 * Creates the envworker logger.
 *
 * @example
 * ```ts
 * const secrets = new Set<string>([environmentKey]);
 * const logger = createLogger({ level: 'debug', format: 'text', knownSecrets: secrets });
 * logger.info({ work_id: work.id }, 'claimed');
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new TypeError(`level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  const format = options.format ?? 'json';
  if (!(LOG_FORMATS as readonly string[]).includes(format)) {
    throw new TypeError(`format must be one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
  const knownSecrets = options.knownSecrets;
  const destination = format === 'text' ? prettyDestination(options) : options.destination;
  return pino(
    {
      level,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      ...(options.base !== undefined ? { base: options.base } : {}),
      ...(knownSecrets !== undefined ? { hooks: { streamWrite: (line: string) => scrubLine(line, knownSecrets) } } : {}),
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * A child logger for one work item: binds `worker_id`, `work_id` and, for a session, `session_id`.
 */
export function workLogger(logger: Logger, work: Pick<Work, 'id' | 'data'>, workerId: string): Logger {
  const bindings: Record<string, string> = { worker_id: workerId, work_id: work.id };
  if (work.data.type === 'session') bindings['session_id'] = work.data.id;
  return logger.child(bindings);
}

/**
 * Scrubs a finished JSON line. A secret with quotes, backslashes or control characters appears
 * escaped inside the JSON text, so its escaped form is scrubbed too.
 */
function scrubLine(line: string, knownSecrets: Iterable<string>): string {
  const forms: string[] = [];
  for (const secret of knownSecrets) {
    forms.push(secret);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) forms.push(escaped);
  }
  const scrubbed = redactSecrets(line, forms);
  // Only a line replaced whole loses its newline; the next line must still start on its own.
  return line.endsWith('\n') && !scrubbed.endsWith('\n') ? `${scrubbed}\n` : scrubbed;
}

/** The `text` format: pino-pretty's formatter called in-line (no transport thread), so lines stay in order. */
function prettyDestination(options: LoggerOptions): DestinationStream {
  const prettify = pinoPretty.prettyFactory({
    colorize: options.colorize ?? false,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  const target: DestinationStream = options.destination ?? { write: (text: string) => process.stdout.write(text) };
  return { write: (line: string) => target.write(prettify(line)) };
}
