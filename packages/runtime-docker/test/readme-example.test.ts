/**
 * The README's `## Example` block runs: it is written to a module (in a git-ignored folder) and
 * imported, so a README whose example stops working fails here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it, vi } from 'vitest';
import { describeDocker } from './support/docker-available.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const generated = fileURLToPath(new URL('./.readme-examples/', import.meta.url));

describeDocker('README', () => {
  it('the example serves four items in busybox containers, each completed with exit 0', async () => {
    const section = readFileSync(readme, 'utf8').split(/^## Example\s*$/m)[1];
    const block = section === undefined ? undefined : /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    if (block === undefined) throw new Error('README.md has no ts block under "## Example"');
    mkdirSync(generated, { recursive: true });
    const file = `${generated}runtime-docker.example.ts`;
    // `export {}` makes the block a module, so its top-level await is allowed.
    writeFileSync(file, `${block}\nexport {};\n`);
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
    });
    try {
      await import(file);
    } finally {
      log.mockRestore();
    }
    const lines = printed.join('\n').split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^work_\w{24}: completed \(exit 0\)$/);
  });
});
