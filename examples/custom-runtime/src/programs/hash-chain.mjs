// @ts-check
/**
 * An on-work program for the worker-thread runtime, the one `src/serve.ts` runs for each item. It
 * reads its work item on standard input and hashes its session id (from the `--on-work`
 * environment) `metadata.rounds` times in a row, each round the sha256 of the previous digest, so
 * anyone can check the printed result.
 *
 * The loop never yields. In a thread that blocks only this thread: the worker's heartbeats go on.
 * It also cannot hear the polite signal while it computes, so a stop ends it by `terminate()` once
 * the grace has run out, which the in-process function runtime could not do at all.
 */
import { createHash } from 'node:crypto';

let stdin = '';
for await (const chunk of process.stdin) stdin += chunk;
const work = JSON.parse(stdin);
const rounds = Number(work.metadata?.rounds ?? '1000');
if (!Number.isSafeInteger(rounds) || rounds < 1) {
  process.stderr.write(`metadata.rounds must be a positive integer, got ${JSON.stringify(work.metadata?.rounds)}\n`);
  process.exit(2);
}
const session = process.env['ANTHROPIC_SESSION_ID'] ?? '';
process.stdout.write(`computing ${rounds} rounds\n`);
let digest = session;
for (let round = 0; round < rounds; round += 1) digest = createHash('sha256').update(digest).digest('hex');
process.stdout.write(`chain ${session} x${rounds} = ${digest}\n`);
