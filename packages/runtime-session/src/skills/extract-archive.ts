/**
 * Extracting a skill archive (a tar, gzipped or not, or a zip) into its directory. The archive
 * comes from the API, but skills can be third-party, so it is untrusted: every member name is
 * checked (no absolute path, no `..`), only regular files and directories are extracted (links,
 * devices and fifos are left out), the expanded size is bounded, modes are normalised (0644, or
 * 0755 when any execute bit was set), and the skill bundle's single wrapper directory
 * (`pdf/SKILL.md`) is stripped so files land at `<dest>/SKILL.md`, as the official runner does.
 * Everything is staged beside `dest` and moved in only once the whole archive was read.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { unzip, type Unzipped, type UnzipFileInfo } from 'fflate';
import * as tar from 'tar';

/** The most an archive may expand to. */
export const MAX_EXPANDED_BYTES = 256 * 1024 * 1024;
/** The most members an archive may list. */
export const MAX_MEMBERS = 10_000;

const unzipAsync = promisify(unzip) as (data: Uint8Array, options: { filter: (file: UnzipFileInfo) => boolean }) => Promise<Unzipped>;

/** A skill archive that cannot be extracted safely; the message names the member, never a host path. */
export class SkillArchiveError extends Error {
  override readonly name = 'SkillArchiveError';
}

interface Member {
  readonly path: string;
  readonly directory: boolean;
}

/** Extracts `archive` into `dest`, which must exist and be empty. */
export async function extractSkillArchive(archive: Buffer, dest: string): Promise<void> {
  const stageRoot = await mkdtemp(join(dirname(dest), '.skill-stage-'));
  try {
    const stage = join(stageRoot, 'stage');
    await mkdir(stage, { mode: 0o700 });
    const members = isZip(archive) ? await extractZip(archive, stage) : await extractTar(archive, join(stageRoot, 'archive'), stage);
    const top = wrapperDirectory(members);
    const source = top === null ? stage : join(stage, top);
    await normaliseModes(stage);
    for (const entry of await readdir(source)) await rename(join(source, entry), join(dest, entry));
  } finally {
    await rm(stageRoot, { recursive: true, force: true });
  }
}

function isZip(archive: Buffer): boolean {
  return archive.length >= 4 && archive.readUInt32LE(0) === 0x04034b50;
}

async function extractZip(archive: Buffer, stage: string): Promise<Member[]> {
  const members: Member[] = [];
  let expanded = 0;
  const files = await unzipAsync(archive, {
    filter(file) {
      const path = checkedName(file.name);
      members.push({ path, directory: file.name.endsWith('/') });
      if (members.length > MAX_MEMBERS) throw new SkillArchiveError(`the archive lists more than ${MAX_MEMBERS} members`);
      expanded += file.originalSize;
      if (expanded > MAX_EXPANDED_BYTES) throw new SkillArchiveError(`the archive expands to more than ${MAX_EXPANDED_BYTES} bytes`);
      return true;
    },
  }).catch((error: unknown) => {
    if (error instanceof SkillArchiveError) throw error;
    throw new SkillArchiveError(`the zip archive cannot be read (${error instanceof Error ? error.message : String(error)})`);
  });
  for (const [name, data] of Object.entries(files)) {
    const path = checkedName(name);
    const target = join(stage, path);
    if (name.endsWith('/')) {
      await mkdir(target, { recursive: true, mode: 0o700 });
      continue;
    }
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, data, { flag: 'wx', mode: 0o644 });
  }
  return members;
}

async function extractTar(archive: Buffer, file: string, stage: string): Promise<Member[]> {
  await writeFile(file, archive, { flag: 'wx', mode: 0o600 });
  const members: Member[] = [];
  let expanded = 0;
  const unreadable = (error: unknown): never => {
    if (error instanceof SkillArchiveError) throw error;
    throw new SkillArchiveError(`the tar archive cannot be read (${error instanceof Error ? error.message : String(error)})`);
  };
  // Listed and checked whole before anything is written.
  await tar
    .t({
      file,
      strict: true,
      onReadEntry(entry) {
        if (entry.type !== 'File' && entry.type !== 'Directory' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') return;
        members.push({ path: checkedName(entry.path), directory: entry.type === 'Directory' });
        if (members.length > MAX_MEMBERS) throw new SkillArchiveError(`the archive lists more than ${MAX_MEMBERS} members`);
        expanded += entry.size ?? 0;
        if (expanded > MAX_EXPANDED_BYTES) throw new SkillArchiveError(`the archive expands to more than ${MAX_EXPANDED_BYTES} bytes`);
      },
    })
    .catch(unreadable);
  await tar
    .x({
      file,
      cwd: stage,
      strict: true,
      preserveOwner: false,
      // Only what the listing let through: regular files and directories.
      filter: (_path, entry) => 'type' in entry && ['File', 'OldFile', 'ContiguousFile', 'Directory'].includes(entry.type),
    })
    .catch(unreadable);
  return members;
}

/** The member name as a relative POSIX path, or a refusal naming it. */
function checkedName(raw: string): string {
  const name = raw.replace(/\\/g, '/');
  const shown = JSON.stringify(raw.slice(0, 200));
  if (name.includes('\0')) throw new SkillArchiveError(`unsafe archive member ${shown}: it holds a NUL`);
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new SkillArchiveError(`unsafe archive member ${shown}: an absolute path`);
  if (name.split('/').includes('..')) throw new SkillArchiveError(`unsafe archive member ${shown}: it climbs out with ..`);
  const normalised = posix.normalize(name).replace(/\/+$/, '');
  return normalised === '.' ? '' : normalised;
}

/** The one top-level directory every member is under, if there is one and something is inside it. */
function wrapperDirectory(members: readonly Member[]): string | null {
  let top: string | null = null;
  let nested = false;
  for (const member of members) {
    const parts = member.path.split('/').filter((part) => part !== '' && part !== '.');
    if (parts.length === 0) continue;
    const first = parts[0] as string;
    if (top === null) top = first;
    else if (first !== top) return null;
    if (parts.length > 1) nested = true;
    else if (!member.directory) return null;
  }
  return nested ? top : null;
}

/** Directories 0700, files 0644 or 0755; anything else (which the filters should have kept out) is refused. */
async function normaliseModes(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await normaliseModes(path);
    else if (entry.isFile()) {
      const { mode, nlink } = await lstat(path);
      if (nlink > 1) throw new SkillArchiveError(`archive member ${JSON.stringify(entry.name)} is a hard link`);
      await chmod(path, mode & 0o111 ? 0o755 : 0o644);
    } else throw new SkillArchiveError(`archive member ${JSON.stringify(entry.name)} is neither a file nor a directory`);
  }
}
