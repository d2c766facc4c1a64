/** The examples of the control plane's and core's READMEs run (see `runReadmeExample`). */
import { describe, expect, it } from 'vitest';
import { runReadmeExample } from '@envworker/core/conformance';

describe('README examples', () => {
  it('@envworker/control-plane: starts, enqueues, polls the item', async () => {
    const lines = await runReadmeExample(new URL('../README.md', import.meta.url));
    expect(lines).toEqual([expect.stringMatching(/^work_\w{24} queued$/)]);
  });

  it('@envworker/core: a worker completes eight items from a local control plane', async () => {
    // Core's example starts a local control plane, which core itself does not depend on.
    const lines = await runReadmeExample(new URL('../../core/README.md', import.meta.url), new URL('.', import.meta.url));
    expect(lines).toHaveLength(8);
    for (const line of lines) expect(line).toMatch(/^work_\w{24}: completed$/);
  });
});
