import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeWorkSecret } from '../src/api/secret.js';
import { makeSpec, recordingLogSink } from '../src/conformance/index.js';
import { buildOnWorkEnvironment, ON_WORK_VARIABLES } from '../src/runtime/on-work-environment.js';
import { buildSandboxSpec } from '../src/runtime/sandbox-spec.js';

const environmentKey = 'envkey-spec-test-9b1c5e7d3a';
const baseUrl = 'http://127.0.0.1:8080';

function polledWork(secret: string | null) {
  const { work } = makeSpec({ workdir: '/unused' });
  return { ...work, secret };
}

describe('buildOnWorkEnvironment', () => {
  it('passes the contract variables, and ANTHROPIC_WORK_SECRET exactly when the item has a secret', () => {
    const secretArbitrary = fc.option(
      fc.string({ minLength: 1, maxLength: 40 }).map((token) => encodeWorkSecret({ sessions_token: token })),
      { nil: null },
    );
    fc.assert(
      fc.property(secretArbitrary, (secret) => {
        const work = polledWork(secret);
        const env = buildOnWorkEnvironment({ work, environmentId: work.environment_id, environmentKey, baseUrl });
        const expected = secret === null ? ON_WORK_VARIABLES.filter((name) => name !== 'ANTHROPIC_WORK_SECRET') : ON_WORK_VARIABLES;
        expect(Object.keys(env).sort()).toEqual([...expected].sort());
        expect(env).toMatchObject({
          ANTHROPIC_WORK_ID: work.id,
          ANTHROPIC_ENVIRONMENT_ID: work.environment_id,
          ANTHROPIC_SESSION_ID: work.data.id,
          ANTHROPIC_ENVIRONMENT_KEY: environmentKey,
          ANTHROPIC_BASE_URL: baseUrl,
        });
        expect(env.ANTHROPIC_WORK_SECRET).toBe(secret ?? undefined);
      }),
    );
  });

  it('rejects unusable inputs naming the field, never echoing the environment key', () => {
    const work = polledWork(null);
    const good = { work, environmentId: work.environment_id, environmentKey, baseUrl };
    const cases: [Parameters<typeof buildOnWorkEnvironment>[0], RegExp][] = [
      [{ ...good, environmentId: '' }, /environmentId/],
      [{ ...good, environmentKey: '' }, /environmentKey/],
      [{ ...good, baseUrl: 'ftp://example.test' }, /baseUrl/],
      [{ ...good, baseUrl: 'not a url' }, /baseUrl/],
      [{ ...good, environmentId: 'env_other' }, /work\.environment_id/],
      [{ ...good, work: { ...work, data: { type: 'healthcheck', id: 'hc_1' } } }, /work\.data\.type/],
    ];
    for (const [input, field] of cases) {
      let message = '';
      try {
        buildOnWorkEnvironment(input);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(field);
      expect(message).not.toContain(environmentKey);
    }
  });
});

describe('buildSandboxSpec', () => {
  it('puts the polled work item, secret included, on standard input as one JSON line', () => {
    const work = polledWork(encodeWorkSecret({ sessions_token: 'sesstok-spec-test-1234' }));
    const log = recordingLogSink();
    const spec = buildSandboxSpec({
      work,
      environmentId: work.environment_id,
      environmentKey,
      baseUrl,
      workerId: 'host-1',
      workdir: '/tmp/envworker/item',
      log,
    });
    expect(spec.stdin.endsWith('\n')).toBe(true);
    expect(spec.stdin.trimEnd()).not.toContain('\n');
    expect(JSON.parse(spec.stdin)).toEqual(work);
    expect(spec).toMatchObject({ work, workerId: 'host-1', workdir: '/tmp/envworker/item', log });
    expect(spec.env.ANTHROPIC_WORK_SECRET).toBe(work.secret);
  });

  it('rejects a relative workdir and an empty worker id, naming the field', () => {
    const work = polledWork(null);
    const good = {
      work,
      environmentId: work.environment_id,
      environmentKey,
      baseUrl,
      workerId: 'host-1',
      workdir: '/tmp/x',
      log: recordingLogSink(),
    };
    expect(() => buildSandboxSpec({ ...good, workdir: 'relative/dir' })).toThrow(/workdir/);
    expect(() => buildSandboxSpec({ ...good, workerId: '' })).toThrow(/workerId/);
  });
});

describe('makeSpec', () => {
  it('builds a valid item with contract ids, the behaviour in metadata, and the secret encoded as polled', () => {
    const spec = makeSpec({ workdir: '/tmp/x', conformance: 'trap:2', secret: { sessions_token: 'sesstok-make-spec-77' } });
    expect(spec.work.id).toMatch(/^work_[0-9A-Za-z]{24}$/);
    expect(spec.work.environment_id).toMatch(/^env_[0-9A-Za-z]{24}$/);
    expect(spec.work.data).toEqual({ type: 'session', id: expect.stringMatching(/^sesn_[0-9A-Za-z]{24}$/) });
    expect(spec.work.metadata).toEqual({ conformance: 'trap:2' });
    expect(spec.work.secret).toBe(encodeWorkSecret({ sessions_token: 'sesstok-make-spec-77' }));
  });
});
