/**
 * Reads the Docker Engine's multiplexed stream: a container without a TTY sends stdout and stderr
 * over one connection, each piece as a frame `[type, 0, 0, 0, size (uint32 big-endian)]` followed
 * by `size` bytes. Type 1 is stdout, 2 is stderr, 3 the daemon's own errors (passed on as stderr).
 *
 * Memory stays bounded whatever the frame sizes: a payload is passed on piece by piece as its
 * bytes come, and only an unfinished 8-byte header is ever held back.
 */

/** The stream a payload belongs to. */
export type OutputStream = 'stdout' | 'stderr';

const HEADER_BYTES = 8;
const STREAM_OF_TYPE: ReadonlyMap<number, OutputStream> = new Map([
  [1, 'stdout'],
  [2, 'stderr'],
  [3, 'stderr'],
]);

/** Splits a multiplexed byte stream into payload pieces, in order. */
export class StreamDemuxer {
  readonly #emit: (stream: OutputStream, payload: Buffer) => void;
  readonly #header = Buffer.alloc(HEADER_BYTES);
  #headerBytes = 0;
  /** The current frame's stream and how many of its payload bytes are still to come. */
  #stream: OutputStream = 'stdout';
  #remaining = 0;
  /** Set at the first malformed header: nothing after it can be framed again. */
  #fault: string | null = null;

  /** @param emit called with each payload piece as it arrives (never an empty one). */
  constructor(emit: (stream: OutputStream, payload: Buffer) => void) {
    this.#emit = emit;
  }

  /** What went wrong, if the stream was not a multiplexed stream (or was cut mid-frame, after `end`). */
  get fault(): string | null {
    return this.#fault;
  }

  /** Takes the next chunk of the connection. */
  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.#fault === null) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, chunk.length - offset);
        this.#remaining -= take;
        this.#emit(this.#stream, chunk.subarray(offset, offset + take));
        offset += take;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.#headerBytes, chunk.length - offset);
      chunk.copy(this.#header, this.#headerBytes, offset, offset + take);
      this.#headerBytes += take;
      offset += take;
      if (this.#headerBytes === HEADER_BYTES) this.#readHeader();
    }
  }

  /** The connection ended; records a fault when it ended inside a frame. */
  end(): void {
    if (this.#fault === null && (this.#headerBytes > 0 || this.#remaining > 0)) {
      this.#fault = 'the output stream ended inside a frame';
    }
  }

  #readHeader(): void {
    this.#headerBytes = 0;
    const type = this.#header[0] as number;
    const stream = STREAM_OF_TYPE.get(type);
    if (stream === undefined || this.#header[1] !== 0 || this.#header[2] !== 0 || this.#header[3] !== 0) {
      this.#fault = `the output stream is not a multiplexed stream (a frame header starts ${this.#header.subarray(0, 4).toString('hex')})`;
      return;
    }
    this.#stream = stream;
    this.#remaining = this.#header.readUInt32BE(4);
  }
}
