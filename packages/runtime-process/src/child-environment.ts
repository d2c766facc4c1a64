/**
 * The environment a sandbox process starts with: the `--on-work` variables of its own item, plus
 * the host variables the runtime was told to pass on (`inheritEnv`), and nothing else. A clean
 * environment keeps host credentials (an `ANTHROPIC_API_KEY`, cloud keys) out of sandboxes.
 */
import { ON_WORK_VARIABLES, type OnWorkEnvironment } from '@envworker/core';
import { optionError } from './option-error.js';

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks the `inheritEnv` option: variable names, none of them an `--on-work` variable. */
export function checkInheritEnv(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) optionError('inheritEnv must be an array of variable names');
  const onWork = new Set<string>(ON_WORK_VARIABLES);
  for (const [index, name] of value.entries()) {
    if (typeof name !== 'string' || !VARIABLE_NAME.test(name)) {
      optionError(`inheritEnv[${index}] must be a variable name (letters, digits, _), got ${JSON.stringify(name)}`);
    }
    if (onWork.has(name)) optionError(`inheritEnv[${index}] names ${name}, which each sandbox is given from its own work item`);
  }
  return [...new Set(value as string[])];
}

/**
 * The environment of one sandbox: the allowed host variables as the host has them now (those it
 * lacks are left out), then the item's `--on-work` variables.
 */
export function childEnvironment(onWork: OnWorkEnvironment, inheritEnv: readonly string[], host: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of inheritEnv) {
    const value = host[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(onWork)) {
    if (typeof value === 'string') env[name] = value;
  }
  return env;
}
