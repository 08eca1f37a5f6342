import type { Clock, TimerHandle } from "./clock.js";
import { FINISHED, TimerEntry, TimerHeap } from "./heap.js";

const MAX_NATIVE_DELAY_MS = 2 ** 31 - 1;

/**
 * The wall clock: `performance.now()` in seconds, with every timer of the loop kept in one heap
 * and a single native timer armed for the earliest deadline.
 *
 * @example
 * await run(main, { clock: new RealClock() }) // the same as the default, clock: "real"
 */
export class RealClock implements Clock {
  readonly kind = "real";
  private readonly heap = new TimerHeap();
  private seq = 0;
  private native: ReturnType<typeof setTimeout> | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  now(): number {
    return performance.now() / 1000;
  }

  get pendingTimers(): number {
    return this.heap.size;
  }

  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle {
    const entry = new TimerEntry(when, this.seq++, callback, arg);
    this.heap.push(entry as TimerEntry);
    if (when < this.armedFor) this.arm();
    return entry;
  }

  cancel(handle: TimerHandle): void {
    if (!(handle instanceof TimerEntry)) return;
    this.heap.remove(handle);
    if (this.heap.size === 0) this.disarm();
  }

  close(): void {
    this.heap.clear();
    this.disarm();
  }

  private disarm(): void {
    if (this.native !== undefined) clearTimeout(this.native);
    this.native = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    const next = this.heap.peek();
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.native !== undefined) clearTimeout(this.native);
    // Node's timers overflow past 2^31-1 ms; a longer wait re-arms when that one fires.
    const delayMs = Math.min(MAX_NATIVE_DELAY_MS, Math.max(0, Math.ceil((next.when - this.now()) * 1000)));
    this.armedFor = next.when;
    this.native = setTimeout(this.fire, delayMs);
  }

  private readonly fire = (): void => {
    this.native = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    // Fire everything due now, in deadline order; timers scheduled by these callbacks wait for
    // the next turn even when already due, so a callback that reschedules itself cannot starve I/O.
    const limit = this.seq;
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.when > now || next.seq >= limit) break;
      this.heap.pop();
      next.state = FINISHED;
      next.callback(next.arg);
    }
    if (this.heap.size > 0) this.arm();
  };
}
