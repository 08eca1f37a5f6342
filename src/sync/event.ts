/** `Event`: asyncio's flag that tasks can wait for. */
import type { Future } from "../core/future.js";
import { runningLoop } from "../core/loop.js";
import { doneFuture, failedFuture, ParkedWait, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { type SyncOptions, waitLabel } from "./lock.js";

/**
 * A flag tasks can wait for (asyncio's `Event`): `set()` wakes every waiting task, `wait()`
 * returns at once while the flag is set, `clear()` resets it. A task woken by `set()` returns
 * from `wait()` even if the flag was cleared again before it ran.
 *
 * @example
 * const ready = new Event();
 * createTask(async () => { await sleep(1); ready.set(); }); // say, loading the config
 * await ready.wait();  // resumes once set() was called
 */
export class Event {
  private value = false;
  private readonly waiters: ParkingLot;

  /** @param options See {@link SyncOptions}. */
  constructor(options?: SyncOptions) {
    this.waiters = new ParkingLot(waitLabel("event.wait", options));
  }

  /** True while the flag is set (asyncio's `is_set`). */
  isSet(): boolean {
    return this.value;
  }

  /** Sets the flag and wakes every waiting task, in the order they started waiting. */
  set(): void {
    if (this.value) return;
    this.value = true;
    this.waiters.wakeAll();
  }

  /** Clears the flag: `wait()` waits again until the next `set()`. */
  clear(): void {
    this.value = false;
  }

  /**
   * Resolves to `true` once the flag is set: at once, without suspending, if it is set now
   * (asyncio's `wait`).
   */
  wait(options?: SignalOptions): Future<true> {
    const signal = signalOf(options, "Event.wait()");
    const loop = runningLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    if (this.value) return doneFuture(true as const, loop);
    return new ParkedWait<true>(loop, this.waiters.label, true, null)._parkIn(this.waiters, signal);
  }

  /** @internal Number of registered waiters. */
  _waiterCount(): number {
    return this.waiters.size;
  }

  toString(): string {
    return `Event(${this.value ? "set" : "unset"}, waiters=${this.waiters.idleCount()})`;
  }
}
