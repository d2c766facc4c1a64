#!/usr/bin/env node
// The quickstart's sample on-work program: what runs in each item's sandbox. It reads the
// `--on-work` contract: its ids from the environment (ANTHROPIC_WORK_ID, ANTHROPIC_SESSION_ID…)
// and the work item JSON on standard input. Its work: count the words of the text in the item's
// metadata, a slice per step (`metadata.steps` steps, 200 ms apart), printing its progress.
// A SIGTERM (the worker's polite stop, after an operator's `stop {force: false}`) is trapped:
// it says how far it got and exits at once, cleanly.
const STEP_MS = 200;

function fail(message) {
  process.stderr.write(`count-words: ${message}\n`);
  process.exit(2);
}

const workId = process.env.ANTHROPIC_WORK_ID;
const sessionId = process.env.ANTHROPIC_SESSION_ID;
if (!workId) fail('ANTHROPIC_WORK_ID is not set: run me as an on-work program');
if (!sessionId) fail('ANTHROPIC_SESSION_ID is not set: run me as an on-work program');

let counted = 0;
let total = 0;
process.on('SIGTERM', () => {
  process.stdout.write(`SIGTERM received: stopping gracefully after ${counted} of ${total} words (session ${sessionId})\n`);
  process.exit(0);
});

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
let item;
try {
  item = JSON.parse(input);
} catch {
  fail('standard input is not the work item JSON');
}
if (item?.id !== workId) fail('the work item on standard input is not ANTHROPIC_WORK_ID');
const text = item.metadata?.text;
const steps = Number(item.metadata?.steps);
if (typeof text !== 'string') fail('metadata.text must be a string');
if (!Number.isInteger(steps) || steps < 1) fail('metadata.steps must be a positive integer');

const words = text.split(/\s+/).filter((word) => word !== '');
total = words.length;
console.log(`session ${sessionId}: counting ${total} words in ${steps} steps`);
for (let step = 1; step <= steps; step += 1) {
  await new Promise((resolve) => setTimeout(resolve, STEP_MS));
  const now = Math.round((total * step) / steps);
  // A slow item (many steps for few words) prints only when the count moves.
  if (now !== counted) console.log(`session ${sessionId}: ${now}/${total} words`);
  counted = now;
}
const longest = words.reduce((best, word) => (word.length > best.length ? word : best), '');
console.log(`session ${sessionId}: done, ${total} words, the longest "${longest}"`);
