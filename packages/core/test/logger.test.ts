import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, workLogger, type LoggerOptions } from '../src/observe/logger.js';
import { MIN_SECRET_LENGTH, redactSecrets } from '../src/observe/redact-secrets.js';

/** A real pino logger writing into an array, so a test reads exactly what would reach a file. */
function captured(options: Omit<LoggerOptions, 'destination'> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (line: string) => lines.push(line) } });
  return { logger, lines, output: () => lines.join('') };
}

describe('createLogger: redaction by path', () => {
  it('redacts environment keys, sessions tokens, secret payloads and auth headers, and keeps the fields around them', () => {
    const secrets = {
      environmentKey: 'envkey-A1-top-level-camel',
      envKeySnake: 'envkey-A2-top-level-snake',
      envVariable: 'envkey-A3-in-env-variable',
      nestedEnvVariable: 'envkey-A4-in-spec-env',
      workSecretVariable: 'worksecret-B1-in-env',
      workSecret: 'worksecret-B2-on-work',
      topSecret: 'worksecret-B3-top-level',
      sessionsToken: 'sesstok-C1-in-payload',
      sessionsTokenCamel: 'sesstok-C2-camel-case',
      bearer: 'bearer-D1-request-headers',
      bearerTop: 'bearer-D2-top-headers',
      apiKeyHeader: 'apikey-E1-request-header',
      apiKeyHeaderTop: 'apikey-E2-top-header',
      apiKey: 'apikey-E3-option',
      adminKey: 'adminkey-F1-option',
    };
    const { logger, output } = captured();
    logger.info(
      {
        environmentKey: secrets.environmentKey,
        environment_key: secrets.envKeySnake,
        env: {
          ANTHROPIC_ENVIRONMENT_KEY: secrets.envVariable,
          ANTHROPIC_WORK_SECRET: secrets.workSecretVariable,
          ANTHROPIC_WORK_ID: 'work_visible',
        },
        spec: { env: { ANTHROPIC_ENVIRONMENT_KEY: secrets.nestedEnvVariable }, workdir: '/tmp/visible-workdir' },
        work: { id: 'work_visible', secret: secrets.workSecret, state: 'active' },
        secret: secrets.topSecret,
        decoded: { sessions_token: secrets.sessionsToken, api_base_url: 'https://visible.example' },
        client: { sessionsToken: secrets.sessionsTokenCamel },
        request: {
          method: 'POST',
          headers: {
            authorization: `Bearer ${secrets.bearer}`,
            'x-api-key': secrets.apiKeyHeader,
            'content-type': 'application/json',
          },
        },
        headers: { authorization: `Bearer ${secrets.bearerTop}`, 'x-api-key': secrets.apiKeyHeaderTop },
        options: { apiKey: secrets.apiKey, adminKey: secrets.adminKey, baseUrl: 'http://127.0.0.1:8080' },
      },
      'calling the Work API',
    );
    const text = output();
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    const record = JSON.parse(text) as Record<string, any>;
    expect(record['msg']).toBe('calling the Work API');
    expect(record['env']).toEqual({
      ANTHROPIC_ENVIRONMENT_KEY: '[redacted]',
      ANTHROPIC_WORK_SECRET: '[redacted]',
      ANTHROPIC_WORK_ID: 'work_visible',
    });
    expect(record['work']).toEqual({ id: 'work_visible', secret: '[redacted]', state: 'active' });
    expect(record['decoded']).toEqual({ sessions_token: '[redacted]', api_base_url: 'https://visible.example' });
    expect(record['request']['headers']).toEqual({
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      'content-type': 'application/json',
    });
    expect(record['request']['method']).toBe('POST');
    expect(record['spec']['workdir']).toBe('/tmp/visible-workdir');
    expect(record['options']['baseUrl']).toBe('http://127.0.0.1:8080');
  });

  it('redacts secret fields in child bindings too', () => {
    const { logger, output } = captured();
    logger.child({ work: { id: 'work_child', secret: 'worksecret-in-bindings' } }).info('bound');
    expect(output()).not.toContain('worksecret-in-bindings');
    expect(output()).toContain('work_child');
  });
});

