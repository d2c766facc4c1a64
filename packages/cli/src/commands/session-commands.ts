/**
 * The local control plane's session simulator from the command line: `enqueue --script <file>`
 * reads what a scripted agent does (the enqueue body's `session`), and `session show <id>` prints
 * the transcript of a session: each tool call, how it was answered, and how many calls of each
 * kind the simulator served for it.
 */
import { readFile } from 'node:fs/promises';
import { SessionsClient, type SessionTranscript } from '@envworker/core';
import { parseDocument } from 'yaml';
import { describeApiError } from '../api-error-message.js';
import type { CliContext } from '../cli-context.js';
import { CliError } from '../cli-error.js';
import { MISSING_ENVIRONMENT_ID } from '../config/connection-options.js';
import { resolveOptions } from '../config/resolve-options.js';
import { formatFields, formatTable } from '../output/table.js';
import { OPERATOR_OPTIONS } from './operator-commands.js';

/** The longest script file read. */
const MAX_SCRIPT_FILE_BYTES = 2 * 1024 * 1024;
/** Result text shown per call in the table. */
const RESULT_CHARS = 60;

/**
 * The `session` of an enqueue body from a YAML or JSON file: a list of steps (`[{tool, input}, …]`)
 * or a whole session object (`{script, status, skills, reject_auth}`). The control plane checks
 * the steps themselves and names the first bad field.
 */
export async function loadSessionScript(path: string): Promise<Record<string, unknown>> {
  let source: string;
  try {
    const bytes = await readFile(path);
    if (bytes.length > MAX_SCRIPT_FILE_BYTES) throw new CliError(`--script: ${path} is over ${MAX_SCRIPT_FILE_BYTES} bytes`);
    source = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable');
    throw new CliError(`--script: cannot read ${path}: ${reason}`);
  }
  const document = parseDocument(source, { uniqueKeys: true });
  const first = document.errors[0];
  if (first !== undefined) throw new CliError(`--script: ${path} is not valid YAML or JSON: ${(first.message.split('\n')[0] ?? first.code).replace(/:$/, '')}`);
  const content: unknown = document.toJS();
  if (Array.isArray(content)) return { script: content };
  if (typeof content === 'object' && content !== null) return content as Record<string, unknown>;
  throw new CliError(`--script: ${path} must hold a list of steps or a session object ({script, status, skills, reject_auth})`);
}

/** `session show <session_id>`: the transcript as a table, or with `--json` as the API returns it. */
export async function showSession(flags: ReadonlyMap<string, unknown>, context: CliContext, sessionId: string): Promise<number> {
  const { values } = resolveOptions(OPERATOR_OPTIONS, { flags, env: context.env, file: null });
  if (values.environmentId === undefined) throw new CliError(MISSING_ENVIRONMENT_ID);
  if (values.apiKey === undefined) throw new CliError("session show needs the control plane's admin key: set --api-key or ENVWORKER_API_KEY");
  const client = new SessionsClient({ baseUrl: values.baseUrl, apiKey: values.apiKey, retry: { maxRetries: 1 } });
  try {
    const transcript = await client.transcript(sessionId);
    context.stdout.write(values.json ? `${JSON.stringify(transcript, null, 2)}\n` : `${formatTranscript(transcript)}\n`);
    return 0;
  } catch (error) {
    throw describeApiError(error, { baseUrl: values.baseUrl, credentialHint: '--api-key or ENVWORKER_API_KEY', notFoundHint: `is ${sessionId} a session of this control plane?` });
  } finally {
    await client.close();
  }
}

/** The transcript for people: the session, the requests served, then one row per call. */
export function formatTranscript(transcript: SessionTranscript): string {
  const { requests } = transcript;
  const fields = formatFields([
    ['session', transcript.session_id],
    ['work item', transcript.work_id],
    ['environment', transcript.environment_id],
    ['status', transcript.status],
    ['script', `${transcript.position} of ${transcript.steps} steps${transcript.done ? ', done' : ''}`],
    [
      'requests',
      `retrieve ${requests.retrieve} · events list ${requests.events_list} · stream ${requests.events_stream} · send ${requests.events_send} · skills ${requests.skills} · refused ${requests.refused}`,
    ],
  ]);
  if (transcript.calls.length === 0) return `${fields}\n\n(no tool calls)`;
  const rows = transcript.calls.map((call) => [
    String(call.step),
    call.kind === 'tool' ? call.name : `${call.name} (custom)`,
    call.outcome,
    call.result === null ? '-' : call.result.is_error ? 'error' : 'ok',
    call.duplicates === 0 ? '-' : String(call.duplicates),
    call.result === null ? '-' : resultText(call.result.content),
  ]);
  return `${fields}\n\n${formatTable(['STEP', 'TOOL', 'OUTCOME', 'RESULT', 'DUPLICATES', 'CONTENT'], rows)}`;
}

/** The result's text on one line, cut to {@link RESULT_CHARS}. */
function resultText(content: SessionTranscript['calls'][number] extends { result: infer R } ? (R extends { content: infer C } ? C : never) : never): string {
  const text = content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join(' ');
  const line = JSON.stringify(text).slice(1, -1);
  return line.length > RESULT_CHARS ? `${line.slice(0, RESULT_CHARS - 1)}…` : line === '' ? '(empty)' : line;
}
