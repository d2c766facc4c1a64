/**
 * The HTTP load tool of the control-plane capacity benchmark: autocannon, run as a library in the
 * bench process, with a script per connection (a {@link Lane}) so that each request can depend on
 * the previous answer (an ack of the item a poll claimed; a heartbeat echoing its item's last
 * `last_heartbeat`). Connections are not pipelined, so a lane's next request is built only after
 * its previous answer arrived: the per-item ordering of heartbeats follows from giving each item
 * to one lane.
 *
 * Runs are sized by a number of answers (autocannon's `amount`), not by a duration: autocannon then
 * ends only once every answer is in, so the caller can check the server's state against the
 * answers exactly (a duration-bound run drops the answers in flight at its end). The time is
 * measured here, from the start to the last answer (autocannon's own duration is rounded up to its
 * sampling tick).
 */
import autocannon from 'autocannon';

/** One request a lane sends. */
export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query, e.g. `/v1/environments/env_…/work/poll`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** How a lane judged one answer: the kind of request it was, and whether it was the expected answer. */
export interface LaneVerdict {
  readonly kind: string;
  readonly ok: boolean;
}

/** The script of one connection. */
export interface Lane {
  /** The next request; called right before it is sent. */
  next(): LoadRequest;
  /** The answer to the request `next` returned last. */
  answer(status: number, body: string): LaneVerdict;
}

/** One autocannon instance: `connections` lanes against one server, `amount` answers in all. */
export interface LoadTarget {
  /** The server's origin, e.g. `http://127.0.0.1:8780`. */
  readonly origin: string;
  readonly connections: number;
  /** Answers to collect; autocannon spreads them evenly over the connections. At least `connections`. */
  readonly amount: number;
  /** The lane of connection `index` (0-based). */
  readonly lane: (index: number) => Lane;
}

/** The answers of one kind of request. */
export interface KindOutcome {
  /** Latency of every answer of this kind, in milliseconds, in arrival order. */
  readonly latenciesMs: readonly number[];
  /** Answers the lane judged not as expected (a non-200, an empty poll where an item was due, …). */
  readonly failed: number;
}

/** What a load run saw, over every target. */
export interface LoadOutcome {
  /** From the start of the run to its last answer, in milliseconds. */
  readonly elapsedMs: number;
  /** Every answer received. */
  readonly answers: number;
  readonly byKind: ReadonlyMap<string, KindOutcome>;
  /** Connection errors and timeouts: requests that got no answer. */
  readonly unanswered: number;
  /** The run was cut off at its deadline before every answer was in. */
  readonly cutOff: boolean;
}

/** Seconds a request may wait for its answer before autocannon counts a timeout and reconnects. */
const REQUEST_TIMEOUT_S = 10;
/**
 * autocannon's sampling tick in milliseconds; a run ends at the first tick after its last answer,
 * so the default (1 s) would add up to a second of idle time to every run. The samples are unused.
 */
const SAMPLE_INTERVAL_MS = 20;

interface MutableKind {
  readonly latenciesMs: number[];
  failed: number;
}

/**
 * Runs every target at once (one autocannon instance each, in this process) and resolves when
 * all have collected their answers, or when `deadlineMs` has passed (then every instance is
 * stopped and the outcome says it was cut off).
 */
export async function runLoad(targets: readonly LoadTarget[], deadlineMs: number): Promise<LoadOutcome> {
  for (const target of targets) {
    if (!Number.isInteger(target.connections) || target.connections < 1) throw new RangeError('runLoad: connections must be a positive integer');
    if (!Number.isInteger(target.amount) || target.amount < target.connections) throw new RangeError('runLoad: amount must be an integer ≥ connections');
  }
  const byKind = new Map<string, MutableKind>();
  const lastKind = new WeakMap<object, string>();
  let answers = 0;
  let unanswered = 0;
  let lastAnswerAt = 0;
  let cutOff = false;
  const instances: autocannon.Instance[] = [];
  const deadline = setTimeout(() => {
    cutOff = true;
    for (const instance of instances) instance.stop();
  }, deadlineMs);
  const startedAt = performance.now();

  function record(kind: string, ok: boolean): void {
    let entry = byKind.get(kind);
    if (entry === undefined) {
      entry = { latenciesMs: [], failed: 0 };
      byKind.set(kind, entry);
    }
    if (!ok) entry.failed += 1;
  }

  try {
    await Promise.all(
      targets.map(
        (target) =>
          new Promise<void>((resolve, reject) => {
            let nextLane = 0;
            const instance = autocannon(
              {
                url: target.origin,
                connections: target.connections,
                amount: target.amount,
                pipelining: 1,
                timeout: REQUEST_TIMEOUT_S,
                sampleInt: SAMPLE_INTERVAL_MS,
                setupClient(client) {
                  const lane = target.lane(nextLane);
                  nextLane += 1;
                  client.setRequests([
                    {
                      setupRequest: (request) => ({ ...request, ...lane.next() }),
                      onResponse: (status, body) => {
                        const verdict = lane.answer(status, body);
                        lastKind.set(client, verdict.kind);
                        record(verdict.kind, verdict.ok);
                      },
                    },
                  ]);
                },
              },
              (error: unknown) => (error === null || error === undefined ? resolve() : reject(error instanceof Error ? error : new Error(String(error)))),
            );
            // Emitted right after the lane's `onResponse` for the same answer, with its latency.
            instance.on('response', (client, _status, _bytes, responseTimeMs) => {
              answers += 1;
              lastAnswerAt = performance.now();
              const kind = lastKind.get(client);
              if (kind !== undefined) byKind.get(kind)?.latenciesMs.push(responseTimeMs);
            });
            instance.on('reqError', () => {
              unanswered += 1;
            });
            instances.push(instance);
          }),
      ),
    );
  } finally {
    clearTimeout(deadline);
  }
  return { elapsedMs: Math.max(lastAnswerAt - startedAt, 0), answers, byKind, unanswered, cutOff };
}
