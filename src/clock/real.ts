import { AsyncResource } from "node:async_hooks";
import type { Clock, ClockHost, TimerHandle } from "./clock.js";
import { FINISHED, TimerEntry, TimerHeap } from "./heap.js";

const MAX_NATIVE_DELAY_MS = 2 ** 31 - 1;

/**
 * The wall clock: `performance.now()` in seconds, with every timer of the loop kept in one heap
 * and a single native timer armed for the earliest deadline. Every timer due when it fires runs in
 * one pass, in deadline order (scheduling order for equal deadlines): asyncio's `_run_once`. The
 * tasks they wake then run one step at a time, each until it waits again.
 *
 * Chosen over one native `setTimeout` per timer by measurement (`bench/timers.ts`: 100,000
 * concurrent sleeps of 0–50 ms): the heap is faster on Node 20 and 24, and it is what gives the
 * same-instant order above. Node's timers would also run microtasks between callbacks.
 *
 * An error thrown by a timer callback goes to the loop's exception handler under `run` (to the
 * process as an uncaught exception otherwise); the other due timers still run.
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
  private reporter: ClockHost | undefined = undefined;

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
    this.reporter = undefined;
  }

  /** Sends errors thrown by timer callbacks to `reporter` (the loop). `run` calls it. @internal */
  attach(reporter: ClockHost): void {
    this.reporter = reporter;
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

  // Bound to the context the clock was made in, so timer callbacks run outside any task (a native
  // timer would otherwise run in the context of whichever task armed it).
  private readonly fire = AsyncResource.bind((): void => {
    this.native = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.fireDue();
  });

  /**
   * Fires every timer due now, in deadline-then-scheduling order, in one pass (asyncio's
   * `_run_once`). A timer a callback schedules for now fires on the next pass.
   */
  private fireDue(): void {
    const now = this.now();
    const heap = this.heap;
    try {
      for (;;) {
        const next = heap.peek();
        if (next === undefined || next.when > now) break;
        heap.pop();
        next.state = FINISHED;
        this.call(next);
      }
    } finally {
      this.rearm();
    }
  }

  private rearm(): void {
    const next = this.heap.peek();
    if (next === undefined) this.disarm();
    else if (next.when < this.armedFor) this.arm();
  }

  private call(entry: TimerEntry): void {
    const reporter = this.reporter;
    if (reporter === undefined) {
      entry.callback(entry.arg);
      return;
    }
    try {
      reporter.runTimer(entry.callback, entry.arg);
    } catch (error) {
      reporter.reportError({ message: "Exception in a timer callback", error });
    }
  }
}
