/**
 * The three scenarios of the capacity benchmark on one deployment: each run loads every replica at
 * once (one load-tool instance per replica, the same number of connections each), then checks the
 * server's state against the answers. A run is sized to last about the target duration from the
 * rate of the run before it (for the first, of pilot runs, which also warm up the servers).
 */
import { WorkClient } from '@envworker/core';
import type { ControlPlaneProcess } from '../infra/control-plane-process.js';
import { runLoad, type LoadOutcome, type LoadTarget } from '../infra/load-tool.js';
import { percentile } from '../stats.js';
import type { Deployment } from './deployment.js';
import { claimLeases, countBrokenLeases, releaseLeases } from './held-leases.js';
import { claimLane, emptyPollLane, enqueueLane, heartbeatLane, type ClaimLedger, type HeldLease } from './lanes.js';

export const SCENARIOS = ['poll', 'poll_empty', 'heartbeat'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Operations per connection of the first pilot run; each next pilot has four times as many. */
const PILOT_OPS_PER_CONNECTION = 50;
/** Pilots grow until one lasts this long, so that the estimate is not just connection setup. */
const PILOT_MIN_S = 0.5;
const MAX_PILOTS = 5;
/** Then one more pilot is sized from that estimate to last this long: the servers are warm by its end. */
const LAST_PILOT_S = 1;

/** A load run is cut off (and its check fails) after this long plus five times its target duration. */
const DEADLINE_BASE_MS = 30_000;

function deadlineOf(plan: RunPlan): number {
  return DEADLINE_BASE_MS + 5 * plan.durationS * 1000;
}

/** How the runs of a scenario are sized. */
export interface RunPlan {
  readonly runs: number;
  /** Target length of a run, in seconds. */
  readonly durationS: number;
  /** Connections per replica. */
  readonly connections: number;
  /** Leases the heartbeat scenario holds, over all replicas. */
  readonly heldLeases: number;
  /** A fixed number of operations per connection and no pilot (tiny smoke runs), instead of sizing by duration. */
  readonly fixedOpsPerConnection?: number;
}

/** The figures of one run. */
export interface RunFigures {
  /** Operations of the scenario (polls or heartbeats) answered per second. */
  readonly opsPerS: number;
  /** Every HTTP request answered per second (with the acks of `poll`). */
  readonly requestsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers not as expected, plus requests never answered. */
  readonly errors: number;
  readonly seconds: number;
}

/** The runs of one scenario, and what the checks after them found wrong (empty when nothing). */
export interface ScenarioRuns {
  readonly runs: readonly RunFigures[];
  readonly problems: readonly string[];
}

type OneRun = (opsPerConnection: number) => Promise<{ figures: RunFigures; problems: string[] }>;

function figuresOf(outcome: LoadOutcome, kind: string): RunFigures {
  const ops = outcome.byKind.get(kind)?.latenciesMs ?? [];
  let failed = outcome.unanswered;
  for (const entry of outcome.byKind.values()) failed += entry.failed;
  const seconds = outcome.elapsedMs / 1000;
  return {
    opsPerS: ops.length / seconds,
    requestsPerS: outcome.answers / seconds,
    p50Ms: ops.length === 0 ? Number.NaN : percentile(ops, 50),
    p99Ms: ops.length === 0 ? Number.NaN : percentile(ops, 99),
    errors: failed,
    seconds,
  };
}

async function queueProblems(replica: ControlPlaneProcess, when: string): Promise<string[]> {
  const client = new WorkClient({ baseUrl: replica.url, environmentId: replica.environmentId, environmentKey: replica.environmentKey });
  try {
    const stats = await client.stats();
    return stats.depth === 0 && stats.pending === 0 ? [] : [`${when}: the queue held depth ${stats.depth}, pending ${stats.pending}, expected 0 and 0`];
  } finally {
    await client.close();
  }
}

async function runPlanned(plan: RunPlan, replicas: number, once: OneRun): Promise<ScenarioRuns> {
  const problems: string[] = [];
  const runs: RunFigures[] = [];
  const lasting = (seconds: number, rate: number): number => Math.max(1, Math.ceil((rate * seconds) / (replicas * plan.connections)));
  async function pilot(perConnection: number): Promise<RunFigures> {
    const { figures, problems: found } = await once(perConnection);
    problems.push(...found.map((problem) => `pilot: ${problem}`));
    return figures;
  }
  let estimate = 0;
  if (plan.fixedOpsPerConnection === undefined) {
    for (let count = 0, perConnection = PILOT_OPS_PER_CONNECTION; count < MAX_PILOTS; count += 1, perConnection *= 4) {
      const figures = await pilot(perConnection);
      estimate = figures.opsPerS;
      if (figures.seconds >= PILOT_MIN_S) break;
    }
    estimate = (await pilot(lasting(LAST_PILOT_S, estimate))).opsPerS;
  }
  for (let run = 0; run < plan.runs; run += 1) {
    const perConnection = plan.fixedOpsPerConnection ?? lasting(plan.durationS, estimate);
    const { figures, problems: found } = await once(perConnection);
    problems.push(...found.map((problem) => `run ${run + 1}: ${problem}`));
    runs.push(figures);
    estimate = figures.opsPerS;
  }
  return { runs, problems };
}

function failedAnswers(outcome: LoadOutcome): string[] {
  const problems = [...outcome.byKind].filter(([, entry]) => entry.failed > 0).map(([kind, entry]) => `${entry.failed} ${kind} answers not as expected`);
  if (outcome.unanswered > 0) problems.push(`${outcome.unanswered} requests unanswered`);
  if (outcome.cutOff) problems.push(`cut off after ${(outcome.elapsedMs / 1000).toFixed(0)} s with ${outcome.answers} answers in`);
  return problems;
}

/** `poll_empty`: polls without a wait on an empty queue. */
export async function measureEmptyPolls(deployment: Deployment, plan: RunPlan): Promise<ScenarioRuns> {
  const { replicas } = deployment;
  return runPlanned(plan, replicas.length, async (perConnection) => {
    const targets: LoadTarget[] = replicas.map((replica, r) => ({
      origin: replica.url,
      connections: plan.connections,
      amount: plan.connections * perConnection,
      lane: (i) => emptyPollLane(replica.environmentId, replica.environmentKey, `capacity-empty-${r}-${i}`),
    }));
    const outcome = await runLoad(targets, deadlineOf(plan));
    return { figures: figuresOf(outcome, 'poll'), problems: [...failedAnswers(outcome), ...(await queueProblems(replicas[0]!, 'after the run'))] };
  });
}

/** Queues `perReplica` items through each replica at once, with the same load tool. */
async function fill(replicas: readonly ControlPlaneProcess[], plan: RunPlan, perReplica: number): Promise<string[]> {
  const outcome = await runLoad(
    replicas.map((replica) => ({ origin: replica.url, connections: plan.connections, amount: perReplica, lane: () => enqueueLane(replica.environmentId, replica.adminKey) })),
    deadlineOf(plan),
  );
  return failedAnswers(outcome).map((problem) => `filling the queue: ${problem}`);
}

/** `poll`: each connection polls an item and acks it, over a queue filled with exactly as many items as polls. */
export async function measureClaims(deployment: Deployment, plan: RunPlan): Promise<ScenarioRuns> {
  const { replicas } = deployment;
  return runPlanned(plan, replicas.length, async (perConnection) => {
    const polls = replicas.length * plan.connections * perConnection;
    const problems = await fill(replicas, plan, plan.connections * perConnection);
    const ledger: ClaimLedger = { claimed: new Set(), duplicates: 0 };
    const targets: LoadTarget[] = replicas.map((replica, r) => ({
      origin: replica.url,
      connections: plan.connections,
      amount: 2 * plan.connections * perConnection,
      lane: (i) => claimLane(replica.environmentId, replica.environmentKey, `capacity-claim-${r}-${i}`, ledger),
    }));
    const outcome = await runLoad(targets, deadlineOf(plan));
    problems.push(...failedAnswers(outcome));
    const answeredPolls = outcome.byKind.get('poll')?.latenciesMs.length ?? 0;
    if (answeredPolls !== polls || ledger.claimed.size !== polls) {
      problems.push(`${polls} polls sent, ${answeredPolls} answered, ${ledger.claimed.size} distinct items claimed`);
    }
    if (ledger.duplicates > 0) problems.push(`${ledger.duplicates} items were handed out twice`);
    problems.push(...(await queueProblems(replicas[0]!, 'after the run')));
    return { figures: figuresOf(outcome, 'poll'), problems };
  });
}

/** Splits `items` into `parts` nearly equal parts, dealt round-robin. */
function deal<T>(items: readonly T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, part) => items.filter((_, index) => index % parts === part));
}

