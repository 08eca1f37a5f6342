/** `PriorityQueue<T>`: a {@link Queue} that hands out the lowest item first. */
import { describe } from "../errors.js";
import { Queue, type QueueOptions } from "./queue.js";

/** Orders two items: negative if `a` comes first, positive if `b` does, 0 if either may. */
export type Compare<T> = (a: T, b: T) => number;

function kind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function unorderable(a: unknown, b: unknown): TypeError {
  const what = kind(a) === kind(b) ? `two different ${kind(a)} values` : `a ${kind(a)} and a ${kind(b)}`;
  return new TypeError(
    `PriorityQueue cannot order ${what} (${describe(a)} and ${describe(b)}), as Python cannot: ` +
      "put numbers, strings or arrays such as [priority, tieBreaker, item], or pass a compare function",
  );
}

/** A UTF-16 code unit mapped so that comparing mapped units orders strings by code point. */
function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function isNumeric(value: unknown): value is number | bigint | boolean {
  const t = typeof value;
  return t === "number" || t === "bigint" || t === "boolean";
}

/**
 * Python's ordering of numbers, strings and tuples: numbers (and bigints, booleans) by value,
 * strings by code point, arrays element by element with a shorter prefix first. Identical values
 * are equal; anything else Python could not order is a `TypeError`.
 * @internal
 */
export function pythonCompare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (isNumeric(a) && isNumeric(b)) {
    const x = typeof a === "boolean" ? Number(a) : a;
    const y = typeof b === "boolean" ? Number(b) : b;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "string" && typeof b === "string") return compareStrings(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = pythonCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw unorderable(a, b);
}

/**
 * A queue that hands out the lowest item first (asyncio's `PriorityQueue`, a binary min-heap),
 * with {@link Queue}'s waiting, `taskDone`/`join`, `shutdown` and async iteration.
 *
 * Without `compare`, items are ordered as Python orders them: numbers by value, strings by code
 * point, arrays element by element (shorter prefix first), so `put([priority, job])` works as
 * `put((priority, job))` does in Python. As in Python, two items that tie on every element
 * before an unorderable one (two different objects) throw `TypeError` from `put`: add a tie
 * breaker (`[priority, sequence, job]`) or pass `compare`. Items with equal priority come out in
 * no particular order, as with `heapq`.
 *
 * @example
 * const pq = new PriorityQueue<[number, string]>();
 * pq.putNowait([2, "write report"]);
 * pq.putNowait([1, "fix the build"]);
 * console.log(pq.getNowait()); // [1, "fix the build"]
 *
 * const byDeadline = new PriorityQueue<{ deadline: number }>(0, (a, b) => a.deadline - b.deadline);
 */
export class PriorityQueue<T> extends Queue<T> {
  private readonly heap: T[] = [];
  private readonly compare: Compare<T>;

  /**
   * @param maxsize Capacity; `<= 0` for unbounded. Default 0.
   * @param compare Orders items; default: Python's ordering of numbers, strings and arrays.
   * @param options See {@link QueueOptions}.
   */
  constructor(maxsize = 0, compare?: Compare<T>, options?: QueueOptions) {
    super(maxsize, options);
    if (compare !== undefined && typeof compare !== "function") {
      throw new TypeError(`Expected \`compare\` to be a function (a, b) => number, got ${describe(compare)}`);
    }
    this.compare = compare ?? (pythonCompare as Compare<T>);
  }

  /** @internal */
  protected override _put(item: T): void {
    const heap = this.heap;
    const compare = this.compare;
    let i = heap.length;
    // Compare before storing, so an unorderable item throws and leaves the heap as it was.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as T;
      if (compare(item, p) >= 0) break;
      i = parent;
    }
    // Now move the parents down along the same path (no comparison can throw any more).
    let j = heap.length;
    heap.push(item);
    while (j > i) {
      const parent = (j - 1) >> 1;
      heap[j] = heap[parent] as T;
      j = parent;
    }
    heap[i] = item;
  }

  /** @internal */
  protected override _get(): T {
    const heap = this.heap;
    const top = heap[0] as T;
    const last = heap.pop() as T;
    const n = heap.length;
    if (n === 0) return top;
    const compare = this.compare;
    let i = 0;
    try {
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        let child = left;
        if (right < n && compare(heap[right] as T, heap[left] as T) < 0) child = right;
        if (compare(heap[child] as T, last) >= 0) break;
        heap[i] = heap[child] as T;
        i = child;
      }
    } catch (error) {
      // Two items that cannot be ordered met (they were never compared when put). Keep every
      // item, so nothing is lost: fill the hole and put the top back (order may be off).
      heap[i] = last;
      heap.push(top);
      throw error;
    }
    heap[i] = last;
    return top;
  }
}
