/**
 * The agent toolset against real work directories under the system temp directory: each tool's
 * inputs, outputs and errors (missing files, bad patterns, paths outside the directory refused,
 * huge output truncated, size caps), bash's timeouts, cancels and state, and property tests of
 * the rules with many cases (path confinement, edit, line ranges, input parsing).
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createLogger, groupRunning } from '@envworker/core';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentToolset, helperShellSpawner, inProcessShellSpawner, ToolError, type SessionTool, type ShellSpawner, type ToolOutput } from '../src/index.js';
import { applyEdit } from '../src/tools/edit-tool.js';
import { grepTool } from '../src/tools/grep-tool.js';
import { lineRange } from '../src/tools/read-tool.js';
import { confine } from '../src/tools/workdir-paths.js';

let workdir: string;
let outside: string;
let tools: SessionTool[] = [];
const toolsets: SessionTool[][] = [];

beforeEach(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'envworker-tools-'));
  outside = await mkdtemp(join(tmpdir(), 'envworker-outside-'));
  tools = agentToolset({ workdir });
  toolsets.push(tools);
});

afterEach(async () => {
  for (const set of toolsets.splice(0)) for (const tool of set) await tool.close?.();
  await rm(workdir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});


const logger = createLogger({ level: 'fatal', destination: { write: () => undefined } });

/** Runs `name` with `input` as the runner does (parse, then run); resolves with the text, or `error: <text>`. */
async function call(name: string, input: unknown, signal: AbortSignal = new AbortController().signal, set: SessionTool[] = tools): Promise<string> {
  const tool = set.find((candidate) => candidate.name === name);
  if (tool === undefined) throw new Error(`no tool ${name}`);
  try {
    return text(await tool.run(tool.parse(input), { signal, workdir, sessionId: 'sesn_test', workId: 'work_test', toolUseId: 'sevt_test', logger }));
  } catch (error) {
    if (error instanceof ToolError) return `error: ${text(error.content)}`;
    throw error;
  }
}

function text(output: ToolOutput): string {
  return typeof output === 'string' ? output : output.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('');
}

const helperShells = helperShellSpawner();
afterAll(() => helperShells.close());
const spawners: [string, ShellSpawner][] = [
  ['in-process', inProcessShellSpawner],
  ['helper', helperShells],
];

