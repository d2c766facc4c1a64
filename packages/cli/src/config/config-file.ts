/**
 * The `--config` file: YAML or JSON (JSON is read as the YAML it also is), one mapping whose keys
 * are flag names without `--`. A key that is no option is an error naming it. Parse errors carry
 * the line and column only, never the text around them, which may hold a key.
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { CliError } from '../cli-error.js';

/** The values of a config file, by key, and where they came from. */
export interface ConfigFile {
  readonly path: string;
  readonly values: ReadonlyMap<string, unknown>;
}

/** Reads and checks a config file against the keys the command knows. */
export async function loadConfigFile(path: string, knownKeys: readonly string[]): Promise<ConfigFile> {
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable');
    throw new CliError(`--config: cannot read ${path}: ${reason}`);
  }
  return { path, values: parseConfig(path, source, knownKeys) };
}

/** Parses the text of a config file and checks its keys. */
function parseConfig(path: string, source: string, knownKeys: readonly string[]): ReadonlyMap<string, unknown> {
  const document = parseDocument(source, { uniqueKeys: true });
  const first = document.errors[0];
  if (first !== undefined) {
    // The first line says what and where; the lines after it quote the file, which may hold a key.
    const summary = (first.message.split('\n')[0] ?? first.code).replace(/:$/, '');
    throw new CliError(`--config: ${path} is not valid YAML or JSON: ${summary}`);
  }
  const content: unknown = document.toJS();
  if (content === null || content === undefined) return new Map();
  if (typeof content !== 'object' || Array.isArray(content)) throw new CliError(`--config: ${path} must hold a mapping of option names to values`);
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(content)) {
    if (!knownKeys.includes(key)) throw new CliError(`--config: ${path}: unknown key ${JSON.stringify(key)}${suggestion(key, knownKeys)}`);
    values.set(key, value);
  }
  return values;
}

/** A hint for a key written in another case style (`lease_ttl`, `leaseTtl` → `lease-ttl`). */
function suggestion(key: string, knownKeys: readonly string[]): string {
  const kebab = key
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
  if (knownKeys.includes(kebab)) return ` (did you mean "${kebab}"?)`;
  return ` (keys are flag names without --, e.g. ${knownKeys.slice(0, 3).join(', ')})`;
}