/**
 * `heartbeat`: `plan.heldLeases` leases, dealt over the replicas and then over each replica's
 * connections, beaten in rotation; after each run every lease is read back. The leases are
 * stopped at the end.
 */
export async function measureHeartbeats(deployment: Deployment, plan: RunPlan): Promise<ScenarioRuns> {
  const { replicas } = deployment;
  const shares = deal(Array.from({ length: plan.heldLeases }, (_, i) => i), replicas.length).map((share) => share.length);
  const held: HeldLease[][] = await Promise.all(replicas.map((replica, r) => claimLeases(replica, shares[r]!, `capacity-setup-${r}`)));
  const lanes = held.map((leases) => deal(leases, plan.connections));
  try {
    return await runPlanned(plan, replicas.length, async (perConnection) => {
      const targets: LoadTarget[] = replicas.map((replica, r) => ({
        origin: replica.url,
        connections: plan.connections,
        amount: plan.connections * perConnection,
        lane: (i) => heartbeatLane(replica.environmentId, lanes[r]![i]!),
      }));
      const outcome = await runLoad(targets, deadlineOf(plan));
      const problems = failedAnswers(outcome);
      const broken = await countBrokenLeases(replicas[0]!, held.flat());
      if (broken > 0) problems.push(`${broken} of ${plan.heldLeases} leases were not active with the last beat seen and a live lease`);
      return { figures: figuresOf(outcome, 'heartbeat'), problems };
    });
  } finally {
    await Promise.all(replicas.map((replica, r) => releaseLeases(replica, held[r]!)));
  }
}
