import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorTypeForStatus, isTransient, WorkApiError } from '../src/api/errors.js';

const TRANSIENT_BY_STATUS = (status: number): boolean =>
  status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);

function httpError(status: number, shouldRetryHeader: boolean | null = null): WorkApiError {
  return new WorkApiError({
    operation: 'get',
    status,
    type: errorTypeForStatus(status),
    message: 'm',
    shouldRetryHeader,
  });
}

describe('WorkApiError.isTransient', () => {
  it('follows contract §2 for every status: 408, 409, 429 and 5xx (529 included) are transient', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), (status) => {
        expect(httpError(status).isTransient()).toBe(TRANSIENT_BY_STATUS(status));
      }),
    );
    expect(httpError(529).isTransient()).toBe(true);
    for (const fatal of [400, 401, 403, 404, 412, 413]) expect(httpError(fatal).isTransient()).toBe(false);
  });

  it('lets x-should-retry override the status rule in both directions', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), fc.boolean(), (status, header) => {
        expect(httpError(status, header).isTransient()).toBe(header);
      }),
    );
  });

  it('treats connection errors, timeouts and bodies cut short as transient, unless the server said no', () => {
    const noAnswer = (type: string) => new WorkApiError({ operation: 'ack', status: null, type, message: 'm' });
    expect(noAnswer('connection_error').isTransient()).toBe(true);
    expect(noAnswer('timeout_error').isTransient()).toBe(true);
    const cut = (shouldRetryHeader: boolean | null) =>
      new WorkApiError({ operation: 'get', status: 200, type: 'invalid_response', message: 'm', truncated: true, shouldRetryHeader });
    expect(cut(null).isTransient()).toBe(true);
    expect(cut(false).isTransient()).toBe(false);
  });

  it('never treats an abort by the caller as transient, even with x-should-retry: true', () => {
    const aborted = new WorkApiError({ operation: 'poll', status: null, type: 'aborted', message: 'm', shouldRetryHeader: true });
    expect(aborted.isTransient()).toBe(false);
  });

  it('treats a malformed 2xx answer as not transient', () => {
    expect(new WorkApiError({ operation: 'get', status: 200, type: 'invalid_response', message: 'm' }).isTransient()).toBe(false);
  });
});

describe('isTransient(err)', () => {
  it('is the error\'s own verdict for a WorkApiError and false for anything else', () => {
    expect(isTransient(httpError(503))).toBe(true);
    expect(isTransient(httpError(400))).toBe(false);
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(isTransient(value)).toBe(false);
      }),
    );
    expect(isTransient(new Error('ECONNREFUSED'))).toBe(false);
  });
});

describe('precondition failure details', () => {
  const currentState = { state: 'active', last_heartbeat: '2026-11-28T17:00:01.000001Z', lease_extended: true, ttl_seconds: 60 };

  it('types the details of a 412 and exposes currentState', () => {
    const err = new WorkApiError({
      operation: 'heartbeat',
      status: 412,
      type: 'invalid_request_error',
      message: 'm',
      details: { error_code: 'heartbeat_precondition_failed', current_state: currentState },
    });
    expect(err.isPreconditionFailed()).toBe(true);
    expect(err.currentState).toEqual(currentState);
  });

  it('gives no currentState for other statuses or malformed details', () => {
    const details = { error_code: 'heartbeat_precondition_failed', current_state: currentState };
    expect(new WorkApiError({ operation: 'heartbeat', status: 409, type: 'conflict_error', message: 'm', details }).currentState).toBeNull();
    const malformed = { error_code: 'heartbeat_precondition_failed', current_state: { state: 'lost' } };
    const err = new WorkApiError({ operation: 'heartbeat', status: 412, type: 'invalid_request_error', message: 'm', details: malformed });
    expect(err.isPreconditionFailed()).toBe(false);
    expect(err.currentState).toBeNull();
    expect(err.details).toEqual(malformed);
  });
});

describe('errorTypeForStatus', () => {
  it('maps statuses to the contract\'s error types', () => {
    expect([400, 401, 403, 404, 409, 412, 413, 429, 500, 502, 529].map(errorTypeForStatus)).toEqual([
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'conflict_error',
      'invalid_request_error',
      'request_too_large',
      'rate_limit_error',
      'api_error',
      'api_error',
      'overloaded_error',
    ]);
  });
});
