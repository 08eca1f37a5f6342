/** `Barrier`: asyncio's cyclic barrier for a fixed number of tasks. */

import type { Future } from "../core/future.js";
import { runningLoop } from "../core/loop.js";
import { failedFuture, ParkedWait, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { operationTask } from "../core/task.js";
import { BrokenBarrierError, describe } from "../errors.js";
import { type SyncOptions, waitLabel } from "./lock.js";

/** @internal The barrier's phase, as asyncio's `_BarrierState`. */
export type BarrierState = "filling" | "draining" | "resetting" | "broken";

/**
 * A barrier for `parties` tasks (asyncio's `Barrier`): each task calling `wait()` blocks until
 * `parties` tasks are waiting, then all are released together and each gets a distinct arrival
 * index from 0 to `parties - 1`. The barrier is cyclic: once everyone has left `wait()`, it can
 * be passed again; tasks that arrive while the previous group is still leaving wait for the next
 * cycle.
 *
 * `reset()` sends {@link BrokenBarrierError} to the tasks waiting and returns the barrier to its
 * empty state; `abort()` breaks it: waiting and future `wait()` calls throw
 * `BrokenBarrierError` until `reset()`. A waiting task that is cancelled leaves the count.
 * `parties` must be a positive integer (`RangeError`/`TypeError`; asyncio: `ValueError`).
 *
 * asyncio builds its barrier on a `Condition`, so released tasks leave one at a time as each
 * re-acquires the lock. We keep the same state machine without a lock (code between awaits is
 * atomic anyway) and let released tasks out one at a time, each freeing the next as it leaves:
 * a task that has passed can act (wait again, reset, abort) before the next one leaves, as in
 * asyncio. `reset()` and `abort()` take effect when called; they return promises as asyncio's
 * coroutines do.
 *
 * @example
 * const start = new Barrier(3);
 * const runners = [1, 2, 3].map((n) =>
 *   createTask(async () => {
 *     await sleep(n);                 // warming up takes 1, 2, 3 s
 *     const i = await start.wait();   // all three go on together, at 3 s
 *     console.log(`runner ${n} arrived ${i}th, starts at ${time()}`);
 *   }),
 * );
 * await Promise.all(runners);
 */
export class Barrier {
  /** @internal the phase (asyncio's `_state`), read by tests */
  _state: BarrierState = "filling";
  private readonly partiesCount: number;
  /** @internal tasks inside `wait()` (asyncio's `_count`), read by tests */
  _count = 0;
  /** Tasks inside `wait()` waiting for the barrier to fill (or to be reset or aborted). */
  private readonly arrived: ParkingLot;
  /** Tasks that arrived while the previous group drained or a reset completed. */
  private readonly blocked: ParkingLot;

  /**
   * @param parties How many tasks must wait before all are released: a positive integer.
   * @param options See {@link SyncOptions}.
   */
  constructor(parties: number, options?: SyncOptions) {
    if (typeof parties !== "number") {
      throw new TypeError(`Expected \`parties\` to be a positive integer, got ${describe(parties)}`);
    }
    if (!Number.isInteger(parties) || parties < 1) {
      throw new RangeError(`Expected \`parties\` to be a positive integer, got ${describe(parties)}`);
    }
    this.partiesCount = parties;
    const label = waitLabel("barrier.wait", options);
    this.arrived = new ParkingLot(label);
    this.blocked = new ParkingLot(label);
  }

  /** Number of tasks needed to pass the barrier. */
  get parties(): number {
    return this.partiesCount;
  }

  /** Number of tasks waiting for the barrier to fill (0 while it drains, resets or is broken). */
  get nWaiting(): number {
    return this._state === "filling" ? this._count : 0;
  }

  /** True once `abort()` broke the barrier (until `reset()`). */
  get broken(): boolean {
    return this._state === "broken";
  }

  /**
   * Waits until `parties` tasks wait, then resolves to this task's arrival index, `0` to
   * `parties - 1` (asyncio's `wait`). Throws {@link BrokenBarrierError} if the barrier is
   * broken, or is reset or aborted while this task waits.
   */
  wait(options?: SignalOptions): Future<number> {
    const signal = signalOf(options, "Barrier.wait()");
    if (signal?.aborted) return failedFuture(signal.reason);
    return operationTask(() => this.waitSteps(signal), this.arrived.label);
  }

  private async waitSteps(signal: AbortSignal | undefined): Promise<number> {
    // Block while the previous group drains or a reset completes.
    while (this._state === "draining" || this._state === "resetting") await this.sleepOn(this.blocked, signal);
    if (this._state === "broken") {
      throw new BrokenBarrierError("the barrier is broken (aborted): reset() it before waiting again");
    }
    const index = this._count;
    this._count++;
    try {
      if (index + 1 === this.partiesCount) {
        // Last to arrive: release the group. Later arrivals wait until it has left.
        this._state = "draining";
        this.arrived.wakeOne();
      } else {
        do await this.sleepOn(this.arrived, signal);
        while (this._state === "filling");
        if (this._state !== "draining") {
          throw new BrokenBarrierError(
            "the barrier was reset or aborted while this task waited on it: handle the error, then wait again",
          );
        }
      }
      return index;
    } finally {
      this._count--;
      this.leave();
    }
  }

  /**
   * Returns the barrier to its empty state: tasks waiting on it get {@link BrokenBarrierError},
   * and it can be used again (asyncio's `reset`). Also repairs a broken barrier. Resolves once
   * the state has changed (asyncio's is a coroutine too).
   */
  async reset(): Promise<void> {
    if (this._count > 0) {
      this._state = "resetting";
      this.releaseNext();
    } else {
      this._state = "filling";
      this.blocked.wakeAll();
    }
  }

  /**
   * Breaks the barrier: tasks waiting on it, and every later `wait()`, get
   * {@link BrokenBarrierError} until `reset()` (asyncio's `abort`). Use it when a party fails.
   */
  async abort(): Promise<void> {
    this._state = "broken";
    this.releaseNext();
    this.blocked.wakeAll();
  }

  toString(): string {
    const waiting = this.broken ? "" : `, waiting=${this.nWaiting}/${this.partiesCount}`;
    return `Barrier(${this._state}${waiting})`;
  }

  /** Waits on `queue` until woken; leaves no registration behind. */
  /** Waits in `lot` until woken; cancelling it (or aborting `signal`) leaves no registration behind. */
  private sleepOn(lot: ParkingLot, signal: AbortSignal | undefined): Future<void> {
    return new ParkedWait<void>(runningLoop(), lot.label, undefined, null)._parkIn(lot, signal);
  }

  /**
   * Lets the next task of the group out of `wait()`, unless one is already on its way. Tasks
   * leave one at a time, each letting the next one out (see {@link Barrier.leave}): as in
   * asyncio, where each re-acquires the barrier's lock in turn, a task that has left can act
   * (re-wait, reset, abort) before the next one leaves.
   */
  private releaseNext(): void {
    if (!this.arrived.anyWoken()) this.arrived.wakeOne();
  }

  /** A task left `wait()`: let the next one out, or, if it was the last, open the next cycle. */
  private leave(): void {
    if (this._count === 0) {
      if (this._state === "resetting" || this._state === "draining") this._state = "filling";
      this.blocked.wakeAll();
    } else if (this._state !== "filling") {
      this.releaseNext();
    }
  }
}
