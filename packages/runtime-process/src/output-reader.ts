/**
 * Reads a sandbox's stdout and stderr as they come (flowing mode: the child is never blocked by
 * the worker, and the worker never holds more than one unfinished line per stream), splits them
 * into bounded lines, and counts the bytes against the output limit.
 */
import type { Readable } from 'node:stream';
import { LineSplitter } from '@envworker/core';
import type { OutputLine } from './output-file.js';

/** Options of {@link OutputReader}. */
export interface OutputReaderOptions {
  readonly maxLineBytes: number;
  /** Most bytes of stdout and stderr together; `null` for no limit. */
  readonly maxOutputBytes: number | null;
  /** Called with the lines of each chunk, in order. */
  readonly onLines: (lines: readonly OutputLine[]) => void;
  /** Called once, when the output passes `maxOutputBytes`; what comes after it is dropped. */
  readonly onLimit: () => void;
}

/** The output of one sandbox. */
export class OutputReader {
  readonly #options: OutputReaderOptions;
  #bytes = 0;
  #overLimit = false;

  constructor(options: OutputReaderOptions) {
    this.#options = options;
  }

  /** Reads `stream` until it closes; resolves then, after its last line was passed on. */
  read(stream: Readable, name: OutputLine['stream']): Promise<void> {
    let batch: OutputLine[] = [];
    const splitter = new LineSplitter(this.#options.maxLineBytes, (text) => batch.push({ stream: name, text }));
    const flush = (): void => {
      if (batch.length === 0) return;
      const lines = batch;
      batch = [];
      this.#options.onLines(lines);
    };
    stream.on('data', (chunk: Buffer) => {
      if (this.#overLimit) return;
      const limit = this.#options.maxOutputBytes;
      const allowed = limit === null ? chunk.length : Math.min(chunk.length, limit - this.#bytes);
      this.#bytes += allowed;
      splitter.push(allowed === chunk.length ? chunk : chunk.subarray(0, allowed));
      flush();
      if (allowed < chunk.length) {
        this.#overLimit = true;
        this.#options.onLimit();
      }
    });
    return new Promise((resolve) => {
      stream.once('close', () => {
        splitter.end();
        flush();
        resolve();
      });
    });
  }
}
