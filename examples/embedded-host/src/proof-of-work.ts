/**
 * The work each item does in this host: a small proof of work over its session id. It stands for
 * real work a host would do per session, and its result can be checked by anyone who sees the
 * printed line: sha256(`<session id>:<nonce>`) is the printed hash, with the wanted leading zeros.
 *
 * It reads the item the way an `--on-work` script does (the item JSON on standard input, its ids
 * in the environment), so moving it to the process runtime later changes where it runs, not what
 * it reads.
 */
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { WorkSchema, type WorkFunction } from '@envworker/core';

/** Options of {@link proofOfWorkFunction}. */
export interface ProofOfWorkOptions {
  /** Leading zero hex digits the hash must have (each one multiplies the expected work by 16). */
  readonly difficulty: number;
  /** The item takes at least this long, counted from its start: a session outlives its computation. */
  readonly itemMs: number;
}

/** A found proof: sha256(`${subject}:${nonce}`) is `hash`, found after `hashes` tries. */
export interface Proof {
  readonly nonce: number;
  readonly hash: string;
  readonly hashes: number;
}

/** Hashes tried between two yields to the event loop. */
const BATCH = 2048;

/**
 * Finds the smallest nonce whose hash has `difficulty` leading zero hex digits. It yields to the
 * event loop between batches: it runs in the worker's own process, where heartbeats of every item
 * (this one included) must keep going while it computes. Rejects once `signal` aborts.
 */
export async function findProof(subject: string, difficulty: number, signal: AbortSignal): Promise<Proof> {
  const zeros = '0'.repeat(difficulty);
  for (let nonce = 0; ; nonce += 1) {
    if (nonce % BATCH === 0 && nonce > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      signal.throwIfAborted();
    }
    const hash = createHash('sha256').update(`${subject}:${nonce}`).digest('hex');
    if (hash.startsWith(zeros)) return { nonce, hash, hashes: nonce + 1 };
  }
}

/**
 * The host's work function: checks that standard input and the environment name the same item,
 * finds the proof over the session id, writes one line with it (through the worker's logger, which
 * scrubs credentials), and then holds the item until `itemMs` have passed. A stop (the worker's
 * polite signal) ends it early, with code 1.
 */
export function proofOfWorkFunction(options: ProofOfWorkOptions): WorkFunction {
  return async (_work, ctx) => {
    const began = performance.now();
    const item = WorkSchema.parse(JSON.parse(ctx.stdin));
    if (item.id !== ctx.env.ANTHROPIC_WORK_ID) {
      throw new Error(`standard input holds ${item.id} but ANTHROPIC_WORK_ID is ${ctx.env.ANTHROPIC_WORK_ID}`);
    }
    const subject = ctx.env.ANTHROPIC_SESSION_ID;
    const proof = await findProof(subject, options.difficulty, ctx.signal);
    const label = item.metadata['n'] === undefined ? '' : `, n=${item.metadata['n']}`;
    ctx.write(`proof ${subject}:${proof.nonce} sha256=${proof.hash} (${proof.hashes} hashes${label})`);
    const rest = options.itemMs - (performance.now() - began);
    if (rest > 0) await delay(rest, undefined, { signal: ctx.signal });
  };
}
