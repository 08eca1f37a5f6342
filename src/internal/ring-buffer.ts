/**
 * A growable FIFO ring buffer: O(1) push and shift without `Array.prototype.shift`'s copying.
 * Capacity is a power of two and doubles when full.
 */
export class RingBuffer<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private mask: number;

  constructor(initialCapacity = 16) {
    let capacity = 4;
    while (capacity < initialCapacity) capacity *= 2;
    this.items = new Array<T | undefined>(capacity);
    this.mask = capacity - 1;
  }

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & this.mask] = item;
    this.count++;
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.count--;
    return item;
  }

  /** Removes and returns the newest item, or `undefined` when empty. */
  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const i = (this.head + this.count - 1) & this.mask;
    const item = this.items[i];
    this.items[i] = undefined;
    this.count--;
    return item;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  /** The item at position `i` from the oldest (0), or `undefined`. */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head + i) & this.mask];
  }

  /**
   * Removes the first item equal to `item`; returns whether one was found. O(1) at either end
   * (the common case: waiters usually leave in order), otherwise O(n), moving the shorter side.
   */
  remove(item: T): boolean {
    const count = this.count;
    if (count === 0) return false;
    if (this.items[this.head] === item) {
      this.shift();
      return true;
    }
    for (let i = 1; i < count; i++) {
      if (this.items[(this.head + i) & this.mask] !== item) continue;
      if (i < count - 1 - i) {
        // Closer to the head: move the items before it one step towards the tail.
        for (let j = i; j > 0; j--) {
          this.items[(this.head + j) & this.mask] = this.items[(this.head + j - 1) & this.mask];
        }
        this.items[this.head] = undefined;
        this.head = (this.head + 1) & this.mask;
      } else {
        for (let j = i; j < count - 1; j++) {
          this.items[(this.head + j) & this.mask] = this.items[(this.head + j + 1) & this.mask];
        }
        this.items[(this.head + count - 1) & this.mask] = undefined;
      }
      this.count--;
      return true;
    }
    return false;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) & this.mask] as T;
  }

  private grow(): void {
    const old = this.items;
    const capacity = old.length * 2;
    const items = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.count; i++) items[i] = old[(this.head + i) & this.mask];
    this.items = items;
    this.head = 0;
    this.mask = capacity - 1;
  }
}
