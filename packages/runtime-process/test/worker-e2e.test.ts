/**
 * The worker with the process runtime, end to end: `createWorker` against the local control plane
 * over real HTTP, each item an `sh` on-work script reading its item from standard input. 30 items:
 * one whose script exits 3, one stopped gracefully by an operator, whose script sees SIGTERM.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createWorker, decodeWorkSecret, WorkClient, type WorkerEvent } from '@envworker/core';
import { startControlPlane, type ControlPlane } from '@envworker/control-plane';
import { processRuntime } from '../src/index.js';
import { TempRoot, within } from './support/harness.js';

/**
 * An on-work script as one would write it for `worker poll --on-work`: the item JSON on stdin,
 * the ids and credentials in the environment. It prints its secret on purpose: the worker's
 * logs must not show it all the same.
 */
const ON_WORK_SCRIPT = `
IFS= read -r item
case "$item" in
  *'"mode":"fail"'*)
    echo "failing on purpose" >&2
    exit 3 ;;
  *'"mode":"wait"'*)
    trap 'echo "saw SIGTERM"; touch "$E2E_MARKERS/$ANTHROPIC_WORK_ID.sigterm"; exit 0' TERM
    echo "waiting for a stop"
    while :; do sleep 0.05; done ;;
esac
case "$item" in *"\\"id\\":\\"$ANTHROPIC_WORK_ID\\""*) ;; *) echo "the item on stdin is not $ANTHROPIC_WORK_ID" >&2; exit 4 ;; esac
echo "serving $ANTHROPIC_WORK_ID in $(pwd) with secret $ANTHROPIC_WORK_SECRET and key $ANTHROPIC_ENVIRONMENT_KEY"
printf '%s' "$ANTHROPIC_WORK_SECRET" > "$E2E_MARKERS/$ANTHROPIC_WORK_ID.done"
`;

const root = new TempRoot();
let cp: ControlPlane;

beforeAll(async () => {
  await root.create('process-e2e');
  cp = await startControlPlane({ lease: { minTtlSeconds: 1, maxTtlSeconds: 600, defaultTtlSeconds: 120 } });
});

afterAll(async () => {
  await cp.close();
  await root.remove();
});

