/**
 * The `envworker` command line: the commands, their flags (made from each command's option
 * table), and the one rule for failures: one line on standard error naming what to fix, exit 2
 * for a bad command line, configuration, credential or an unreachable control plane, exit 1 for
 * anything else; a stack trace only at `--log-level debug`.
 */
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { CliContext } from './cli-context.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE, oneLine } from './cli-error.js';
import { runControlPlane, CONTROL_PLANE_OPTIONS } from './commands/control-plane-command.js';
import {
  countOption,
  enqueueAction,
  getAction,
  limitOption,
  listAction,
  OPERATOR_OPTIONS,
  parsePairs,
  runOperator,
  statsAction,
  stopAction,
  updateAction,
} from './commands/operator-commands.js';
import { runPoll } from './commands/poll-command.js';
import { loadSessionScript, showSession } from './commands/session-commands.js';
import { runConfig, runItem } from './commands/run-command.js';
import type { OptionSpec } from './config/option-spec.js';
import { resolvePollConfig } from './config/poll-config.js';
import { pollOptions } from './config/poll-options.js';
import { resolveOptions, type OptionTable } from './config/resolve-options.js';
import { RUN_OPTIONS, WORK_SECRET_VARIABLE } from './config/run-options.js';
import { VERSION } from './version.js';

const COMMANDS = ['poll', 'run', 'control-plane', 'enqueue', 'stats', 'list', 'get', 'stop', 'update', 'session'] as const;

