/**
 * The README examples run: each package README's `## Example` block is written to a module (in a
 * git-ignored folder) and imported, so a README whose example stops working fails here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(here, '..', '..');
const generatedDir = join(here, '.readme-examples');

/** The first TypeScript block after the `## Example` heading of a package README. */
function exampleOf(packageName: string): string {
  const readme = readFileSync(join(packagesDir, packageName, 'README.md'), 'utf8');
  const section = readme.split(/^## Example\s*$/m)[1];
  const block = section === undefined ? undefined : /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error(`${packageName}/README.md has no ts block under "## Example"`);
  return block;
}

async function runExample(packageName: string): Promise<string[]> {
  mkdirSync(generatedDir, { recursive: true });
  const file = join(generatedDir, `${packageName}.example.ts`);
  // `export {}` makes the block a module, so its top-level await is allowed.
  writeFileSync(file, `${exampleOf(packageName)}\nexport {};\n`);
  const printed: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    printed.push(args.map(String).join(' '));
  });
  try {
    await import(file);
  } finally {
    log.mockRestore();
  }
  return printed;
}

describe('README examples', () => {
  it('@envworker/control-plane: starts, enqueues, polls the item', async () => {
    const printed = await runExample('control-plane');
    expect(printed).toEqual([expect.stringMatching(/^work_\w{24} queued$/)]);
  });

  it('@envworker/core: a worker completes eight items from a local control plane', async () => {
    const printed = await runExample('core');
    const lines = printed.join('\n').split('\n');
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(line).toMatch(/^work_\w{24}: completed$/);
  });
});
