/**
 * The bounded line splitter against a simple model: split the whole output on `\n`, drop a `\r`
 * before it, and cut a line longer than the limit at a character boundary with a mark. However
 * the output is chunked, the lines are the model's.
 */
import { StringDecoder } from 'node:string_decoder';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, TRUNCATED_MARK } from '../src/runtime/line-splitter.js';

/** The model: what the lines of `output` must be with a line limit of `max` bytes. */
function modelLines(output: Buffer, max: number): string[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (let index = output.indexOf(0x0a); index !== -1; index = output.indexOf(0x0a, start)) {
    pieces.push(output.subarray(start, index));
    start = index + 1;
  }
  if (start < output.length) pieces.push(output.subarray(start));
  return pieces.map((piece) => {
    if (piece.length > max) return `${new StringDecoder('utf8').write(piece.subarray(0, max))}${TRUNCATED_MARK}`;
    const text = piece.at(-1) === 0x0d ? piece.subarray(0, -1) : piece;
    return text.toString('utf8');
  });
}

function split(chunks: readonly Buffer[], max: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter(max, (line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

/** Output made of pieces that matter: newlines, CRs, ASCII, two- to four-byte characters. */
const output = fc
  .array(fc.constantFrom('\n', '\r', '\r\n', 'a', 'bc', 'é', '€', '😀', 'xxxxxxxxxx'), { maxLength: 80 })
  .map((pieces) => Buffer.from(pieces.join(''), 'utf8'));

/** The same bytes cut into chunks at arbitrary points (a byte of a character may land in another chunk). */
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

describe('LineSplitter', () => {
  it('gives the model lines, whatever the chunking', () => {
    fc.assert(
      fc.property(output, fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 1, max: 24 }), (bytes, cuts, max) => {
        expect(split(chunked(bytes, cuts), max)).toEqual(modelLines(bytes, max));
      }),
      { numRuns: 500 },
    );
  });

  it('never passes on more than the limit of a line, plus the mark', () => {
    fc.assert(
      fc.property(output, fc.array(fc.nat(), { maxLength: 20 }), fc.integer({ min: 1, max: 24 }), (bytes, cuts, max) => {
        for (const line of split(chunked(bytes, cuts), max)) {
          const body = line.endsWith(TRUNCATED_MARK) ? line.slice(0, -TRUNCATED_MARK.length) : line;
          expect(Buffer.byteLength(body)).toBeLessThanOrEqual(max);
        }
      }),
    );
  });

  it('cuts a long line once, drops its rest up to the newline, and goes on with the next line', () => {
    const chunks = [Buffer.from('abcdefgh'), Buffer.from('ijklmnop'), Buffer.from('qr\nnext\n')];
    expect(split(chunks, 5)).toEqual([`abcde${TRUNCATED_MARK}`, 'next']);
  });

  it('keeps back a character cut in half at the limit instead of mangling it', () => {
    expect(split([Buffer.from('ab€€\n')], 4)).toEqual([`ab${TRUNCATED_MARK}`]);
  });

  it('passes on an empty line as one, and nothing for no output', () => {
    expect(split([Buffer.from('\n\n')], 8)).toEqual(['', '']);
    expect(split([], 8)).toEqual([]);
  });

  it('refuses a limit that is not a whole number >= 1', () => {
    expect(() => new LineSplitter(0, () => undefined)).toThrow(/maxLineBytes must be an integer >= 1/);
  });
});
