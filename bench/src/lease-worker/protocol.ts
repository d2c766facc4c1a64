/**
 * The messages between a lease benchmark and its worker process (Node IPC, JSON). The parent sends
 * a command and waits for its one answer; the worker also tells the parent, unasked, when all of
 * its leases are held, and when something failed.
 */

/** How the worker process's worker is set up. */
export interface LeaseWorkerConfig {
  readonly baseUrl: string;
  readonly environmentId: string;
  readonly environmentKey: string;
  /** Leases to hold: the worker's `maxConcurrency`, and the count of items the parent queues. */
  readonly leases: number;
  readonly pollers: number;
  readonly leaseTtlSeconds: number;
  /** Absolute directory for the function runtime's per-item work directories. */
  readonly workdirRoot: string;
  /** Run `global.gc()` before every memory sample (needs `--expose-gc`). */
  readonly gcBeforeSample: boolean;
}

/** The worker process's memory, in bytes. */
export interface MemorySample {
  readonly rss: number;
  readonly heapUsed: number;
}

/** What the worker saw during a measurement window. */
export interface WindowFigures {
  readonly wallMs: number;
  /** User + system CPU time of the worker process over the window. */
  readonly cpuMs: number;
  /** Renewed beats (`lease_renewed`) in the window. */
  readonly beats: number;
  readonly latenessP50Ms: number;
  readonly latenessP99Ms: number;
  readonly latenessMaxMs: number;
  /** Largest RSS of the once-a-second samples in the window, and the RSS at its end. */
  readonly rssMax: number;
  readonly rssEnd: number;
  /** Event-loop delay (`monitorEventLoopDelay`, 10 ms resolution): how long a ready callback waited. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Garbage-collection pauses in the window (`gc` performance entries). */
  readonly gcPauseTotalMs: number;
  readonly gcPauseMaxMs: number;
  /** Items lost so far (as `EndFigures.lost`). */
  readonly lostSoFar: number;
}

/** How the held items ended. */
export interface EndFigures {
  /** Items whose lease was lost or that ended other than by the shutdown, each counted once. */
  readonly lost: number;
  /** Of those, the ones lost after the shutdown began. */
  readonly lostInShutdown: number;
  /** `lease_lost` events by reason (`precondition`, `stale`, `fatal`). */
  readonly lostReasons: Readonly<Record<string, number>>;
  /** How long the shutdown took. */
  readonly shutdownMs: number;
  /** `lease_lost` events from start to the end of the shutdown. */
  readonly leaseLostEvents: number;
  /** Items that ended before the shutdown began, or with an outcome other than `shutdown`. */
  readonly endedOtherwise: number;
  /** Items stopped by the shutdown (outcome `shutdown`). */
  readonly endedByShutdown: number;
}

export type ParentMessage =
  /** Create and start the worker; answered by `idle` after a settling pause. */
  | { readonly type: 'start'; readonly config: LeaseWorkerConfig; readonly settleMs: number }
  /** Begin a measurement window; answered by `window_started`. */
  | { readonly type: 'begin_window' }
  /** End it; answered by `window`. */
  | { readonly type: 'end_window' }
  /** Answered by `round` once every held lease has been renewed once more since all were held. */
  | { readonly type: 'after_round' }
  /** Shut the worker down (`mode: 'stop'`); answered by `ended`, then the process exits. */
  | { readonly type: 'shutdown' };

export type ChildMessage =
  | { readonly type: 'idle'; readonly memory: MemorySample }
  /** Sent unasked: every lease is held (each item's sandbox has started). */
  | { readonly type: 'held' }
  | { readonly type: 'window_started' }
  | { readonly type: 'window'; readonly figures: WindowFigures }
  | { readonly type: 'round'; readonly memory: MemorySample; readonly lostSoFar: number }
  | { readonly type: 'ended'; readonly figures: EndFigures }
  /** Sent unasked: the worker failed (a fatal poll error, a bad command); the process then exits 1. */
  | { readonly type: 'failed'; readonly error: string };
