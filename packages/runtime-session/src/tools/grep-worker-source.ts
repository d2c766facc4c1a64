/**
 * The search a `grep` call runs on its own worker thread: the regex is the model's (a
 * catastrophic one can spin for ever), so it must never run on the thread every session's
 * heartbeats share; a thread can be terminated mid-match. It is plain JavaScript evaluated by the
 * worker (`eval: true`), so it runs the same from TypeScript sources and from a build. It posts
 * `{ lines, truncated }` or `{ error }`.
 */
export const GREP_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const path = require('node:path');
const { pattern, root, outputLimit, maxLineLength, maxEntries, maxDepth, skipped } = workerData;
const re = new RegExp(pattern);
const lines = [];
let budget = outputLimit;
let truncated = false;
let entries = 0;
function searchFile(file) {
  let text;
  try { text = fs.readFileSync(file, 'utf8'); } catch { return true; }
  if (text.includes('\\0')) return true;
  const fileLines = text.split('\\n');
  for (let i = 0; i < fileLines.length; i += 1) {
    let line = fileLines[i];
    if (i === fileLines.length - 1 && line === '') break;
    if (line.length > maxLineLength) line = line.slice(0, maxLineLength);
    if (!re.test(line)) continue;
    const hit = file + ':' + (i + 1) + ':' + line;
    budget -= Buffer.byteLength(hit) + 1;
    if (budget < 0) { truncated = true; return false; }
    lines.push(hit);
  }
  return true;
}
function walk(dir, depth) {
  if (depth > maxDepth) return true;
  let names;
  try { names = fs.readdirSync(dir, { withFileTypes: true }); } catch { return true; }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of names) {
    if ((entries += 1) > maxEntries) return false;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) { if (skipped.includes(entry.name)) continue; if (!walk(full, depth + 1)) return false; }
    else if (entry.isFile()) { if (!searchFile(full)) return false; }
  }
  return true;
}
try {
  const stats = fs.statSync(root);
  if (stats.isFile()) searchFile(root); else walk(root, 0);
  parentPort.postMessage({ lines, truncated });
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message || error) });
}
`;
