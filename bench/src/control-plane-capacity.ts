/**
 * Benchmark 5 (and issue 7's figures): what a control plane serves under a load tool. Polls that
 * claim, empty polls and heartbeats per second, with p50/p99 latency, for one replica on the
 * memory store, one on Redis, and three replicas sharing one Redis. The control planes run in
 * their own processes; the load tool (autocannon) runs in the bench process.
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import type { Benchmark, SuiteSettings } from './benchmark.js';
import { DEPLOYMENTS, deploymentLabel, startDeployment, type DeploymentSpec } from './capacity/deployment.js';
import { measureClaims, measureEmptyPolls, measureHeartbeats, SCENARIOS, type RunPlan, type Scenario, type ScenarioRuns } from './capacity/scenario-runs.js';
import { redisUnavailable } from './infra/redis-process.js';
import { machineInfo, versions, type BenchCase, type BenchResult, type MetricColumn, type PlotSpec } from './result.js';
import { summarize } from './stats.js';

/** Connections per replica (one load-tool instance per replica). */
export const CONNECTIONS = 32;
/** Leases the heartbeat scenario holds, over all replicas. */
export const HELD_LEASES = 1_000;
/** Operations per connection of a run with `--items` (a smoke run): no pilot, no duration. */
const SMOKE_OPS_PER_CONNECTION = 4;

const AUTOCANNON_VERSION = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;

const COLUMNS: readonly MetricColumn[] = [
  { key: 'ops_per_s', label: 'polls or heartbeats answered', unit: '/s' },
  { key: 'requests_per_s', label: 'HTTP requests answered (with acks)', unit: '/s' },
  { key: 'p50_ms', label: 'p50', unit: 'ms' },
  { key: 'p99_ms', label: 'p99', unit: 'ms' },
  { key: 'errors', label: 'errors', unit: 'answers' },
  { key: 'seconds', label: 'run length', unit: 's' },
];

const PLOTS: readonly PlotSpec[] = [
  {
    id: 'rate',
    title: 'Control-plane capacity: polls and heartbeats answered per second',
    x: 'scenario',
    y: ['ops_per_s'],
    yLabel: 'answers per second',
    series: 'deployment',
    mark: 'bar',
  },
  {
    id: 'latency-p99',
    title: 'Control-plane capacity: p99 latency under full load',
    x: 'scenario',
    y: ['p99_ms'],
    yLabel: 'p99 latency (ms)',
    series: 'deployment',
    mark: 'bar',
  },
];

function planOf(settings: SuiteSettings, spec: DeploymentSpec): RunPlan {
  const runs = settings.runs ?? (settings.quick ? 1 : 3);
  const durationS = settings.quick ? 3 : 10;
  if (settings.items === undefined) return { runs, durationS, connections: CONNECTIONS, heldLeases: HELD_LEASES };
  // A smoke run: `items` leases, and no more connections than each replica has leases to beat.
  const heldLeases = Math.max(settings.items, spec.replicas);
  const connections = Math.min(CONNECTIONS, Math.floor(heldLeases / spec.replicas));
  return { runs, durationS, connections, heldLeases, fixedOpsPerConnection: SMOKE_OPS_PER_CONNECTION };
}

function caseOf(scenario: Scenario, spec: DeploymentSpec, plan: RunPlan, measured: ScenarioRuns | string): BenchCase {
  const params = {
    scenario,
    deployment: deploymentLabel(spec),
    connections: plan.connections,
    ...(scenario === 'heartbeat' ? { leases: plan.heldLeases } : {}),
  };
  if (typeof measured === 'string') return { params: { ...params, check: measured }, metrics: {} };
  const { runs, problems } = measured;
  return {
    params: { ...params, check: problems.length === 0 ? 'ok' : problems.join('; ') },
    metrics: {
      ops_per_s: summarize(runs.map((run) => run.opsPerS)),
      requests_per_s: summarize(runs.map((run) => run.requestsPerS)),
      p50_ms: summarize(runs.map((run) => run.p50Ms)),
      p99_ms: summarize(runs.map((run) => run.p99Ms)),
      errors: summarize(runs.map((run) => run.errors)),
      seconds: summarize(runs.map((run) => run.seconds)),
    },
  };
}

/** Every scenario on one deployment, in an order that keeps each one's preconditions (an empty queue first). */
async function measureDeployment(spec: DeploymentSpec, plan: RunPlan, settings: SuiteSettings): Promise<Map<Scenario, ScenarioRuns | string>> {
  const label = deploymentLabel(spec);
  const measured = new Map<Scenario, ScenarioRuns | string>();
  const steps: readonly [Scenario, typeof measureClaims][] = [
    ['poll_empty', measureEmptyPolls],
    ['heartbeat', measureHeartbeats],
    ['poll', measureClaims],
  ];
  let deployment;
  try {
    deployment = await startDeployment(spec);
  } catch (error) {
    for (const scenario of SCENARIOS) measured.set(scenario, `not measured: the deployment did not start: ${(error as Error).message}`);
    return measured;
  }
  try {
    for (const [scenario, measure] of steps) {
      try {
        const runs = await measure(deployment, plan);
        measured.set(scenario, runs);
        for (const [index, run] of runs.runs.entries()) {
          settings.progress?.(
            `control-plane-capacity ${label} ${scenario} run ${index + 1}/${runs.runs.length}: ${run.opsPerS.toFixed(0)}/s, ` +
              `p50 ${run.p50Ms.toFixed(2)} ms, p99 ${run.p99Ms.toFixed(2)} ms, ${run.errors} errors, ${run.seconds.toFixed(1)} s`,
          );
        }
        if (runs.problems.length > 0) settings.progress?.(`control-plane-capacity ${label} ${scenario}: CHECK FAILED: ${runs.problems.join('; ')}`);
      } catch (error) {
        measured.set(scenario, `failed: ${(error as Error).message}`);
        settings.progress?.(`control-plane-capacity ${label} ${scenario}: failed: ${(error as Error).message}`);
      }
    }
  } finally {
    await deployment.close();
  }
  return measured;
}

