/** Ids and credentials: their shape, and that every base62 character is drawn about equally often. */
import { describe, expect, it } from 'vitest';
import { isId, newCredential, newId, randomBase62 } from '../src/ids.js';

describe('ids', () => {
  it('makes ids of a prefix and 24 base62 characters, and recognises them', () => {
    const id = newId('work_');
    expect(id).toMatch(/^work_[0-9A-Za-z]{24}$/);
    expect(isId('work_', id)).toBe(true);
    expect(isId('env_', id)).toBe(false);
    expect(isId('work_', `${id}x`)).toBe(false);
    expect(isId('work_', `${id.slice(0, -1)}-`)).toBe(false);
  });

  it('makes credentials of a prefix and 40 base62 characters, never the same twice', () => {
    const credentials = new Set(Array.from({ length: 1000 }, () => newCredential('ek_')));
    expect(credentials.size).toBe(1000);
    for (const credential of credentials) expect(credential).toMatch(/^ek_[0-9A-Za-z]{40}$/);
  });

  it('draws each of the 62 characters about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(62 * 2000);
    for (const character of sample) counts.set(character, (counts.get(character) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // With 2000 expected per character, a biased draw (e.g. byte % 62) puts the first 8 characters near 2420 (5.6 standard deviations allowed here).
    for (const count of counts.values()) expect(Math.abs(count - 2000)).toBeLessThan(250);
  });
});