it('completes 30 items; a script exiting 3 fails its item; an operator stop reaches its script as SIGTERM; no secret is logged', async () => {
  const environment = cp.environments[0];
  if (environment === undefined) throw new Error('no environment');
  const markers = root.path('markers');
  const workdirRoot = root.path('workdirs');
  const stateDir = root.path('state');
  await mkdir(markers);
  process.env['E2E_MARKERS'] = markers;
  const logLines: string[] = [];
  const events: WorkerEvent[] = [];

  const modes = Array.from({ length: 30 }, (_, index) => (index === 7 ? 'fail' : index === 19 ? 'wait' : 'ok'));
  const items = await Promise.all(modes.map((mode) => cp.enqueue({ metadata: { mode } })));
  const failing = items[7];
  const waiting = items[19];
  if (failing === undefined || waiting === undefined) throw new Error('items missing');
  // Resolves once the waiting item's script says it has set its trap.
  let watchLine: (record: Record<string, unknown>) => void = () => undefined;
  const waitingReady = new Promise<void>((resolve) => {
    watchLine = (record) => {
      if (record['work_id'] === waiting.id && record['msg'] === 'waiting for a stop') resolve();
    };
  });

  const worker = createWorker({
    baseUrl: cp.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    runtime: processRuntime({ command: [ON_WORK_SCRIPT], shell: true, inheritEnv: ['PATH', 'E2E_MARKERS'], stateDir }),
    maxConcurrency: 8,
    pollers: 2,
    pollIdleDelayMs: [0, 0],
    leaseTtlSeconds: 3,
    stopGraceMs: 5000,
    workdirRoot,
    logger: {
      level: 'debug',
      destination: {
        write: (line: string) => {
          logLines.push(line);
          watchLine(JSON.parse(line) as Record<string, unknown>);
        },
      },
    },
  });
  const allStopped = new Promise<void>((resolve) => {
    worker.events$.subscribe((event) => {
      events.push(event);
      if (events.filter((seen) => seen.type === 'stopped').length === 30) resolve();
    });
  });

  const admin = new WorkClient({ baseUrl: cp.url, environmentId: environment.id, apiKey: cp.adminKey });
  try {
    await worker.start();
    // The operator stops the item once its script has set its trap (it says so on stdout).
    await within(waitingReady, 10_000, 'the waiting script');
    await admin.stop(waiting.id, { force: false });
    await within(allStopped, 20_000, '30 items stopped');
    for (const work of items) expect((await admin.get(work.id)).state, work.id).toBe('stopped');
  } finally {
    await worker.shutdown({ mode: 'stop' });
    await admin.close();
    delete process.env['E2E_MARKERS'];
  }

  const stopped = events.filter((event): event is Extract<WorkerEvent, { type: 'stopped' }> => event.type === 'stopped');
  const outcomeOf = (id: string): Extract<WorkerEvent, { type: 'stopped' }> | undefined => stopped.find((event) => event.work_id === id);
  expect(outcomeOf(failing.id)).toMatchObject({ outcome: 'failed', stop_call: 'done', exit: { code: 3, reason: 'exited' } });
  expect(outcomeOf(waiting.id)).toMatchObject({ outcome: 'stopped_by_control_plane', stop_call: 'done', exit: { code: 0, reason: 'stopped' } });
  const completed = items.filter((work) => work !== failing && work !== waiting);
  for (const work of completed) expect(outcomeOf(work.id), work.id).toMatchObject({ outcome: 'completed', exit: { code: 0, reason: 'exited' } });

  // The scripts ran: every completed one left its marker, and the stopped one saw SIGTERM.
  expect((await readdir(markers)).sort()).toEqual([...completed.map((work) => `${work.id}.done`), `${waiting.id}.sigterm`].sort());
  const lines = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.some((record) => record['work_id'] === waiting.id && record['msg'] === 'saw SIGTERM')).toBe(true);
  expect(lines.some((record) => record['work_id'] === failing.id && record['msg'] === 'failing on purpose' && record['sandbox_stream'] === 'stderr')).toBe(true);

  // Each script's output is logged under its own item, each ran in its own work directory, and
  // the credentials it printed are scrubbed.
  const serving = lines.filter((record) => typeof record['msg'] === 'string' && record['msg'].startsWith('serving '));
  expect(serving).toHaveLength(28);
  const workdirs = new Set<string>();
  for (const record of serving) {
    const [, id, workdir, rest] = /^serving (\S+) in (\S+) (.*)$/.exec(record['msg'] as string) ?? [];
    expect(id).toBe(record['work_id']);
    expect(workdir?.startsWith(join(workdirRoot, `${id}-`))).toBe(true);
    expect(rest).toBe('with secret [redacted] and key [redacted]');
    workdirs.add(workdir as string);
  }
  expect(workdirs.size).toBe(28);

  // Each script was handed its own item's secret (it wrote it to its marker), and no credential
  // is in any log line or event: not the environment key, no secret, no sessions token.
  const secrets = await Promise.all(completed.map((work) => readFile(join(markers, `${work.id}.done`), 'utf8')));
  expect(new Set(secrets).size).toBe(28);
  const everything = logLines.join('') + JSON.stringify(events);
  expect(everything).not.toContain(environment.key);
  for (const secret of secrets) {
    const token = decodeWorkSecret(secret).secret?.sessions_token;
    expect(token).toEqual(expect.any(String));
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(token);
  }

  // Nothing is left: no work directory (the root was given, so it stays), no state file.
  expect(await readdir(workdirRoot)).toEqual([]);
  for (const workerDir of await readdir(stateDir)) expect(await readdir(join(stateDir, workerDir))).toEqual([]);
});
