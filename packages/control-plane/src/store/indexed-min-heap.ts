/**
 * A binary min-heap whose entries know their position, so an entry's key can be changed or the
 * entry removed in O(log n). The memory store keeps its leases in one, ordered by expiry, so that
 * finding expired leases never scans every item and a heartbeat moves its lease in place.
 */

/** An entry of the heap; hold on to it to update or remove it later. */
export interface HeapEntry<T> {
  readonly value: T;
  readonly key: number;
}

interface Slot<T> extends HeapEntry<T> {
  key: number;
  index: number;
}

export class IndexedMinHeap<T> {
  readonly #slots: Slot<T>[] = [];

  get size(): number {
    return this.#slots.length;
  }

  /** The entry with the smallest key (ties in no particular order), or `undefined` when empty. */
  peek(): HeapEntry<T> | undefined {
    return this.#slots[0];
  }

  push(value: T, key: number): HeapEntry<T> {
    const slot: Slot<T> = { value, key, index: this.#slots.length };
    this.#slots.push(slot);
    this.#siftUp(slot.index);
    return slot;
  }

  /** Removes and returns the entry with the smallest key. */
  pop(): HeapEntry<T> | undefined {
    const top = this.#slots[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Changes the key of an entry that is in the heap. */
  update(entry: HeapEntry<T>, key: number): void {
    const slot = this.#own(entry);
    const previous = slot.key;
    slot.key = key;
    if (key < previous) this.#siftUp(slot.index);
    else this.#siftDown(slot.index);
  }

  /** Removes an entry; removing one that is no longer in the heap is a no-op. */
  remove(entry: HeapEntry<T>): void {
    const slot = entry as Slot<T>;
    if (this.#slots[slot.index] !== slot) return;
    const last = this.#slots.pop() as Slot<T>;
    if (last === slot) return;
    this.#place(last, slot.index);
    this.#siftUp(last.index);
    this.#siftDown(last.index);
  }

  #own(entry: HeapEntry<T>): Slot<T> {
    const slot = entry as Slot<T>;
    if (this.#slots[slot.index] !== slot) throw new Error('IndexedMinHeap: the entry is not in this heap');
    return slot;
  }

  #place(slot: Slot<T>, index: number): void {
    slot.index = index;
    this.#slots[index] = slot;
  }

  #siftUp(start: number): void {
    const slot = this.#slots[start] as Slot<T>;
    let index = start;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.#slots[parentIndex] as Slot<T>;
      if (parent.key <= slot.key) break;
      this.#place(parent, index);
      index = parentIndex;
    }
    this.#place(slot, index);
  }

  #siftDown(start: number): void {
    const slots = this.#slots;
    const slot = slots[start] as Slot<T>;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= slots.length) break;
      const right = left + 1;
      const leftSlot = slots[left] as Slot<T>;
      const rightSlot = slots[right];
      const childIndex = rightSlot !== undefined && rightSlot.key < leftSlot.key ? right : left;
      const child = slots[childIndex] as Slot<T>;
      if (child.key >= slot.key) break;
      this.#place(child, index);
      index = childIndex;
    }
    this.#place(slot, index);
  }
}
