/** The per-item work directory on the real file system: created fresh, never reused with files, removed with its contents. */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkdir, removeWorkdir } from '../src/runtime/workdir.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'envworker-workdir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('createWorkdir', () => {
  it('creates a new directory under an existing parent, and its missing parents', async () => {
    await createWorkdir(join(root, 'item-1'));
    await createWorkdir(join(root, 'a', 'b', 'item-2'));
    expect((await stat(join(root, 'item-1'))).isDirectory()).toBe(true);
    expect((await stat(join(root, 'a', 'b', 'item-2'))).isDirectory()).toBe(true);
  });

  it('takes an existing empty directory as is', async () => {
    await mkdir(join(root, 'empty'));
    await expect(createWorkdir(join(root, 'empty'))).resolves.toBeUndefined();
  });

  it("refuses an existing directory with entries and leaves them untouched", async () => {
    await mkdir(join(root, 'used'));
    await writeFile(join(root, 'used', 'other-item.txt'), 'mine');
    await expect(createWorkdir(join(root, 'used'))).rejects.toThrow(`workdir ${join(root, 'used')} already exists and is not empty`);
    expect(await readFile(join(root, 'used', 'other-item.txt'), 'utf8')).toBe('mine');
  });

  it('names the error code when a file is in the way', async () => {
    await writeFile(join(root, 'file'), '');
    await expect(createWorkdir(join(root, 'file', 'item'))).rejects.toThrow(`workdir ${join(root, 'file', 'item')} could not be created (ENOTDIR)`);
    await expect(createWorkdir(join(root, 'file'))).rejects.toThrow(/could not be created \(ENOTDIR\)/);
  });

  it('refuses a relative path', async () => {
    await expect(createWorkdir('relative/item')).rejects.toThrow('workdir must be an absolute path, got "relative/item"');
  });
});

describe('removeWorkdir', () => {
  it('removes an empty directory, a full one, and accepts one already gone', async () => {
    await mkdir(join(root, 'empty'));
    await mkdir(join(root, 'full', 'nested'), { recursive: true });
    await writeFile(join(root, 'full', 'nested', 'f.txt'), 'x');
    await removeWorkdir(join(root, 'empty'));
    await removeWorkdir(join(root, 'full'));
    await removeWorkdir(join(root, 'never-made'));
    expect(await readdir(root)).toEqual([]);
  });
});
