/**
 * Precedence, in one place: a flag beats its environment variable, which beats the config file,
 * which beats the default. Every value is parsed by its option's parser, and a bad one is
 * reported with the flag's name and where the value came from.
 */
import { CliError } from '../cli-error.js';
import type { ConfigFile } from './config-file.js';
import { ValueError, type OptionSpec } from './option-spec.js';

/** Where a value came from. */
export type Origin = 'flag' | 'env' | 'file' | 'default';

/** A command's options, by the name its code uses. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The value of one option after resolution: unset only when it has no default. */
export type ResolvedValue<S> = S extends OptionSpec<infer T> ? (S extends { readonly defaultValue: unknown } ? T : T | undefined) : never;

/** Every option's value, and where each set one came from. */
export interface Resolved<Table extends OptionTable> {
  readonly values: { readonly [K in keyof Table]: ResolvedValue<Table[K]> };
  readonly origins: { readonly [K in keyof Table]?: Origin };
}

/** What the resolver reads. */
export interface ResolveInput {
  /** Values given on the command line, by option key (`lease-ttl`). */
  readonly flags: ReadonlyMap<string, unknown>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly file: ConfigFile | null;
}

/** Declares an option, keeping the literal shape (so that `defaultValue` shows in the resolved type). */
export function option<const S extends OptionSpec>(spec: S): S {
  return spec;
}

/** The name of an option in messages: its flag. */
export function flagName(spec: OptionSpec): string {
  if (spec.kind === 'operands') return 'the command after --';
  return spec.kind === 'switch' && spec.defaultValue === true ? `--no-${spec.key}` : `--${spec.key}`;
}

/** Resolves every option of `table`; throws a {@link CliError} naming the first bad value. */
export function resolveOptions<Table extends OptionTable>(table: Table, input: ResolveInput): Resolved<Table> {
  const values: Record<string, unknown> = {};
  const origins: Record<string, Origin> = {};
  for (const [name, spec] of Object.entries(table)) {
    const found = lookup(spec, input);
    if (found === null) {
      if (spec.defaultValue !== undefined) {
        values[name] = spec.defaultValue;
        origins[name] = 'default';
      }
      continue;
    }
    try {
      values[name] = spec.parse(found.raw);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      throw new CliError(`${flagName(spec)}${found.where}: ${error.message}`);
    }
    origins[name] = found.origin;
  }
  return { values, origins } as Resolved<Table>;
}

function lookup(spec: OptionSpec, input: ResolveInput): { raw: unknown; origin: Origin; where: string } | null {
  if (input.flags.has(spec.key)) return { raw: input.flags.get(spec.key), origin: 'flag', where: '' };
  const fromEnv = spec.env === undefined ? undefined : input.env[spec.env];
  // An empty variable counts as unset, as shells and container runtimes often leave them.
  if (fromEnv !== undefined && fromEnv !== '') return { raw: fromEnv, origin: 'env', where: ` (from ${spec.env})` };
  if (spec.inFile !== false && input.file?.values.has(spec.key)) {
    return { raw: input.file.values.get(spec.key), origin: 'file', where: ` (from ${input.file.path})` };
  }
  return null;
}

/** The config-file keys of a table. */
export function fileKeys(table: OptionTable): string[] {
  return Object.values(table)
    .filter((spec) => spec.inFile !== false)
    .map((spec) => spec.key);
}