/**
 * Runs the CLI with `argv` (the arguments after the program name); resolves with the exit
 * status. Long-running commands (`poll`, `run`, `control-plane`) resolve when they end.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  let status = 0;
  const program = buildProgram(context, (code) => {
    status = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    return report(error, argv, context);
  }
}

function buildProgram(context: CliContext, setStatus: (code: number) => void): Command {
  const program = new Command('envworker')
    .description('Run the work of a self-hosted environment: a worker, one claimed item, a local control plane, operator commands.')
    .version(VERSION, '--version', 'print the version')
    .helpOption('--help', 'print this help')
    .enablePositionalOptions()
    .exitOverride()
    // Errors are printed by `report`, as one line; --help and --version print to stdout.
    .configureOutput({ writeOut: (text) => context.stdout.write(text), writeErr: () => undefined, outputError: () => undefined });
  const subcommand = (name: string, summary: string): Command =>
    program
      .command(name)
      .summary(summary)
      .helpOption('--help', 'print this help')
      .exitOverride()
      .configureOutput({ writeOut: (text) => context.stdout.write(text), writeErr: () => undefined, outputError: () => undefined });

  const poll = pollOptions(context.cwd);
  addOptions(subcommand('poll', 'run a worker until signalled (SIGTERM/SIGINT: drain; again: stop items; a third time: exit)'), poll)
    .usage('[options] [-- <command…>]')
    .description(
      'Runs a worker: claims work items while a slot is free and runs each in a sandbox, keeping its lease.\n' +
        'Precedence: flags > environment variables > --config file > defaults.\n' +
        'Durations carry a unit: 500ms, 10s, 2m, 1h (0 needs none).',
    )
    .argument('[command...]', 'the command of each item (process runtime) or of its container (docker runtime)')
    .passThroughOptions()
    .action(async (operands: string[], _options: unknown, command: Command) => {
      const flags = givenFlags(command, poll);
      if (operands.length > 0) flags.set('command', operands);
      const { config } = await resolvePollConfig(flags, context.env, context.cwd);
      setStatus(await runPoll(config, context));
    });

  addOptions(subcommand('run', 'serve one claimed work item from the ANTHROPIC_* variables: its session, or a command'), RUN_OPTIONS)
    .usage('[options] [-- <command…>]')
    .description(
      `Holds the lease of an item someone else claimed while it serves the item, stops the item when that ends, and exits with its status.\n` +
        `Without a command it serves the item's agent session itself in --workdir (the agent toolset, until the turn ends and --max-idle passes).\n` +
        `Reads ANTHROPIC_WORK_ID, ANTHROPIC_ENVIRONMENT_ID, ANTHROPIC_ENVIRONMENT_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_SESSION_ID and ${WORK_SECRET_VARIABLE}\n` +
        '(whose sessions token is the credential when present). Logs go to standard error.',
    )
    .argument('[command...]', 'the command to run; none: serve the session')
    .passThroughOptions()
    .action(async (operands: string[], _options: unknown, command: Command) => {
      const resolved = resolveOptions(RUN_OPTIONS, { flags: givenFlags(command, RUN_OPTIONS), env: context.env, file: null });
      setStatus(await runItem(runConfig(resolved, context, operands), context));
    });

  addOptions(subcommand('control-plane', 'run the local control plane; prints one JSON ready line'), CONTROL_PLANE_OPTIONS)
    .description(
      'Serves the Work API locally and prints one JSON line once listening:\n{"url":…,"environment_id":…,"environment_key":…,"admin_key":…}\nSIGTERM or SIGINT closes it.',
    )
    .action(async (_options: unknown, command: Command) => {
      setStatus(await runControlPlane(givenFlags(command, CONTROL_PLANE_OPTIONS), context));
    });

  const operator = (name: string, summary: string, extra: OptionTable = {}): Command => addOptions(addOptions(subcommand(name, summary), OPERATOR_OPTIONS), extra);
  const operatorFlags = (command: Command, extra: OptionTable = {}): Map<string, unknown> =>
    new Map([...givenFlags(command, OPERATOR_OPTIONS), ...givenFlags(command, extra)]);

  const enqueueExtra = { count: countOption };
  operator('enqueue', 'queue new work items (local control plane; needs --api-key)', enqueueExtra)
    .option('--metadata <pairs...>', 'metadata of each item, key=value')
    .option('--script <file>', "the scripted agent of each item's session: a YAML or JSON list of steps, or a session object")
    .action(async (options: { metadata?: string[]; script?: string }, command: Command) => {
      const { values } = resolveOptions(enqueueExtra, { flags: givenFlags(command, enqueueExtra), env: {}, file: null });
      const metadata = parsePairs(options.metadata ?? [], '--metadata', 'empty') as Record<string, string>;
      const script = options.script === undefined ? undefined : await loadSessionScript(resolve(context.cwd, options.script));
      setStatus(await runOperator(operatorFlags(command), context, 'api-key', enqueueAction(values.count, metadata, script)));
    });

  const session = program.command('session').summary('the session simulator of the local control plane').helpOption('--help', 'print this help').exitOverride();
  addOptions(
    session
      .command('show')
      .summary("a session's transcript: its tool calls and the results received (needs --api-key)")
      .helpOption('--help', 'print this help')
      .exitOverride()
      .configureOutput({ writeOut: (text) => context.stdout.write(text), writeErr: () => undefined, outputError: () => undefined }),
    OPERATOR_OPTIONS,
  )
    .argument('<session_id>')
    .action(async (sessionId: string, _options: unknown, command: Command) => {
      setStatus(await showSession(givenFlags(command, OPERATOR_OPTIONS), context, sessionId));
    });

  operator('stats', 'queue statistics').action(async (_options: unknown, command: Command) => {
    setStatus(await runOperator(operatorFlags(command), context, 'any-credential', statsAction));
  });

  const listExtra = { limit: limitOption };
  operator('list', 'work items, newest first', listExtra)
    .option('--all', 'every item, page after page')
    .action(async (options: { all?: boolean }, command: Command) => {
      const { values } = resolveOptions(listExtra, { flags: givenFlags(command, listExtra), env: {}, file: null });
      setStatus(await runOperator(operatorFlags(command), context, 'any-credential', listAction(options.all === true, values.limit)));
    });

  operator('get', 'one work item')
    .argument('<work_id>')
    .action(async (workId: string, _options: unknown, command: Command) => {
      setStatus(await runOperator(operatorFlags(command), context, 'any-credential', getAction(workId)));
    });

  operator('stop', 'ask the holder of a work item to stop it, or stop it at once with --force')
    .argument('<work_id>')
    .option('--force', 'stop it at once')
    .action(async (workId: string, options: { force?: boolean }, command: Command) => {
      setStatus(await runOperator(operatorFlags(command), context, 'any-credential', stopAction(workId, options.force === true)));
    });

  operator('update', "change a work item's metadata: key=value sets, key= deletes")
    .argument('<work_id>')
    .argument('<changes...>', 'key=value or key=')
    .action(async (workId: string, changes: string[], _options: unknown, command: Command) => {
      const patch = parsePairs(changes, 'update', 'delete');
      setStatus(await runOperator(operatorFlags(command), context, 'any-credential', updateAction(workId, patch)));
    });
  return program;
}

/** Adds one commander option per flag of the table. */
function addOptions(command: Command, table: OptionTable): Command {
  for (const spec of Object.values(table)) {
    if (spec.kind === 'operands') continue;
    const flag =
      spec.kind === 'switch' ? (spec.defaultValue === true ? `--no-${spec.key}` : `--${spec.key}`) : `--${spec.key} ${spec.placeholder ?? '<value>'}`;
    command.option(flag, helpText(spec));
  }
  return command;
}

