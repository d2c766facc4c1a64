/** The README's example runs (see `runReadmeExample`). */
import { expect, it } from 'vitest';
import { runReadmeExample } from '@envworker/core/conformance';
import { describeDocker } from './support/docker-available.js';

describeDocker('README', () => {
  it('the example serves four items in busybox containers, each completed with exit 0', async () => {
    const lines = await runReadmeExample(new URL('../README.md', import.meta.url));
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^work_\w{24}: completed \(exit 0\)$/);
  });
});
