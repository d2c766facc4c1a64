/**
 * Splits a sandbox's output into lines with a bounded memory, for every runtime adapter: at most
 * `maxLineBytes` of one unfinished line are held. A longer line is passed on cut (at a character
 * boundary) and marked, and the rest of it is dropped up to its newline, so a sandbox that prints
 * without newlines cannot make the worker buffer without end.
 */
import { StringDecoder } from 'node:string_decoder';

/** Appended to a line that was cut at the line limit. */
export const TRUNCATED_MARK = '…[truncated]';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** One stream's line splitter; `push` raw chunks as they come, `end` at the end of the stream. */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #emit: (line: string) => void;
  /** The unfinished line's bytes so far (copies, so that no chunk is kept alive for one byte). */
  #parts: Buffer[] = [];
  #pending = 0;
  /** Inside a line that was already passed on cut: its bytes are dropped up to the newline. */
  #discarding = false;

  /** @param emit called with each line, without its line ending. */
  constructor(maxLineBytes: number, emit: (line: string) => void) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be an integer >= 1, got ${String(maxLineBytes)}`);
    }
    this.#maxLineBytes = maxLineBytes;
    this.#emit = emit;
  }

  /** Takes the next chunk of the stream. */
  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      this.#take(chunk.subarray(start, newline === -1 ? chunk.length : newline));
      if (newline === -1) return;
      this.#lineEnded();
      start = newline + 1;
    }
  }

  /** The stream ended: passes on a last line that had no newline. */
  end(): void {
    if (!this.#discarding && this.#pending > 0) this.#emit(decodeLine(Buffer.concat(this.#parts)));
    this.#reset();
  }

  #take(piece: Buffer): void {
    if (this.#discarding || piece.length === 0) return;
    const room = this.#maxLineBytes - this.#pending;
    if (piece.length <= room) {
      this.#parts.push(Buffer.from(piece));
      this.#pending += piece.length;
      return;
    }
    this.#parts.push(Buffer.from(piece.subarray(0, room)));
    // StringDecoder keeps back a character whose bytes were cut apart, instead of mangling it.
    this.#emit(`${new StringDecoder('utf8').write(Buffer.concat(this.#parts))}${TRUNCATED_MARK}`);
    this.#parts = [];
    this.#pending = 0;
    this.#discarding = true;
  }

  #lineEnded(): void {
    if (!this.#discarding) this.#emit(decodeLine(Buffer.concat(this.#parts)));
    this.#reset();
  }

  #reset(): void {
    this.#parts = [];
    this.#pending = 0;
    this.#discarding = false;
  }
}

/** A whole line's text, without the `\r` of a CRLF line ending. */
function decodeLine(bytes: Buffer): string {
  const end = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', 0, end);
}
