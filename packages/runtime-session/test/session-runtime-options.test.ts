/**
 * `sessionRuntime` and `serveSession` refuse bad options at once, with an error naming the option,
 * before anything is started: no helper process, no client.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sessionRuntime, type SessionRuntimeOptions, type SessionTool } from '../src/index.js';

const tool = (name: string): SessionTool => ({
  name,
  description: 'a host tool',
  inputSchema: { type: 'object', properties: {} },
  parse: (input) => input,
  run: async () => 'ok',
});

describe('sessionRuntime options', () => {
  it.each<[string, unknown, RegExp]>([
    ['shells', 'docker', /shells must be 'helper' or 'in-process'/],
    ['maxIdleMs', -1, /maxIdleMs must be an integer between 0 and 86400000/],
    ['bashNice', 20, /bashNice must be a whole number from 0 to 19/],
    ['maxFileBytes', 0, /maxFileBytes must be a whole number of bytes > 0, or null/],
    ['logLevel', 'loud', /logLevel must be one of/],
    ['inheritEnv', ['ANTHROPIC_API_KEY'], /inheritEnv\[0\] ANTHROPIC_API_KEY: ANTHROPIC_\* variables never reach a session's shell/],
    ['inheritEnv', ['NOT A NAME'], /inheritEnv\[0\] must be a variable name/],
    ['tools', [tool('bash')], /tools\[0\]\.name "bash" is taken/],
    ['tools', [tool('deploy'), tool('deploy')], /tools\[1\]\.name "deploy" is taken/],
    ['tools', [{ name: 'x' }], /tools\[0\] must be a SessionTool/],
  ])('refuses %s = %j naming it', (name, value, message) => {
    expect(() => sessionRuntime({ [name]: value } as SessionRuntimeOptions)).toThrow(message);
  });

  it('refuses every shells value but the two it knows', () => {
    fc.assert(
      fc.property(
        fc.anything().filter((value) => value !== undefined && value !== 'helper' && value !== 'in-process'),
        (shells) => {
          expect(() => sessionRuntime({ shells } as unknown as SessionRuntimeOptions)).toThrow(/^sessionRuntime: shells must be/);
        },
      ),
    );
  });

  it('takes both ways of starting shells', async () => {
    for (const shells of ['helper', 'in-process'] as const) await sessionRuntime({ shells }).close();
  });
});
