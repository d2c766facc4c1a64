import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_USER_AGENT } from '../src/api/headers.js';
import { PACKAGE_NAME, VERSION } from '../src/version.js';

describe('version', () => {
  it('matches packages/core/package.json, and the default user agent is <name>/<version>', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(PACKAGE_NAME).toBe(manifest.name);
    expect(VERSION).toBe(manifest.version);
    expect(DEFAULT_USER_AGENT).toBe(`${manifest.name}/${manifest.version}`);
  });
});
