/**
 * State files and their directories: the worker id encoding, the atomic write, the parser, and
 * the refusal of directories another user could plant state files in.
 */
import { chown, mkdir, readdir, readFile, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePrivateDir, parseState, workerStateDir, writeState, type SandboxState } from '../src/state-files.js';
import { TempRoot } from './support/harness.js';

const root = new TempRoot();

beforeAll(() => root.create('state-files'));
afterAll(() => root.remove());

const good: SandboxState = { version: 1, pid: 4242, pgid: 4242, startTime: 123456, workdir: '/tmp/envworker/w/item', workId: 'work_x' };

describe('workerStateDir', () => {
  it('puts every worker id in its own directory right below the state directory, and two ids never share one', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), fc.string({ minLength: 1, maxLength: 40 }), (first, second) => {
        const dir = workerStateDir('/state', first);
        expect(dirname(dir)).toBe('/state');
        expect(['.', '..', '']).not.toContain(basename(dir));
        expect(decodeURIComponent(basename(dir))).toBe(first);
        if (first !== second) expect(workerStateDir('/state', second)).not.toBe(dir);
      }),
    );
  });

  it('keeps ids that would climb out of it inside it', () => {
    expect(workerStateDir('/state', '..')).toBe('/state/%2E%2E');
    expect(workerStateDir('/state', '../etc')).toBe('/state/%2E%2E%2Fetc');
  });
});

describe('writeState and parseState', () => {
  it('writes the record atomically, mode 0600, leaving no temporary file', async () => {
    const dir = root.path('write');
    await ensurePrivateDir(dir);
    const path = await writeState(dir, good);
    expect(path).toBe(join(dir, '4242.json'));
    expect(parseState(await readFile(path, 'utf8'), 4242)).toEqual(good);
    expect(await readdir(dir)).toEqual(['4242.json']);
  });

  it.each([
    ['not JSON', '{'],
    ['another pid than its name', JSON.stringify({ ...good, pid: 4243 })],
    ['another version', JSON.stringify({ ...good, version: 2 })],
    ['pgid 1', JSON.stringify({ ...good, pgid: 1 })],
    ['a negative start time', JSON.stringify({ ...good, startTime: -1 })],
    ['a relative workdir', JSON.stringify({ ...good, workdir: 'item' })],
    ['no work id', JSON.stringify({ ...good, workId: undefined })],
    ['an array', '[]'],
  ])('rejects a record with %s', (_name, text) => {
    expect(parseState(text, 4242)).toBeNull();
  });
});

describe('ensurePrivateDir', () => {
  it('makes missing directories mode 0700', async () => {
    const top = root.path('private');
    const dir = join(top, 'a', 'b');
    await ensurePrivateDir(dir);
    for (const made of [top, join(top, 'a'), dir]) expect((await stat(made)).mode & 0o777).toBe(0o700);
    await expect(ensurePrivateDir(dir)).resolves.toBeUndefined();
  });

  it('refuses a symlink, even to a good directory', async () => {
    const target = root.path('target');
    await ensurePrivateDir(target);
    const link = root.path('link');
    await symlink(target, link);
    await expect(ensurePrivateDir(link)).rejects.toThrow(/is not a directory \(a symlink is refused\)/);
  });

  it('refuses a directory another user owns (when the test can make one: as root)', async () => {
    const dir = root.path('foreign');
    await mkdir(dir, { mode: 0o700 });
    if (process.geteuid?.() !== 0) {
      // Not root: the directory is ours, and so accepted; there is no other owner to try.
      await expect(ensurePrivateDir(dir)).resolves.toBeUndefined();
      return;
    }
    await chown(dir, 65534, 65534);
    await expect(ensurePrivateDir(dir)).rejects.toThrow(/belongs to uid 65534, not to this worker's uid 0; refusing to use it/);
  });
});
