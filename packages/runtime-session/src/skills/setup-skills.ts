/**
 * Downloading the session agent's skills into `<workdir>/skills/<name>/` before the session is
 * served, as the official runner does: each skill's version is resolved (`latest` included), its
 * archive downloaded with the item's credential and extracted. One skill that fails is logged and
 * skipped; it does not keep the session from being served. The cleanup removes what was made.
 */
import { mkdir, rm } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import type { Logger, SessionSkill, SessionsClient } from '@envworker/core';
import { extractSkillArchive } from './extract-archive.js';

export interface SetupSkillsInput {
  readonly client: SessionsClient;
  readonly credential: string;
  readonly skills: readonly SessionSkill[];
  readonly workdir: string;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Downloads every skill; resolves with the cleanup that removes their directories. Rejects only when `signal` aborts. */
export async function setupSkills(input: SetupSkillsInput): Promise<() => Promise<void>> {
  const { client, credential, logger, signal } = input;
  const root = resolve(input.workdir, 'skills');
  const created: string[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const dir of created) {
      await rm(dir, { recursive: true, force: true }).catch((error: unknown) => {
        logger.warn({ skill_dir: basename(dir), err_message: error instanceof Error ? error.message : String(error) }, 'a skill directory could not be removed');
      });
    }
  };
  for (const skill of input.skills) {
    try {
      const version = await client.retrieveSkillVersion(skill.skill_id, skill.version, { credential, signal });
      const name = directoryName(version.name, skill.skill_id);
      const dest = join(root, name);
      if (!dest.startsWith(root + sep)) throw new Error(`the skill's name does not make a directory under skills/`);
      const archive = await client.downloadSkillVersion(skill.skill_id, version.id, { credential, signal });
      await rm(dest, { recursive: true, force: true });
      await mkdir(dest, { recursive: true, mode: 0o700 });
      created.push(dest);
      await extractSkillArchive(archive, dest);
      logger.info({ skill_id: skill.skill_id, version: version.id, dir: `skills/${name}` }, 'downloaded a skill');
    } catch (error) {
      if (signal.aborted) {
        await cleanUp();
        throw error;
      }
      logger.warn({ skill_id: skill.skill_id, err_message: error instanceof Error ? error.message : String(error) }, 'a skill could not be downloaded; serving the session without it');
    }
  }
  return cleanUp;
}

/** The skill's name reduced to one safe path component; its id when the name gives none. */
function directoryName(name: string, skillId: string): string {
  const candidate = basename(name.trim().replace(/\\/g, '/'));
  return candidate === '' || candidate === '.' || candidate === '..' || candidate.includes('\0') ? basename(skillId) : candidate;
}
