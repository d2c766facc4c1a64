/**
 * What the quickstart enqueues: one scripted agent session per item. Each script calls every tool
 * of the agent toolset once on a short text (write it, count its words with bash, edit it, read
 * it back, glob and grep for it), and says what each result must be, so the summary can check
 * what the control plane's session simulator received. One item, the one the operator stops,
 * runs a slow bash call instead, so that it is surely mid-call when the stop arrives.
 */
import type { ScriptStep } from '@envworker/core';

/** One scripted session and the result each of its tool calls must get. */
export interface ItemScript {
  readonly script: ScriptStep[];
  /** The expected text of each tool result, in call order. */
  readonly expected: readonly RegExp[];
}

/** The file the slow item's bash call writes once it runs: the operator stops the item after that. */
export const STARTED_MARKER = 'started.txt';

const TEXTS: readonly string[] = [
  'A journey of a thousand miles begins with a single step.',
  'The quick brown fox jumps over the lazy dog.',
  'All that glitters is not gold; all who wander are not lost.',
  'Where there is a will there is a way.',
  'The early bird catches the worm, but the second mouse gets the cheese.',
  'Many hands make light work.',
  'An idle worker polls again; a busy one keeps its lease alive.',
  'Still waters run deep.',
];

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The script of the `index`-th item; `slow`: the item the operator stops. */
export function itemScript(index: number, slow: boolean): ItemScript {
  if (slow) {
    return {
      script: [{ tool: 'bash', input: { command: `echo started > ${STARTED_MARKER}; sleep 30; echo slept` } }, { message: 'never reached: the item is stopped first' }],
      expected: [/^bash: cancelled: /],
    };
  }
  const text = TEXTS[index % TEXTS.length] as string;
  const words = text.split(/\s+/).filter((word) => word !== '');
  const first = words[0] as string;
  const edited = text.replace(first, first.toUpperCase());
  const last = (words.at(-1) as string).replace(/\W+$/, '');
  return {
    script: [
      { tool: 'write', input: { file_path: 'notes.txt', content: `${text}\n` } },
      { tool: 'bash', input: { command: 'wc -w < notes.txt' } },
      { tool: 'edit', input: { file_path: 'notes.txt', old_string: first, new_string: first.toUpperCase() } },
      { tool: 'read', input: { file_path: 'notes.txt' } },
      { tool: 'glob', input: { pattern: '*.txt' } },
      { tool: 'grep', input: { pattern: escape(last) } },
      { message: `item ${index}: ${words.length} words` },
    ],
    expected: [
      new RegExp(`^wrote ${Buffer.byteLength(text) + 1} bytes to notes\\.txt$`),
      new RegExp(`^${words.length}$`),
      /^edited notes\.txt \(1 replacement\(s\)\)$/,
      new RegExp(`^${escape(edited)}\\n$`),
      /^\/\S*\/notes\.txt$/,
      new RegExp(`^/\\S*/notes\\.txt:1:${escape(edited)}$`),
    ],
  };
}

/** Which item the operator stops: the third (so it starts in the first round), or the last of fewer. */
export function stoppedItemIndex(items: number): number {
  return Math.min(2, items - 1);
}
