/**
 * Reading a container's exit status: a signal only when it was sent, the code otherwise, and never
 * a value that does not add back up to the status Docker reported.
 */
import { constants } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exitStatusOf, signalNumber } from '../src/exit-status.js';

const signalNames = Object.keys(constants.signals);

describe('exitStatusOf', () => {
  it('never names a signal that was not sent, and always adds back up to the status', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.subarray(signalNames), (status, sent) => {
        const exit = exitStatusOf(status, new Set(sent));
        if (exit.signal === null) {
          expect(exit.code).toBe(status);
        } else {
          expect(exit.code).toBeNull();
          expect(sent).toContain(exit.signal);
          expect(128 + (signalNumber(exit.signal) as number)).toBe(status);
        }
      }),
    );
  });

  it('reads 128 + N as signal N when N was sent', () => {
    expect(exitStatusOf(137, new Set(['SIGTERM', 'SIGKILL']))).toEqual({ code: null, signal: 'SIGKILL' });
    expect(exitStatusOf(143, new Set(['SIGTERM']))).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('keeps 128 + N as a code when N was not sent: the program may have returned it', () => {
    expect(exitStatusOf(137, new Set(['SIGTERM']))).toEqual({ code: 137, signal: null });
    expect(exitStatusOf(130, new Set())).toEqual({ code: 130, signal: null });
    expect(exitStatusOf(3, new Set(['SIGTERM', 'SIGKILL']))).toEqual({ code: 3, signal: null });
  });
});
