/**
 * Reads a container's output from its attach connection as it comes (flowing mode: the daemon is
 * never held up by the worker), demultiplexes stdout and stderr, splits each into bounded lines,
 * and counts the bytes against the output limit.
 */
import type { Duplex } from 'node:stream';
import { LineSplitter } from '@envworker/core';
import { StreamDemuxer, type OutputStream } from './stream-demuxer.js';

/** One line of a container's output. */
export interface OutputLine {
  readonly stream: OutputStream;
  readonly text: string;
}

/** Options of {@link readOutput}. */
export interface OutputReaderOptions {
  readonly maxLineBytes: number;
  /** Most bytes of stdout and stderr together; `null` for no limit. */
  readonly maxOutputBytes: number | null;
  /** Called with the lines of each chunk, in order. */
  readonly onLines: (lines: readonly OutputLine[]) => void;
  /** Called once, when the output passes `maxOutputBytes`; what comes after it is dropped. */
  readonly onLimit: () => void;
}

/**
 * Reads `connection` until it closes; resolves then, after its last line was passed on, with what
 * went wrong with the stream itself (or `null`).
 */
export function readOutput(connection: Duplex, options: OutputReaderOptions): Promise<string | null> {
  let batch: OutputLine[] = [];
  let bytes = 0;
  let overLimit = false;
  let connectionError: string | null = null;
  const splitters = {
    stdout: new LineSplitter(options.maxLineBytes, (text) => batch.push({ stream: 'stdout', text })),
    stderr: new LineSplitter(options.maxLineBytes, (text) => batch.push({ stream: 'stderr', text })),
  };
  const demuxer = new StreamDemuxer((stream, payload) => {
    if (overLimit) return;
    const limit = options.maxOutputBytes;
    const allowed = limit === null ? payload.length : Math.min(payload.length, limit - bytes);
    bytes += allowed;
    splitters[stream].push(allowed === payload.length ? payload : payload.subarray(0, allowed));
    if (allowed < payload.length) {
      overLimit = true;
      options.onLimit();
    }
  });
  const flush = (): void => {
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    options.onLines(lines);
  };
  connection.on('data', (chunk: Buffer) => {
    demuxer.push(chunk);
    flush();
  });
  // A reset connection ends the output like a closed one; the fault says so.
  connection.on('error', (error: Error) => {
    connectionError ??= `the attach connection failed (${error.message})`;
  });
  return new Promise((resolve) => {
    connection.once('close', () => {
      demuxer.end();
      splitters.stdout.end();
      splitters.stderr.end();
      flush();
      resolve(connectionError ?? demuxer.fault);
    });
  });
}
