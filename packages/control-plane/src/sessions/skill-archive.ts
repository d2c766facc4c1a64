/**
 * A skill's files as the skills API serves its content: a gzipped tar whose one top-level
 * directory is named after the skill (`pdf/SKILL.md`, `pdf/scripts/fill.py`), packed in memory.
 */
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { SimulatedSkill } from './scripted-session.js';

export async function skillArchive(skill: SimulatedSkill): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  const files = { 'SKILL.md': `---\nname: ${skill.name}\ndescription: ${skill.description ?? skill.name}\n---\n`, ...skill.files };
  for (const [path, text] of Object.entries(files)) {
    archive.entry({ name: `${skill.name}/${path}`, mode: 0o644, mtime: new Date(skill.createdAt) }, text);
  }
  archive.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}
