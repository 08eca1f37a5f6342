/**
 * A 4-ary min-heap of timer entries ordered by deadline, then by scheduling order (half the
 * depth of a binary heap, and the children compared at each level are adjacent in memory: it
 * pops faster once the heap outgrows the cache, at 100,000 timers).
 *
 * Deadlines and sequence numbers live in typed arrays beside the entries, so sifting compares
 * numbers in contiguous memory instead of following a pointer per comparison. Cancellation is
 * lazy, as in asyncio's `BaseEventLoop`: a cancelled entry is marked and dropped when it reaches
 * the top, and the heap is rebuilt without the cancelled entries once they are more than half of
 * it, so cancelled timers never hold more than the live ones.
 */

/** `TimerEntry.state` of a timer in the heap. */
export const PENDING_TIMER = 0;
/** `TimerEntry.state` of a timer taken out of the heap to fire in a batch, not fired yet. */
export const DUE = 1;
/** `TimerEntry.state` of a timer that fired or was cancelled. */
export const FINISHED = 2;

/** One scheduled callback. Returned to callers as an opaque {@link TimerHandle}. */
export class TimerEntry<A = unknown> {
  /** {@link PENDING_TIMER}, {@link DUE} or {@link FINISHED}. */
  state = PENDING_TIMER;
  constructor(
    /** Deadline, in clock seconds. */
    readonly when: number,
    /** Scheduling order, so entries with the same deadline fire first-scheduled first. */
    readonly seq: number,
    readonly callback: (arg: A) => void,
    readonly arg: A,
  ) {}
  /** True until the callback ran or the timer was cancelled. */
  get pending(): boolean {
    return this.state !== FINISHED;
  }
}

/** Below this size the heap is never compacted: dropping cancelled entries lazily is cheaper. */
const MIN_COMPACT_SIZE = 64;

export class TimerHeap {
  private entries: (TimerEntry | undefined)[] = [];
  private whens = new Float64Array(64);
  private seqs = new Float64Array(64);
  /** Entries in the heap, cancelled ones included. */
  private count = 0;
  private cancelled = 0;

  /** Number of live (not cancelled) entries. */
  get size(): number {
    return this.count - this.cancelled;
  }

  /** The earliest live entry, or `undefined`. */
  peek(): TimerEntry | undefined {
    for (;;) {
      const top = this.entries[0];
      if (top === undefined || top.state === PENDING_TIMER) return top;
      // Cancelled while in the heap: drop it now.
      this.cancelled--;
      this.removeTop();
    }
  }

  push(entry: TimerEntry): void {
    const i = this.count;
    if (i === this.whens.length) this.grow();
    this.count = i + 1;
    this.siftUp(i, entry, entry.when, entry.seq);
  }

  /** Removes and returns the earliest live entry (its state still `PENDING_TIMER`). */
  pop(): TimerEntry | undefined {
    const top = this.peek();
    if (top !== undefined) this.removeTop();
    return top;
  }

  /** Marks a pending entry cancelled; it leaves the heap lazily. Returns whether it was pending. */
  remove(entry: TimerEntry): boolean {
    if (entry.state !== PENDING_TIMER) return false;
    entry.state = FINISHED;
    this.cancelled++;
    if (this.cancelled > this.count >> 1 && this.count > MIN_COMPACT_SIZE) this.compact();
    return true;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) (this.entries[i] as TimerEntry).state = FINISHED;
    this.entries = [];
    this.count = 0;
    this.cancelled = 0;
  }

  private grow(): void {
    const whens = new Float64Array(this.whens.length * 2);
    whens.set(this.whens);
    this.whens = whens;
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }

  private removeTop(): void {
    const n = this.count - 1;
    this.count = n;
    const last = this.entries[n] as TimerEntry;
    this.entries[n] = undefined;
    if (n > 0) this.siftDown(0, last, this.whens[n] as number, this.seqs[n] as number);
  }

  /** Keeps only the live entries and rebuilds the heap (Floyd's method, O(n)). */
  private compact(): void {
    const entries = this.entries;
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      const entry = entries[i] as TimerEntry;
      if (entry.state !== PENDING_TIMER) continue;
      entries[n] = entry;
      this.whens[n] = entry.when;
      this.seqs[n] = entry.seq;
      n++;
    }
    for (let i = n; i < this.count; i++) entries[i] = undefined;
    entries.length = n;
    this.count = n;
    this.cancelled = 0;
    for (let i = (n - 2) >> 2; i >= 0; i--) {
      this.siftDown(i, entries[i] as TimerEntry, this.whens[i] as number, this.seqs[i] as number);
    }
  }

  /** Places `entry` (deadline `when`, order `seq`) at or above the hole `i`. */
  private siftUp(i: number, entry: TimerEntry, when: number, seq: number): void {
    const entries = this.entries;
    const whens = this.whens;
    const seqs = this.seqs;
    while (i > 0) {
      const parent = (i - 1) >> 2;
      const pw = whens[parent] as number;
      if (pw < when || (pw === when && (seqs[parent] as number) < seq)) break;
      entries[i] = entries[parent];
      whens[i] = pw;
      seqs[i] = seqs[parent] as number;
      i = parent;
    }
    entries[i] = entry;
    whens[i] = when;
    seqs[i] = seq;
  }

  /** Places `entry` (deadline `when`, order `seq`) at or below the hole `i`. */
  private siftDown(i: number, entry: TimerEntry, when: number, seq: number): void {
    const entries = this.entries;
    const whens = this.whens;
    const seqs = this.seqs;
    const n = this.count;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // The earliest of up to four children: they sit side by side, in one or two cache lines.
      let child = first;
      let cw = whens[first] as number;
      const last = Math.min(first + 4, n);
      for (let c = first + 1; c < last; c++) {
        const w = whens[c] as number;
        if (w < cw || (w === cw && (seqs[c] as number) < (seqs[child] as number))) {
          child = c;
          cw = w;
        }
      }
      if (when < cw || (when === cw && seq < (seqs[child] as number))) break;
      entries[i] = entries[child];
      whens[i] = cw;
      seqs[i] = seqs[child] as number;
      i = child;
    }
    entries[i] = entry;
    whens[i] = when;
    seqs[i] = seq;
  }
}
