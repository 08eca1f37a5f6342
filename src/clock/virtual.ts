import type { Clock, TimerHandle } from "./clock.js";
import { TimerEntry, TimerHeap } from "./heap.js";

/** Options of {@link VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * Virtual time at which the clock starts, in seconds.
   * @default 0
   */
  start?: number;
}

/**
 * A clock whose time moves only when the program has nothing to do: once the microtask queue has
 * drained (a macrotask observes it), it jumps to the earliest deadline and fires every timer due
 * at that instant, in the order they were scheduled. Sleeps of hours take no real time, and the
 * same program gives the same output on every run.
 *
 * Real I/O is not waited for: a task awaiting a socket sees virtual time race ahead.
 *
 * @example
 * await run(async () => { await sleep(3600); console.log(time()) }, { clock: "virtual" }) // 3600
 */
export class VirtualClock implements Clock {
  readonly kind = "virtual";
  private readonly heap = new TimerHeap();
  private seq = 0;
  private current: number;
  private immediate: ReturnType<typeof setImmediate> | undefined;

  constructor(options: VirtualClockOptions = {}) {
    this.current = options.start ?? 0;
  }

  now(): number {
    return this.current;
  }

  get pendingTimers(): number {
    return this.heap.size;
  }

  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle {
    const entry = new TimerEntry(when, this.seq++, callback, arg);
    this.heap.push(entry as TimerEntry);
    this.arm();
    return entry;
  }

  cancel(handle: TimerHandle): void {
    if (handle instanceof TimerEntry) this.heap.remove(handle);
  }

  close(): void {
    this.heap.clear();
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  /**
   * Moves time forward by `seconds`, firing every timer due on the way in deadline order, without
   * waiting for the program to be idle. For tests that drive the clock by hand.
   */
  advance(seconds: number): void {
    const target = this.current + seconds;
    for (;;) {
      const next = this.heap.peek();
      if (next === undefined || next.when > target) break;
      this.heap.pop();
      if (next.when > this.current) this.current = next.when;
      next.callback(next.arg);
    }
    this.current = target;
  }

  private arm(): void {
    if (this.immediate === undefined) this.immediate = setImmediate(this.jump);
  }

  /**
   * Runs when the microtask queue is empty: every task is waiting. Fires one timer, the earliest;
   * the next one (even if due at the same instant) waits for the program to be idle again, so the
   * task a timer wakes runs until it waits again before the next timer's task resumes, as each
   * task's step runs whole in asyncio (the seed program's order depends on it).
   */
  private readonly jump = (): void => {
    this.immediate = undefined;
    const next = this.heap.pop();
    if (next === undefined) return;
    if (next.when > this.current) this.current = next.when;
    if (this.heap.size > 0) this.arm();
    next.callback(next.arg);
  };
}