describe('createLogger: scrubbing known secrets by value', () => {
  const token = 'sesstok-known-8d2f61a0c4';

  it('scrubs a known secret from the message, string fields at any depth, arrays, errors and bindings', () => {
    const { logger, lines, output } = captured({ knownSecrets: new Set([token]) });
    logger.info({ deep: { a: { b: { c: { d: `before ${token} after` } } } }, list: ['x', `=${token}`] }, `line ${token}`);
    logger.info('formatted %s done', token);
    logger.error(new Error(`request failed with ${token}`));
    logger.child({ note: `bound ${token}` }).warn('from a child');
    expect(lines).toHaveLength(4);
    expect(output()).not.toContain(token);
    const [first, second, third, fourth] = lines.map((line) => JSON.parse(line) as Record<string, any>);
    expect(first?.['msg']).toBe('line [redacted]');
    expect(first?.['deep']['a']['b']['c']['d']).toBe('before [redacted] after');
    expect(first?.['list']).toEqual(['x', '=[redacted]']);
    expect(second?.['msg']).toBe('formatted [redacted] done');
    expect(third?.['err']['message']).toBe('request failed with [redacted]');
    expect(third?.['err']['stack']).toContain('request failed with [redacted]');
    expect(fourth?.['note']).toBe('bound [redacted]');
  });

  it('reads the known secrets at every line, so a secret added later is scrubbed from then on', () => {
    const known = new Set<string>();
    const { logger, lines } = captured({ knownSecrets: known });
    logger.info(`before ${token}`);
    known.add(token);
    logger.info(`after ${token}`);
    expect(lines[0]).toContain(token);
    expect(lines[1]).not.toContain(token);
  });

  it('scrubs a secret that JSON escapes in the line (quotes, backslashes)', () => {
    const odd = 'tok"en\\with-quote-and-slash';
    const { logger, output } = captured({ knownSecrets: [odd] });
    logger.info({ value: `x${odd}y` }, 'odd');
    const record = JSON.parse(output()) as Record<string, unknown>;
    expect(record['value']).toBe('x[redacted]y');
  });

  it('never lets an arbitrary known secret through, in the message or a field', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: MIN_SECRET_LENGTH, maxLength: 40, unit: 'binary' }),
        fc.string({ maxLength: 30 }),
        (secret, around) => {
          const { logger, lines } = captured({ knownSecrets: [secret] });
          logger.info({ field: `${around}${secret}${around}` }, `${secret}${around}`);
          const [line] = lines;
          expect(line).toBeDefined();
          expect(line).not.toContain(secret);
          expect(line).not.toContain(JSON.stringify(secret).slice(1, -1));
        },
      ),
    );
  });
});

describe('createLogger: options', () => {
  it('writes readable text lines in the text format, scrubbed like JSON lines', () => {
    const secret = 'envkey-text-format-123456';
    const { logger, output } = captured({ format: 'text', knownSecrets: [secret] });
    logger.info({ work_id: 'work_text' }, `claimed with ${secret}`);
    const text = output();
    expect(text).toContain('INFO');
    expect(text).toContain('claimed with [redacted]');
    expect(text).toContain('work_text');
    expect(text).not.toContain(secret);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('writes only lines at or above the level', () => {
    const { logger, lines } = captured({ level: 'warn' });
    logger.info('dropped');
    logger.warn('kept');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('kept');
  });

  it('uses the given base fields in place of pid and hostname', () => {
    const { logger, lines } = captured({ base: { service: 'envworker' } });
    logger.info('hello');
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(record['service']).toBe('envworker');
    expect(record).not.toHaveProperty('pid');
  });

  it('rejects an unknown level or format, naming the field', () => {
    expect(() => createLogger({ level: 'loud' as 'info' })).toThrow(/level/);
    expect(() => createLogger({ format: 'xml' as 'json' })).toThrow(/format/);
  });
});

describe('workLogger', () => {
  it('binds worker_id, work_id and session_id for a session item', () => {
    const { logger, lines } = captured();
    workLogger(logger, { id: 'work_one', data: { type: 'session', id: 'sesn_one' } }, 'host-1').info('started');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ worker_id: 'host-1', work_id: 'work_one', session_id: 'sesn_one' });
  });

  it('binds no session_id for a health check', () => {
    const { logger, lines } = captured();
    workLogger(logger, { id: 'work_two', data: { type: 'healthcheck', id: 'hc_two' } }, 'host-1').info('probing');
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(record).toMatchObject({ worker_id: 'host-1', work_id: 'work_two' });
    expect(record).not.toHaveProperty('session_id');
  });
});

describe('redactSecrets', () => {
  const secretArbitrary = fc.string({ minLength: MIN_SECRET_LENGTH, maxLength: 32, unit: 'binary' });

  it('leaves no known secret in the text, wherever and however often it is embedded', () => {
    fc.assert(
      fc.property(
        fc.array(secretArbitrary, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(fc.string({ maxLength: 20, unit: 'binary' }), fc.nat()), { maxLength: 6 }),
        (secrets, pieces) => {
          const text = pieces.map(([filler, pick]) => `${filler}${secrets[pick % secrets.length] ?? ''}`).join('');
          const result = redactSecrets(text, secrets);
          for (const secret of secrets) expect(result).not.toContain(secret);
        },
      ),
    );
  });

  it('leaves no secret even when the censor could recreate one', () => {
    for (const secret of ['[redacted', 'redacted]', 'x[redacted]', '[redacted]']) {
      const result = redactSecrets(`a ${secret} b ${secret}`, [secret]);
      expect(result).not.toContain(secret);
    }
    const glued = redactSecrets('xy-hidden-secret-zz', ['hidden-secret', 'xy[redacted]zz']);
    expect(glued).not.toContain('xy[redacted]zz');
  });

  it('returns text without a known secret unchanged, and ignores secrets shorter than the minimum', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), secretArbitrary, (text, secret) => {
        fc.pre(!text.includes(secret));
        expect(redactSecrets(text, [secret])).toBe(text);
      }),
    );
    expect(redactSecrets('the key abc is short', ['abc'])).toBe('the key abc is short');
  });

  it('replaces each occurrence, merging overlapping ones', () => {
    expect(redactSecrets('a SECRET-123 b SECRET-123 c', ['SECRET-123'])).toBe('a [redacted] b [redacted] c');
    expect(redactSecrets('ABCDEFGHIJKL', ['ABCDEFGH', 'EFGHIJKL'])).toBe('[redacted]');
  });
});
