/**
 * The demultiplexer against a simple model: frames of stdout and stderr, encoded as the Docker
 * Engine sends them and cut into chunks anywhere (inside a header too), come back as each
 * stream's bytes in order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamDemuxer, type OutputStream } from '../src/stream-demuxer.js';

interface Frame {
  readonly type: 1 | 2 | 3;
  readonly payload: Uint8Array;
}

function encode(frames: readonly Frame[]): Buffer {
  return Buffer.concat(
    frames.flatMap((frame) => {
      const header = Buffer.alloc(8);
      header[0] = frame.type;
      header.writeUInt32BE(frame.payload.length, 4);
      return [header, Buffer.from(frame.payload)];
    }),
  );
}

/** The same bytes cut into chunks at arbitrary points. */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

function demux(chunks: readonly Buffer[]): { out: Record<OutputStream, Buffer>; pieces: Buffer[]; fault: string | null } {
  const parts: Record<OutputStream, Buffer[]> = { stdout: [], stderr: [] };
  const pieces: Buffer[] = [];
  const demuxer = new StreamDemuxer((stream, payload) => {
    parts[stream].push(Buffer.from(payload));
    pieces.push(payload);
  });
  for (const chunk of chunks) demuxer.push(chunk);
  demuxer.end();
  return { out: { stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr) }, pieces, fault: demuxer.fault };
}

const frames = fc.array(
  fc.record({ type: fc.constantFrom<1 | 2 | 3>(1, 2, 3), payload: fc.uint8Array({ maxLength: 40 }) }),
  { maxLength: 12 },
);

describe('StreamDemuxer', () => {
  it("gives each stream's bytes in order, whatever the chunking; type 3 (the daemon's errors) counts as stderr", () => {
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 30 }), (framed, cuts) => {
        const { out, pieces, fault } = demux(chunked(encode(framed), cuts));
        const expected = (types: readonly number[]): Buffer =>
          Buffer.concat(framed.filter((frame) => types.includes(frame.type)).map((frame) => Buffer.from(frame.payload)));
        expect(out.stdout.equals(expected([1]))).toBe(true);
        expect(out.stderr.equals(expected([2, 3]))).toBe(true);
        expect(fault).toBeNull();
        expect(pieces.every((piece) => piece.length > 0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('passes a large frame on as its bytes come, holding none of it back', () => {
    const encoded = encode([{ type: 1, payload: new Uint8Array(1_000_000).fill(97) }]);
    const seen: number[] = [];
    const demuxer = new StreamDemuxer((_, payload) => seen.push(payload.length));
    demuxer.push(encoded.subarray(0, 8 + 1000));
    expect(seen).toEqual([1000]);
    demuxer.push(encoded.subarray(8 + 1000));
    expect(seen).toEqual([1000, 999_000]);
  });

  it('reports a stream that ends inside a frame', () => {
    const encoded = encode([{ type: 2, payload: new Uint8Array([1, 2, 3]) }]);
    expect(demux([encoded.subarray(0, 9)]).fault).toBe('the output stream ended inside a frame');
    expect(demux([encoded.subarray(0, 5)]).fault).toBe('the output stream ended inside a frame');
  });

  it('stops at a header that is not one (a TTY stream, say) and says so', () => {
    const { out, fault } = demux([Buffer.from('plain text, no frames\n')]);
    expect(fault).toMatch(/^the output stream is not a multiplexed stream \(a frame header starts 706c6169\)$/);
    expect(out.stdout.length + out.stderr.length).toBe(0);
  });
});
