/** `Barrier`: asyncio's cyclic barrier for a fixed number of tasks. */
import { BrokenBarrierError, describe } from "../errors.js";
import { Condition } from "./condition.js";
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
 * @example
 * const start = new Barrier(3);
 * for (const name of ["a", "b", "c"]) {
 *   createTask(async () => {
 *     await warmUp(name);
 *     const i = await start.wait();  // all three start together
 *     console.log(name, "arrived", i);
 *   });
 * }
 */
export class Barrier {
  /** @internal the phase (asyncio's `_state`), read by tests */
  _state: BarrierState = "filling";
  private readonly partiesCount: number;
  /** @internal tasks inside `wait()` (asyncio's `_count`), read by tests */
  _count = 0;
  private readonly cond: Condition;

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
    this.cond = new Condition();
    this.cond._relabel(waitLabel("barrier.wait", options));
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
  async wait(): Promise<number> {
    await this.cond.acquire();
    try {
      await this.block();
      const index = this._count;
      this._count++;
      try {
        if (index + 1 === this.partiesCount) {
          // Last to arrive: release everyone. Later arrivals wait until the group has left.
          this._state = "draining";
          this.cond.notifyAll();
        } else {
          await this.cond.waitFor(() => this._state !== "filling");
          if (this._state === "broken" || this._state === "resetting") {
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
    } finally {
      this.cond.release();
    }
  }

  /**
   * Returns the barrier to its empty state: tasks waiting on it get {@link BrokenBarrierError},
   * and it can be used again (asyncio's `reset`). Also repairs a broken barrier.
   */
  async reset(): Promise<void> {
    await this.cond.acquire();
    try {
      if (this._count > 0) this._state = "resetting";
      else this._state = "filling";
      this.cond.notifyAll();
    } finally {
      this.cond.release();
    }
  }

  /**
   * Breaks the barrier: tasks waiting on it, and every later `wait()`, get
   * {@link BrokenBarrierError} until `reset()` (asyncio's `abort`). Use it when a party fails.
   */
  async abort(): Promise<void> {
    await this.cond.acquire();
    try {
      this._state = "broken";
      this.cond.notifyAll();
    } finally {
      this.cond.release();
    }
  }

  toString(): string {
    const waiting = this.broken ? "" : `, waiting=${this.nWaiting}/${this.partiesCount}`;
    return `Barrier(${this._state}${waiting})`;
  }

  /** Waits while the previous group drains or a reset completes; throws if broken. */
  private async block(): Promise<void> {
    await this.cond.waitFor(() => this._state !== "draining" && this._state !== "resetting");
    if (this._state === "broken") {
      throw new BrokenBarrierError("the barrier is broken (aborted): reset() it before waiting again");
    }
  }

  /** The last task out of a draining or resetting barrier opens it for the next group. */
  private leave(): void {
    if (this._count === 0) {
      if (this._state === "resetting" || this._state === "draining") this._state = "filling";
      this.cond.notifyAll();
    }
  }
}
