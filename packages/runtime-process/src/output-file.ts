/**
 * The optional per-item output file (`outputDir`): every line a sandbox printed, as JSON lines
 * `{"time","pid","stream","text"}` in `<outputDir>/<work id>.jsonl`, appended (an item run twice
 * keeps both runs, told apart by `pid`). The item's credentials are scrubbed from each line, as
 * the worker's logger does, since a file outlives the item.
 *
 * Lines are written synchronously, one write per chunk of output: the file can then never hold
 * more in memory than one chunk, however fast the child prints.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode, redactSecrets } from '@envworker/core';

/** One line of a sandbox's output. */
export interface OutputLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** An open per-item output file. */
export class OutputFile {
  readonly path: string;
  #fd: number | null;
  readonly #secrets: readonly string[];
  #pid = 0;
  /** Why writing stopped, if it did (a full disk, …); reported in the exit's detail. */
  fault: string | null = null;

  private constructor(path: string, fd: number, secrets: readonly string[]) {
    this.path = path;
    this.#fd = fd;
    this.#secrets = secrets;
  }

  /** Opens (creating if needed) the output file of work item `workId` in `dir`; scrubs `secrets` from every line. */
  static async open(dir: string, workId: string, secrets: readonly string[]): Promise<OutputFile> {
    const path = join(dir, `${workId.replace(/[^A-Za-z0-9_-]/g, '_')}.jsonl`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return new OutputFile(path, openSync(path, 'a', 0o600), secrets);
    } catch (error) {
      throw new Error(`output file ${path} could not be opened (${errorCode(error)})`, { cause: error });
    }
  }

  /** The pid written on each line (known once the process is spawned). */
  setPid(pid: number): void {
    this.#pid = pid;
  }

  /** Appends lines; after a write error, writes nothing more and keeps the error as `fault`. */
  write(lines: readonly OutputLine[]): void {
    if (this.#fd === null || lines.length === 0) return;
    const time = new Date().toISOString();
    const text = lines
      .map((line) => `${JSON.stringify({ time, pid: this.#pid, stream: line.stream, text: redactSecrets(line.text, this.#secrets) })}\n`)
      .join('');
    try {
      writeSync(this.#fd, text);
    } catch (error) {
      this.fault = `output file ${this.path} could not be written (${errorCode(error)})`;
      this.close();
    }
  }

  /** Closes the file; closing twice is harmless. */
  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      closeSync(fd);
    } catch (error) {
      this.fault ??= `output file ${this.path} could not be closed (${errorCode(error)})`;
    }
  }
}
