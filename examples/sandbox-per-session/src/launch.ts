/**
 * The sandbox-per-session launcher: one container per work item, whose entrypoint is
 * `envworker run`.
 *
 * 1. A local control plane (`startControlPlane`) with `--items` items in its queue.
 * 2. A handover poller (`src/handover-poller.ts`, in the style of `ant beta:worker poll --on-work`):
 *    it polls, acks and runs `on-work.sh` per item, `--concurrency` at once, and never heartbeats.
 * 3. `on-work.sh` runs `docker run … node /envworker/packages/cli/bin/envworker.js run -- sh -c …`:
 *    inside the container `envworker run` holds the lease while the session's command runs, then
 *    stops the item.
 * 4. Once every script has ended: the items as the operator sees them (`list`, `stats`), and a
 *    summary. Exit 0 when every item was served and stopped by its `envworker run`, 1 otherwise,
 *    2 for a bad flag or when Docker or the image is missing.
 *
 *   pnpm --filter @envworker/example-sandbox-per-session start -- --items 6 --concurrency 3
 */
import { fileURLToPath } from 'node:url';
import { WorkClient, type Work } from '@envworker/core';
import { startControlPlane } from '@envworker/control-plane';
import { dockerUnavailableReason } from './docker-check.js';
import { startHandoverPoller } from './handover-poller.js';
import { parseLaunchOptions, UsageError, USAGE, type LaunchOptions } from './launch-options.js';

const ON_WORK_SCRIPT = fileURLToPath(new URL('../on-work.sh', import.meta.url));
/** Mounted read-only into each container: the CLI runs from its sources there. */
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
/** What `envworker run` logs once it has stopped the item itself. */
const RUN_STOPPED_LINE = /stopped the work item/;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** What happened to one item, as the launcher saw it. */
interface ItemRecord {
  exitCode: number | null | undefined;
  runStoppedIt: boolean;
}

/** Host variables the on-work script needs: PATH for docker, and where the docker daemon is. */
function hostEnv(options: LaunchOptions): Record<string, string> {
  const env: Record<string, string> = { ENVWORKER_REPO: REPO_ROOT, ENVWORKER_SESSION_IMAGE: options.image };
  for (const name of ['PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONFIG'] as const) {
    const value = process.env[name];
    if (value !== undefined && value !== '') env[name] = value;
  }
  return env;
}

async function main(options: LaunchOptions): Promise<number> {
  const reason = await dockerUnavailableReason(options.image);
  if (reason !== null) {
    process.stderr.write(`launch: ${reason}\n`);
    return 2;
  }
  const startedAt = Date.now();
  const controlPlane = await startControlPlane();
  const [environment] = controlPlane.environments;
  if (environment === undefined) throw new Error('the local control plane has no environment');
  const operator = new WorkClient({ baseUrl: controlPlane.url, environmentId: environment.id, apiKey: controlPlane.adminKey });
  const records = new Map<string, ItemRecord>();
  for (let n = 0; n < options.items; n += 1) {
    const work = await controlPlane.enqueue({ metadata: { n: String(n) } });
    records.set(work.id, { exitCode: undefined, runStoppedIt: false });
  }
  print(`launch: control plane ${controlPlane.url}, environment ${environment.id}; enqueued ${options.items} items`);
  print(`launch: handover poller, ${options.concurrency} containers at a time, image ${options.image}`);

  let ended = 0;
  let allEnded: () => void = () => undefined;
  const everyScriptEnded = new Promise<void>((resolve) => (allEnded = resolve));
  const poller = startHandoverPoller({
    baseUrl: controlPlane.url,
    environmentId: environment.id,
    environmentKey: environment.key,
    workerId: `sandbox-per-session-${process.pid}`,
    onWork: ON_WORK_SCRIPT,
    maxConcurrency: options.concurrency,
    env: hostEnv(options),
    report: {
      handedOver: (work: Work, pid) => print(`handed over ${work.id} (session ${work.data.id}) to on-work.sh, pid ${pid ?? '?'}`),
      line(workId, _stream, text) {
        print(`  ${workId} | ${text}`);
        const record = records.get(workId);
        if (record !== undefined && RUN_STOPPED_LINE.test(text)) record.runStoppedIt = true;
      },
      exited(workId, code, signal) {
        print(`on-work.sh for ${workId} exited ${code ?? signal ?? '?'}`);
        const record = records.get(workId);
        if (record === undefined || record.exitCode !== undefined) return;
        record.exitCode = code;
        ended += 1;
        if (ended === records.size) allEnded();
      },
      problem: (text) => print(`launch: ${text}`),
    },
  });

  let timer: NodeJS.Timeout | undefined;
  const cutShort = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`the deadline of ${options.deadlineMs / 1000} s passed`), options.deadlineMs);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(`${signal} received`));
  });
  let items: Work[] = [];
  let depth = -1;
  let cut: string | null;
  try {
    cut = await Promise.race([everyScriptEnded.then(() => null), cutShort]);
    await poller.shutdown(cut === null ? 'drain' : 'stop');
    // The operator's view: every item should be stopped, by the `envworker run` that held it.
    for await (const work of operator.listAll()) items.push(work);
    items = items.filter((work) => records.has(work.id));
    depth = (await operator.stats()).depth;
  } finally {
    clearTimeout(timer);
    await operator.close();
    await controlPlane.close();
  }

  if (cut !== null) print(`launch: cut short: ${cut}`);
  print('summary');
  let good = 0;
  for (const work of items) {
    const record = records.get(work.id) as ItemRecord;
    // The handover poller never heartbeats: an item that reached `active` (started_at set) had its
    // lease held by the `envworker run` in its container, and that run logged the stop it made.
    const held = work.started_at !== null;
    const ok = work.state === 'stopped' && held && record.runStoppedIt && record.exitCode === 0;
    if (ok) good += 1;
    print(
      `  ${work.id}  ${work.state.padEnd(8)}  active at ${work.started_at ?? '-'}  stopped at ${work.stopped_at ?? '-'}  ` +
        `on-work exit ${record.exitCode ?? '-'}  lease held and item stopped by envworker run: ${held && record.runStoppedIt ? 'yes' : 'no'}`,
    );
  }
  print(`  ${good}/${records.size} items served in their own container and stopped by their holder; queue depth ${depth}; ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  return cut === null && good === records.size && items.length === records.size ? 0 : 1;
}

let options: LaunchOptions | 'help';
try {
  options = parseLaunchOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`launch: ${error.message} (see --help)\n`);
  process.exit(2);
}
if (options === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
}
main(options).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`launch: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
