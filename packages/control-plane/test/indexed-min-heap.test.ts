/** The lease index: an indexed binary heap, checked against a plain sorted list by fast-check. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexedMinHeap, type HeapEntry } from '../src/store/indexed-min-heap.js';

type Operation = { kind: 'push'; key: number } | { kind: 'update'; pick: number; key: number } | { kind: 'remove'; pick: number } | { kind: 'pop' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: -50, max: 50 }) }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), key: fc.integer({ min: -50, max: 50 }) }),
  fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('pop' as const) }),
);

describe('IndexedMinHeap', () => {
  it('always yields the smallest key, whatever mix of push, update, remove and pop', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const heap = new IndexedMinHeap<number>();
        /** The model: live entries and their keys. */
        const live = new Map<HeapEntry<number>, number>();
        let next = 0;
        for (const op of operations) {
          const entries = [...live.keys()];
          if (op.kind === 'push') live.set(heap.push(next++, op.key), op.key);
          else if (op.kind === 'update' && entries.length > 0) {
            const entry = entries[op.pick % entries.length]!;
            heap.update(entry, op.key);
            live.set(entry, op.key);
          } else if (op.kind === 'remove' && entries.length > 0) {
            const entry = entries[op.pick % entries.length]!;
            heap.remove(entry);
            heap.remove(entry);
            live.delete(entry);
          } else if (op.kind === 'pop') {
            const popped = heap.pop();
            if (popped === undefined) expect(live.size).toBe(0);
            else {
              expect(popped.key).toBe(Math.min(...live.values()));
              live.delete(popped);
            }
          }
          expect(heap.size).toBe(live.size);
          const top = heap.peek();
          expect(top?.key).toBe(live.size === 0 ? undefined : Math.min(...live.values()));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to update an entry that left the heap', () => {
    const heap = new IndexedMinHeap<string>();
    const entry = heap.push('a', 1);
    heap.remove(entry);
    expect(() => heap.update(entry, 2)).toThrow(/not in this heap/);
  });
});
