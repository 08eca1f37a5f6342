/**
 * A binary min-heap of timer entries ordered by deadline, then by scheduling order, with
 * O(log n) removal (each entry knows its index), so cancelled timers leave nothing behind.
 */

/** `TimerEntry.index` of a timer taken out of the heap to fire in a batch, not fired yet. */
export const DUE = -2;

/** One scheduled callback. Returned to callers as an opaque {@link TimerHandle}. */
export class TimerEntry<A = unknown> {
  /** Position in the heap; {@link DUE} while waiting to fire in a batch; -1 once fired or cancelled. */
  index = -1;
  constructor(
    /** Deadline, in clock seconds. */
    readonly when: number,
    /** Scheduling order, so entries with the same deadline fire first-scheduled first. */
    readonly seq: number,
    readonly callback: (arg: A) => void,
    readonly arg: A,
  ) {}
  get pending(): boolean {
    return this.index !== -1;
  }
}

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.when < b.when || (a.when === b.when && a.seq < b.seq);
}

export class TimerHeap {
  private readonly items: TimerEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  push(entry: TimerEntry): void {
    entry.index = this.items.length;
    this.items.push(entry);
    this.up(entry.index);
  }

  pop(): TimerEntry | undefined {
    const top = this.items[0];
    if (top === undefined) return undefined;
    this.removeAt(0);
    return top;
  }

  remove(entry: TimerEntry): boolean {
    const i = entry.index;
    if (i < 0 || this.items[i] !== entry) return false;
    this.removeAt(i);
    return true;
  }

  clear(): void {
    for (const e of this.items) e.index = -1;
    this.items.length = 0;
  }

  private removeAt(i: number): void {
    const items = this.items;
    const removed = items[i] as TimerEntry;
    const last = items.pop() as TimerEntry;
    removed.index = -1;
    if (last === removed) return;
    items[i] = last;
    last.index = i;
    this.down(i);
    this.up(last.index);
  }

  private up(i: number): void {
    const items = this.items;
    const entry = items[i] as TimerEntry;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex] as TimerEntry;
      if (!before(entry, parent)) break;
      items[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    items[i] = entry;
    entry.index = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const entry = items[i] as TimerEntry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      if (r < n && before(items[r] as TimerEntry, items[l] as TimerEntry)) child = r;
      const c = items[child] as TimerEntry;
      if (!before(c, entry)) break;
      items[i] = c;
      c.index = i;
      i = child;
    }
    items[i] = entry;
    entry.index = i;
  }
}