function helpText(spec: OptionSpec): string {
  const notes: string[] = [];
  if (spec.env !== undefined) notes.push(`env ${spec.env}`);
  const shown = spec.defaultText ?? (spec.defaultValue === undefined || spec.kind === 'switch' ? undefined : String(spec.defaultValue));
  if (shown !== undefined) notes.push(`default ${shown}`);
  return notes.length === 0 ? spec.description : `${spec.description} (${notes.join('; ')})`;
}

/** The values given on the command line, by option key. */
function givenFlags(command: Command, table: OptionTable): Map<string, unknown> {
  const flags = new Map<string, unknown>();
  for (const spec of Object.values(table)) {
    if (spec.kind === 'operands') continue;
    const attribute = spec.key.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
    if (command.getOptionValueSource(attribute) === 'cli') flags.set(spec.key, command.getOptionValue(attribute));
  }
  return flags;
}

/** Prints the one line of a failure and picks the exit status. */
function report(error: unknown, argv: readonly string[], context: CliContext): number {
  const name = COMMANDS.find((command) => command === argv[0]);
  const prefix = name === undefined ? 'envworker' : `envworker ${name}`;
  if (error instanceof CommanderError) {
    // `--help`, `help <command>` and `--version` have printed what was asked.
    if (error.exitCode === 0) return 0;
    // Help shown as an error: no command was given.
    if (error.code === 'commander.help') {
      context.stderr.write(`${prefix}: missing a command (${COMMANDS.join(', ')}); see envworker --help\n`);
      return EXIT_USAGE;
    }
    const hint = name === undefined ? 'envworker --help' : `envworker ${name} --help`;
    context.stderr.write(`${prefix}: ${oneLine(error.message.replace(/^error: /, ''))} (see ${hint})\n`);
    return EXIT_USAGE;
  }
  if (error instanceof CliError) {
    context.stderr.write(`${prefix}: ${oneLine(error.message)}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  context.stderr.write(`${prefix}: ${oneLine(message)}\n`);
  if (wantsDebug(argv, context) && error instanceof Error && error.stack !== undefined) context.stderr.write(`${error.stack}\n`);
  return EXIT_FAILURE;
}

/** `--log-level debug` (or trace), from the command line or the environment. */
function wantsDebug(argv: readonly string[], context: CliContext): boolean {
  const index = argv.indexOf('--log-level');
  const level = index >= 0 ? argv[index + 1] : argv.find((arg) => arg.startsWith('--log-level='))?.slice('--log-level='.length);
  return ['debug', 'trace'].includes(level ?? context.env['ENVWORKER_LOG_LEVEL'] ?? '');
}
