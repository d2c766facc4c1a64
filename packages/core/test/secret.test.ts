import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeWorkSecret, encodeWorkSecret } from '../src/api/secret.js';
import type { WorkSecret } from '../src/api/wire.js';

const secretArb: fc.Arbitrary<WorkSecret> = fc.record(
  {
    sessions_token: fc.string({ minLength: 1, unit: 'grapheme' }),
    api_base_url: fc.webUrl({ validSchemes: ['http', 'https'] }),
  },
  { requiredKeys: ['sessions_token'] },
);

const pad = (text: string): string => text + '='.repeat((4 - (text.length % 4)) % 4);

describe('decodeWorkSecret', () => {
  it('round-trips what encodeWorkSecret produces, unpadded as the server sends it', () => {
    fc.assert(
      fc.property(secretArb, (secret) => {
        const encoded = encodeWorkSecret(secret);
        expect(encoded).not.toContain('=');
        expect(decodeWorkSecret(encoded)).toEqual({ secret, reason: null });
      }),
    );
  });

  it('round-trips the same payload with base64url padding', () => {
    fc.assert(
      fc.property(secretArb, (secret) => {
        expect(decodeWorkSecret(pad(encodeWorkSecret(secret)))).toEqual({ secret, reason: null });
      }),
    );
  });

  it('never throws on an arbitrary string, and a reason never repeats an input of 8 or more characters', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_-]*={0,3}$/)), (input) => {
        const result = decodeWorkSecret(input);
        if (result.secret === null) {
          expect(typeof result.reason).toBe('string');
          if (input.length >= 8) expect(result.reason).not.toContain(input);
        }
      }),
    );
  });

  it('never repeats the decoded payload of a base64url string that is not a valid secret', () => {
    const payloadArb = fc.oneof(
      fc.json(),
      fc.record({ sessions_token: fc.oneof(fc.integer(), fc.constant(''), fc.boolean()) }),
      fc.record({ sessions_token: fc.string({ minLength: 8 }), api_base_url: fc.string({ minLength: 8 }) }),
    );
    fc.assert(
      fc.property(payloadArb, (payload) => {
        const json = typeof payload === 'string' ? payload : JSON.stringify(payload);
        const input = Buffer.from(json, 'utf8').toString('base64url');
        const result = decodeWorkSecret(input);
        if (result.secret !== null) return;
        expect(result.reason).not.toContain(input);
        for (const value of Object.values(typeof payload === 'object' && payload !== null ? payload : {})) {
          if (typeof value === 'string' && value.length >= 8) expect(result.reason).not.toContain(value);
        }
      }),
    );
  });

  it('names the kind of a non-string input and returns no secret', () => {
    fc.assert(
      fc.property(
        fc.anything().filter((value) => typeof value !== 'string'),
        (input) => {
          const result = decodeWorkSecret(input);
          expect(result.secret).toBeNull();
          expect(result.reason).toMatch(/^secret must be a string, got (null|array|undefined|number|bigint|boolean|object|symbol|function)$/);
        },
      ),
    );
  });

  it('gives distinct reasons for empty, non-base64url, bad length and non-JSON input', () => {
    expect(decodeWorkSecret('').reason).toBe('secret is empty');
    expect(decodeWorkSecret('a b c d!').reason).toBe('secret is not base64url');
    expect(decodeWorkSecret('abcde').reason).toBe('secret has an impossible base64url length');
    expect(decodeWorkSecret(Buffer.from('not json', 'utf8').toString('base64url')).reason).toBe('secret does not decode to JSON');
    expect(decodeWorkSecret(Buffer.from('{"x":1}', 'utf8').toString('base64url')).reason).toBe(
      'secret payload is invalid at: sessions_token',
    );
  });
});
