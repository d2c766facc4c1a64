/**
 * Runs a package README's example as a test, so that the example users copy keeps working: the
 * first TypeScript block under the `## Example` heading is written to a module (in a git-ignored
 * `.readme-examples/` folder) and imported, with `console.log` captured.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';

/**
 * Runs the example of the README at `readme` (a path or file URL) and resolves with the lines it
 * printed with `console.log`. The module is written under `from` (default: the README package's
 * `test/`), which decides what its imports resolve to: an example that imports packages its own
 * package does not depend on is run from a package that does.
 */
export async function runReadmeExample(readme: string | URL, from?: string | URL): Promise<string[]> {
  const path = typeof readme === 'string' ? readme : fileURLToPath(readme);
  const base = from === undefined ? join(dirname(path), 'test') : typeof from === 'string' ? from : fileURLToPath(from);
  const section = readFileSync(path, 'utf8').split(/^## Example\s*$/m)[1];
  const block = section === undefined ? undefined : /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error(`${path} has no ts block under "## Example"`);
  const generated = join(base, '.readme-examples');
  mkdirSync(generated, { recursive: true });
  const file = join(generated, `${basename(dirname(path))}.example.ts`);
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
  return printed.join('\n').split('\n');
}
