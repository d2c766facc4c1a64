/**
 * The sandbox-per-session launcher: one container per work item, whose entrypoint is
 * `envworker run`.
 *
 * 1. A local control plane (`startControlPlane`) with `--items` items in its queue.
 * 2. A handover poller (`src/handover-poller.ts`, in the style of `ant beta:worker poll --on-work`):
 *    it polls, acks and runs `on-work.sh` per item, `--concurrency` at once, and never heartbeats.
 * 3. `on-work.sh` runs `docker run … node /envworker/packages/cli/bin/envworker.js run`: inside
 *    the container `envworker run`, with no command, holds the lease while it serves the item's
 *    agent session itself (each item's scripted agent calls bash, write, read and glob in the
 *    container's /workspace), then stops the item.
 * 4. Once every script has ended: the items as the operator sees them (`list`, `stats`), the tool
 *    results the control plane's session simulator received, and a summary. Exit 0 when every
 *    item was served and stopped by its `envworker run` with every result as its script expects,
 *    1 otherwise, 2 for a bad flag or when Docker or the image is missing.
 *
 *   pnpm --filter @envworker/example-sandbox-per-session start -- --items 6 --concurrency 3
 */
import { fileURLToPath } from 'node:url';
import { WorkClient, type ScriptStep, type Work } from '@envworker/core';
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
  readonly sessionId: string;
  exitCode: number | null | undefined;
  runStoppedIt: boolean;
}

/** The scripted agent of item `n`: four calls in the container, and the result each must get. */
function sessionScript(n: number): { script: ScriptStep[]; expected: RegExp[] } {
  return {
    script: [
      { tool: 'bash', input: { command: `echo "item ${n}: pid 1 is $(cat /proc/1/comm), cwd $(pwd)"` } },
      { tool: 'write', input: { file_path: 'notes.txt', content: `written in the container of item ${n}\n` } },
      { tool: 'read', input: { file_path: 'notes.txt' } },
      { tool: 'glob', input: { pattern: '*.txt' } },
    ],
    expected: [
      new RegExp(`^item ${n}: pid 1 is node, cwd /workspace$`),
      /^wrote \d+ bytes to notes\.txt$/,
      new RegExp(`^written in the container of item ${n}\n$`),
      /^\/workspace\/notes\.txt$/,
    ],
  };
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
  const expected = new Map<string, RegExp[]>();
  for (let n = 0; n < options.items; n += 1) {
    const { script, expected: results } = sessionScript(n);
    const work = await controlPlane.enqueue({ metadata: { n: String(n) }, session: { script } });
    records.set(work.id, { sessionId: work.data.id, exitCode: undefined, runStoppedIt: false });
    expected.set(work.id, results);
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
  const results = new Map<string, string[]>();
  try {
    cut = await Promise.race([everyScriptEnded.then(() => null), cutShort]);
    await poller.shutdown(cut === null ? 'drain' : 'stop');
    // The operator's view: every item should be stopped, by the `envworker run` that held it.
    for await (const work of operator.listAll()) items.push(work);
    items = items.filter((work) => records.has(work.id));
    depth = (await operator.stats()).depth;
    for (const [workId, record] of records) {
      const transcript = await controlPlane.transcript(record.sessionId);
      results.set(
        workId,
        transcript.calls.map((call) => (call.result === null ? '(no result)' : call.result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join(''))),
      );
    }
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
    const want = expected.get(work.id) ?? [];
    const got = results.get(work.id) ?? [];
    const asExpected = got.length === want.length && want.every((pattern, index) => pattern.test(got[index] ?? ''));
    const ok = work.state === 'stopped' && held && record.runStoppedIt && record.exitCode === 0 && asExpected;
    if (ok) good += 1;
    print(
      `  ${work.id}  ${work.state.padEnd(8)}  active at ${work.started_at ?? '-'}  stopped at ${work.stopped_at ?? '-'}  ` +
        `on-work exit ${record.exitCode ?? '-'}  lease held and item stopped by envworker run: ${held && record.runStoppedIt ? 'yes' : 'no'}  ` +
        `tool results as scripted: ${got.filter((text, index) => want[index]?.test(text) === true).length}/${want.length}`,
    );
    for (const text of got) print(`    result: ${JSON.stringify(text)}`);
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