describe.each(spawners)('bash, shells started %s', (_kind, shells) => {
  beforeEach(() => {
    tools = agentToolset({ workdir, shells });
    toolsets.push(tools);
  });

  it('keeps its state across calls, separately per toolset, and reports a failing exit with its output', async () => {
    expect(await call('bash', { command: 'export GREETING=hi; mkdir sub; cd sub; echo $GREETING' })).toBe('hi');
    expect(await call('bash', { command: 'echo "$GREETING from $(basename "$PWD")"' })).toBe('hi from sub');
    const other = agentToolset({ workdir, shells });
    toolsets.push(other);
    expect(await call('bash', { command: 'echo "[$GREETING]"' }, undefined, other)).toBe('[]');
    expect(await call('bash', { command: '(echo broken >&2; exit 3)' })).toBe('error: broken');
    expect(await call('bash', { command: 'sh -c "exit 4"' })).toBe('error: exit 4');
    // `exit` ends the shell itself, as in the official tool; the next call starts a fresh one.
    expect(await call('bash', { command: 'exit 5' })).toBe('error: bash: bash session terminated');
    expect(await call('bash', { command: 'echo "[$GREETING]"' })).toBe('[]');
    expect(await call('bash', { restart: true })).toBe('bash session restarted');
    expect(await call('bash', {})).toBe('error: bash: command is required');
  });

  it('gives the shell only the inherited host variables, never ANTHROPIC_*', async () => {
    process.env['ANTHROPIC_API_KEY'] = 'sk-ant-test-not-for-the-shell';
    process.env['ENVWORKER_TEST_HOST_ONLY'] = 'host';
    try {
      const set = agentToolset({ workdir, shells, inheritEnv: ['PATH', 'ENVWORKER_TEST_HOST_ONLY', 'ANTHROPIC_API_KEY'] });
      toolsets.push(set);
      const env = await call('bash', { command: 'env | sort' }, undefined, set);
      expect(env).toContain('ENVWORKER_TEST_HOST_ONLY=host');
      expect(env).not.toContain('ANTHROPIC');
      expect(env).not.toMatch(/^HOME=/m);
    } finally {
      delete process.env['ANTHROPIC_API_KEY'];
      delete process.env['ENVWORKER_TEST_HOST_ONLY'];
    }
  });

  it('keeps the tail of a huge output with the official marker, and strips ANSI escapes', async () => {
    const out = await call('bash', { command: "printf '\\033[31mred\\033[0m\\n'; seq 1 200000" });
    expect(out.startsWith('[output truncated]\n')).toBe(true);
    expect(out.endsWith('\n200000')).toBe(true);
    expect(out.length).toBeLessThanOrEqual(100 * 1024 + '[output truncated]\n'.length);
    expect(await call('bash', { command: "printf '\\033[1mbold\\033[0m'" })).toBe('bold');
  });

  it('kills the whole process group on a timeout, and the next call gets a fresh shell', async () => {
    const out = await call('bash', { command: 'echo $$ > pid; sleep 30 & sleep 30', timeout_ms: 300 });
    expect(out).toBe('error: bash: bash command timed out after 300ms');
    const pid = Number(await readFile(join(workdir, 'pid'), 'utf8'));
    expect(await groupRunning(pid)).toBe(false);
    expect(await call('bash', { command: 'echo again' })).toBe('again');
  });

  it('cancels on abort with the reason, the group gone before it returns', async () => {
    const controller = new AbortController();
    const running = call('bash', { command: 'echo $$ > pid; sleep 30' }, controller.signal);
    for (let tries = 0; tries < 200; tries += 1) {
      if (await stat(join(workdir, 'pid')).then(() => true, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    controller.abort(new Error('the work item is being stopped'));
    expect(await running).toBe('error: bash: cancelled: the work item is being stopped');
    expect(await groupRunning(Number(await readFile(join(workdir, 'pid'), 'utf8')))).toBe(false);
  });

  it('names why the shell cannot start (its directory is gone), and starts one once it can', async () => {
    await rm(workdir, { recursive: true });
    expect(await call('bash', { command: 'echo hi' })).toBe('error: bash: cannot start the shell: cannot enter the working directory');
    await mkdir(workdir);
    expect(await call('bash', { command: 'echo hi' })).toBe('hi');
  });
});

describe('read, write and edit', () => {
  it('write creates a file 0600 atomically, read returns it whole or by lines, edit replaces', async () => {
    expect(await call('write', { file_path: 'dir/a.txt', content: 'one\ntwo\nthree\n' })).toBe('wrote 14 bytes to dir/a.txt');
    expect((await stat(join(workdir, 'dir/a.txt'))).mode & 0o777).toBe(0o600);
    expect(await call('read', { file_path: 'dir/a.txt' })).toBe('one\ntwo\nthree\n');
    expect(await call('read', { file_path: 'dir/a.txt', view_range: [2, 3] })).toBe('two\nthree');
    expect(await call('edit', { file_path: 'dir/a.txt', old_string: 'two', new_string: '2' })).toBe('edited dir/a.txt (1 replacement(s))');
    expect(await call('edit', { file_path: 'dir/a.txt', old_string: 'e', new_string: 'E' })).toBe('error: edit: old_string appears 3 times in dir/a.txt (must be unique)');
    expect(await call('edit', { file_path: 'dir/a.txt', old_string: 'e', new_string: 'E', replace_all: true })).toBe('edited dir/a.txt (3 replacement(s))');
    expect(await call('edit', { file_path: 'dir/a.txt', old_string: 'zzz', new_string: 'y' })).toBe('error: edit: old_string not found in dir/a.txt');
    expect(await readFile(join(workdir, 'dir/a.txt'), 'utf8')).toBe('onE\n2\nthrEE\n');
  });

  it('write and edit keep a replaced file\'s mode, setuid bit included, and leave no temporary file', async () => {
    await writeFile(join(workdir, 'run.sh'), 'echo one\n');
    await chmod(join(workdir, 'run.sh'), 0o4750);
    expect(await call('write', { file_path: 'run.sh', content: 'echo two\n' })).toBe('wrote 9 bytes to run.sh');
    expect((await stat(join(workdir, 'run.sh'))).mode & 0o7777).toBe(0o4750);
    expect(await call('edit', { file_path: 'run.sh', old_string: 'two', new_string: 'three' })).toBe('edited run.sh (1 replacement(s))');
    expect((await stat(join(workdir, 'run.sh'))).mode & 0o7777).toBe(0o4750);
    expect(await readFile(join(workdir, 'run.sh'), 'utf8')).toBe('echo three\n');
    expect(await call('write', { file_path: 'x/y/z.txt', content: 'deep' })).toBe('wrote 4 bytes to x/y/z.txt');
    expect((await stat(join(workdir, 'x/y'))).mode & 0o777).toBe(0o700);
    expect((await readdir(workdir, { recursive: true })).sort()).toEqual(['run.sh', 'x', 'x/y', 'x/y/z.txt']);
  });

  it('names a missing file, a directory, a file over the cap, and a bad input field', async () => {
    expect(await call('read', { file_path: 'nope.txt' })).toBe('error: read: nope.txt: no such file or directory');
    await mkdir(join(workdir, 'd'));
    expect(await call('read', { file_path: 'd' })).toBe('error: read: d is not a regular file');
    await writeFile(join(workdir, 'big.txt'), 'x\n'.repeat(200 * 1024));
    expect(await call('read', { file_path: 'big.txt' })).toMatch(/^error: read: big\.txt is 409600 bytes, exceeds 262144-byte limit\. Use the view_range/);
    expect(await call('read', { file_path: 'big.txt', view_range: [1, 3] })).toBe('x\nx\nx');
    expect(await call('read', { file_path: 42 })).toBe('error: read: file_path: Invalid input: expected string, received number');
    expect(await call('read', { file_path: 'a', view_range: [1] })).toBe('error: read: view_range: must be [start_line, end_line]');
    expect(await call('edit', { file_path: 'a' })).toMatch(/^error: edit: old_string: /);
  });

  it('refuses a path outside the work directory: with .., absolute, through a symlink, through a dangling symlink', async () => {
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await symlink(join(outside, 'secret.txt'), join(workdir, 'link'));
    await symlink(join(outside, 'not-yet.txt'), join(workdir, 'dangling'));
    for (const path of ['../x', join(outside, 'secret.txt'), 'link', 'dangling']) {
      expect(await call('read', { file_path: path })).toBe(`error: path ${JSON.stringify(path)} is outside the session's working directory`);
    }
    expect(await call('write', { file_path: 'dangling', content: 'escape' })).toBe('error: path "dangling" is outside the session\'s working directory');
    expect(await stat(join(outside, 'not-yet.txt')).catch(() => null)).toBeNull();
  });
});

describe('glob and grep', () => {
  it('glob lists files newest first, skips .git and node_modules, refuses absolute and .. patterns', async () => {
    await writeFile(join(workdir, 'old.ts'), '');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(join(workdir, 'new.ts'), '');
    await mkdir(join(workdir, 'node_modules'));
    await writeFile(join(workdir, 'node_modules', 'dep.ts'), '');
    expect(await call('glob', { pattern: '**/*.ts' })).toBe([join(workdir, 'new.ts'), join(workdir, 'old.ts')].join('\n'));
    expect(await call('glob', { pattern: '*.md' })).toBe('no matches');
    expect(await call('glob', { pattern: '/etc/*' })).toBe('error: glob: absolute pattern not permitted; pass a relative pattern (and optionally path)');
    expect(await call('glob', { pattern: '{..,x}/*' })).toBe('error: glob: ".." is not permitted in the pattern');
  });

  it('grep answers file:line:text, no matches, a bad regex, and cuts a huge output with the marker', async () => {
    await writeFile(join(workdir, 'a.txt'), 'alpha\nbeta\ngamma beta\n');
    expect(await call('grep', { pattern: 'beta' })).toBe(`${join(workdir, 'a.txt')}:2:beta\n${join(workdir, 'a.txt')}:3:gamma beta`);
    expect(await call('grep', { pattern: 'delta' })).toBe('no matches');
    expect(await call('grep', { pattern: '(' })).toMatch(/^error: grep: invalid regex: /);
    await writeFile(join(workdir, 'many.txt'), 'match me\n'.repeat(20_000));
    const out = await call('grep', { pattern: 'match' });
    expect(out.endsWith('\n[output truncated at 102400 bytes]')).toBe(true);
  });

  it('runs a catastrophic regex off the event loop: a timer set before it fires before it ends, and it times out', async () => {
    await writeFile(join(workdir, 'evil.txt'), `${'a'.repeat(40)}!\n`);
    const grep = grepTool(workdir, 500);
    const order: string[] = [];
    setTimeout(() => order.push('timer'), 10);
    const result = await grep
      .run(grep.parse({ pattern: '^(a+)+$' }), { signal: new AbortController().signal, workdir, sessionId: 's', workId: 'w', toolUseId: 't', logger })
      .then(
        () => 'ok',
        (error: unknown) => (error instanceof ToolError ? text(error.content) : String(error)),
      );
    order.push('grep');
    expect(order).toEqual(['timer', 'grep']);
    expect(result).toBe('grep: timed out after 0.5s');
  });
});

describe('rules with many cases', () => {
  it('confinement: any relative path with .. . and links resolves inside the work directory or is refused', async () => {
    await mkdir(join(workdir, 'in'));
    await symlink(join(workdir, 'in'), join(workdir, 'inside-link'));
    await symlink(outside, join(workdir, 'outside-link'));
    const part = fc.constantFrom('..', '.', 'in', 'inside-link', 'outside-link', 'x', 'y');
    await fc.assert(
      fc.asyncProperty(fc.array(part, { minLength: 1, maxLength: 6 }), async (parts) => {
        const given = parts.join('/');
        try {
          const resolved = await confine(workdir, given);
          expect(resolved === workdir || resolved.startsWith(`${workdir}/`)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(ToolError);
          expect((error as ToolError).message).toContain(JSON.stringify(given));
          expect((error as ToolError).message).not.toContain(outside);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('edit agrees with a model of string replacement', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', 'c') }), fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 1, maxLength: 2 }), fc.string(), fc.boolean(), (text, old, replacement, all) => {
        const count = text.split(old).length - 1;
        const edit = applyEdit(text, old, replacement, all);
        if (count === 0) expect(edit).toEqual({ problem: 'not_found' });
        else if (count > 1 && !all) expect(edit).toEqual({ problem: 'not_unique', count });
        // The replacement comes from a function: as a string, its `$$` or `$&` would be a pattern, and the edit is literal.
        else expect(edit).toEqual({ text: all ? text.replaceAll(old, () => replacement) : text.slice(0, text.indexOf(old)) + replacement + text.slice(text.indexOf(old) + old.length), count });
      }),
      { examples: [['a', 'a', '$$', true], ['ab', 'b', '$&$`', false]] },
    );
  });

  it('view_range agrees with a model of 1-based inclusive line slicing', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('x', 'y') }), { maxLength: 20 }), fc.integer({ min: -2, max: 25 }), fc.integer({ min: -2, max: 25 }), (lines, start, end) => {
        const text = lines.join('\n');
        const expected = lines.filter((_, index) => index + 1 >= Math.max(1, start) && (end <= 0 || index + 1 <= end));
        expect(lineRange(text, start, end)).toBe(expected.join('\n'));
      }),
    );
  });

  it('every parse takes any JSON value: it returns or throws a ToolError naming its tool', () => {
    fc.assert(
      fc.property(fc.constantFrom(...tools.map((tool) => tool.name)), fc.jsonValue(), (name, input) => {
        const tool = tools.find((candidate) => candidate.name === name) as SessionTool;
        try {
          tool.parse(input);
        } catch (error) {
          expect(error).toBeInstanceOf(ToolError);
          expect((error as ToolError).message.startsWith(`${name}: `)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