export const controlPlaneCapacity: Benchmark = {
  name: 'control-plane-capacity',
  async run(settings) {
    const redisMissing = redisUnavailable();
    const byDeployment = new Map<DeploymentSpec, { plan: RunPlan; measured: Map<Scenario, ScenarioRuns | string> }>();
    for (const spec of DEPLOYMENTS) {
      const plan = planOf(settings, spec);
      if (spec.store === 'redis' && redisMissing !== null) {
        settings.progress?.(`control-plane-capacity ${deploymentLabel(spec)}: not measured: ${redisMissing}`);
        byDeployment.set(spec, { plan, measured: new Map(SCENARIOS.map((scenario) => [scenario, `not measured: ${redisMissing}`])) });
        continue;
      }
      byDeployment.set(spec, { plan, measured: await measureDeployment(spec, plan, settings) });
    }
    const cases: BenchCase[] = [];
    for (const scenario of SCENARIOS) {
      for (const [spec, { plan, measured }] of byDeployment) cases.push(caseOf(scenario, spec, plan, measured.get(scenario) ?? 'not measured'));
    }
    const sample = planOf(settings, DEPLOYMENTS[0]!);
    return {
      name: 'control-plane-capacity',
      title: 'Control-plane capacity under a load tool',
      method:
        "These figures answer issue 7's question (polls and heartbeats per second served by one replica on the memory store and on Redis, and by three replicas on Redis) and are issue 8's benchmark 5. " +
        `Each replica is an \`envworker control-plane\` process on 127.0.0.1; the three replicas share one redis-server and one environment. The load tool is autocannon ${AUTOCANNON_VERSION} run as a library in the bench process, ` +
        `one instance per replica, all at once, ${sample.connections} connections each (not pipelined, so at most ${sample.connections} requests in flight per replica); the three-replica figures are the answers of all three instances over the wall time of the run. ` +
        'poll: each connection polls (no wait) an item from a queue filled beforehand with exactly as many items as polls, then acks it, as a worker does; the ack keeps the pending list as short as in service, ' +
        'so the figure does not depend on how many unacked claims a run has piled up (a poll\'s reclaim looks at the pending list), and the reclaim window is set to 1 h so that no claimed item is redelivered; ' +
        'the rate and latencies are the polls\', and the server answers as many acks besides (the HTTP requests column counts both). ' +
        'poll_empty: polls without block_ms (the contract answers block_ms=0 with a 400; omitted means no wait) on an empty queue, answered with null. ' +
        `heartbeat: ${sample.heldLeases} items are claimed, acked and made active beforehand, dealt over the replicas and their connections, and beaten in rotation with their sessions token and the last last_heartbeat as expected_last_heartbeat; a connection sends one request at a time, so an item's next beat leaves only after its previous one was answered. ` +
        'Each run is sized by a number of operations (from the rate of the previous run; for the first, of pilot runs that also warm up the servers) to last about ' +
        `${sample.durationS} s; the load tool then waits for every answer, so the state is checked exactly after each run: every poll answered with a distinct item and every ack with 200 and the queue empty after poll; ` +
        'every lease active, with the last beat seen and a live lease after heartbeat. Errors (non-200 or unexpected answers, requests never answered) must be 0 for a figure to be valid; the check column says ok or what was wrong. ' +
        `On ${cpus().length} cores the load tool, every replica and redis-server contend for the CPU, so the three-replica figure shows contention, not scaling. ` +
        (settings.quick ? 'With --quick: one run of about 3 s per scenario (full: three runs of about 10 s).' : 'Full run: three runs of about 10 s per scenario (--quick: one run of about 3 s).') +
        (redisMissing === null ? '' : ` Redis cases not measured: ${redisMissing}.`),
      generated_at: new Date().toISOString(),
      quick: settings.quick,
      machine: machineInfo(),
      versions: versions(),
      parameters: {
        runs: sample.runs,
        target_run_seconds: sample.durationS,
        connections_per_replica: sample.connections,
        held_leases: sample.heldLeases,
        cores: cpus().length,
        load_tool: `autocannon ${AUTOCANNON_VERSION}`,
        deployments: DEPLOYMENTS.map(deploymentLabel),
        ...(redisMissing === null ? {} : { redis: `not measured: ${redisMissing}` }),
      },
      columns: COLUMNS,
      cases,
      goals: [],
      plots: PLOTS,
    } satisfies BenchResult;
  },
};
