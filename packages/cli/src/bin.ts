/**
 * The `envworker` process: runs the CLI with the process's own arguments, streams, variables and
 * signals, and exits with its status once every command has ended.
 */
import { runCli } from './cli.js';
import { processContext } from './cli-context.js';

process.exitCode = await runCli(process.argv.slice(2), processContext());
