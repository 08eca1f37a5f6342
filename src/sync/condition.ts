/** `Condition`: asyncio's condition variable, usable with `await using`. */

import type { Future } from "../core/future.js";
import { getRunningLoop } from "../core/loop.js";
import { failedFuture, ParkedWait, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { operationTask } from "../core/task.js";
import { CancelledError, describe, InvalidStateError } from "../errors.js";
import { type Held, holdWhenAcquired, Lock, type SyncOptions, waitLabel } from "./lock.js";

/**
 * A condition variable (asyncio's `Condition`): tasks holding its lock `wait()` until another
 * task holding the lock calls `notify(n)` or `notifyAll()`. `wait()` releases the lock while it
 * waits and takes it back before returning, also when cancelled (then it throws the
 * `CancelledError` it received once the lock is held again). Notifications go to waiters in FIFO
 * order; a woken waiter that is cancelled or fails passes its notification on, so none is lost
 * (a spurious wake-up of another waiter is possible, as the protocol allows: re-check your
 * predicate, or use {@link Condition.waitFor}).
 *
 * `wait`, `notify` and `notifyAll` without the lock held throw {@link InvalidStateError}
 * (asyncio: `RuntimeError`). As in asyncio, "held" means `locked()`: the lock has no owner.
 *
 * @example
 * const cond = new Condition();
 * const items: string[] = [];
 * async function consume() {
 *   await using _ = await cond.hold();
 *   await cond.waitFor(() => items.length > 0);
 *   return items.shift();
 * }
 * async function produce(item: string) {
 *   await using _ = await cond.hold();
 *   items.push(item);
 *   cond.notify();
 * }
 */
export class Condition implements AsyncDisposable {
  /** The underlying lock: the one given to the constructor, or a new {@link Lock}. */
  readonly lock: Lock;
  private readonly waiters: ParkingLot;

  /**
   * @param lock The lock to use; default a new {@link Lock}. Share one lock between several
   *   conditions to wait on different predicates over the same state.
   * @param options See {@link SyncOptions}.
   */
  constructor(lock?: Lock, options?: SyncOptions) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(`Expected \`lock\` to be a Lock, got ${describe(lock)}`);
    }
    this.lock = lock ?? new Lock();
    this.waiters = new ParkingLot(waitLabel("condition.wait", options));
  }

  /** True while the underlying lock is held. */
  locked(): boolean {
    return this.lock.locked();
  }

  /** Acquires the underlying lock (see {@link Lock.acquire}); resolves to `true`. */
  acquire(options?: SignalOptions): Future<true> {
    return this.lock.acquire(options);
  }

  /** Releases the underlying lock (see {@link Lock.release}). */
  release(): void {
    this.lock.release();
  }

  /** Acquires the underlying lock and resolves to a {@link Held} that releases it when disposed. */
  hold(options?: SignalOptions): Future<Held> {
    return holdWhenAcquired(this.lock.acquire(options), this.lock);
  }

  /** Releases the underlying lock (for `await using _ = cond` after `acquire()`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.lock.release();
    return Promise.resolve();
  }

  /**
   * Releases the lock, waits until notified, re-acquires the lock and resolves to `true`
   * (asyncio's `wait`). May return spuriously: re-check the state you wait for. Throws
   * {@link InvalidStateError} if the lock is not held.
   */
  wait(options?: SignalOptions): Future<true> {
    const signal = signalOf(options, "Condition.wait()");
    if (!this.lock.locked()) {
      return failedFuture(new InvalidStateError("Condition.wait() called without holding its lock: acquire it first"));
    }
    if (signal?.aborted) return failedFuture(signal.reason);
    return operationTask(() => this.waitSteps(signal), this.waiters.label);
  }

  /** asyncio's `Condition.wait`: release, wait to be notified, take the lock back whatever happens. */
  private async waitSteps(signal: AbortSignal | undefined): Promise<true> {
    const waiter = new ParkedWait<true>(getRunningLoop(), this.waiters.label, true, null)._parkIn(this.waiters, signal);
    this.lock.release();
    let failed = false;
    let failure: unknown;
    try {
      await waiter;
    } catch (error) {
      failed = true;
      failure = error;
    }
    // Take the lock back even when cancelled; rethrow the latest CancelledError afterwards.
    for (;;) {
      try {
        await this.lock.acquire();
        break;
      } catch (error) {
        if (!(error instanceof CancelledError)) {
          this.waiters.wakeOne();
          throw error;
        }
        failed = true;
        failure = error;
      }
    }
    if (failed) {
      // We may have been notified before failing: hand the notification to another waiter.
      this.waiters.wakeOne();
      throw failure;
    }
    return true;
  }

  /**
   * Waits until `predicate()` returns a truthy value and resolves to that value (asyncio's
   * `wait_for`). The predicate is checked first, so no wait (and no lock) is needed when it
   * already holds; otherwise the lock must be held, as for {@link Condition.wait}. Returns a
   * {@link Future}: cancelling it, or aborting `signal`, ends the wait with the lock held again.
   */
  waitFor<R>(predicate: () => R, options?: SignalOptions): Future<R> {
    if (typeof predicate !== "function") {
      return failedFuture(new TypeError(`Expected \`predicate\` to be a function, got ${describe(predicate)}`));
    }
    signalOf(options, "Condition.waitFor()");
    return operationTask(() => this.waitForSteps(predicate, options), this.waiters.label);
  }

  private async waitForSteps<R>(predicate: () => R, options: SignalOptions | undefined): Promise<R> {
    let result = predicate();
    while (!result) {
      await this.wait(options);
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiting tasks, first come first served (asyncio's `notify`). They return
   * from `wait()` once they get the lock back, so release it. Throws {@link InvalidStateError}
   * if the lock is not held.
   */
  notify(n = 1): void {
    if (typeof n !== "number" || Number.isNaN(n)) {
      throw new TypeError(`Expected \`n\` to be a number of waiters to wake, got ${describe(n)}`);
    }
    if (!this.lock.locked()) {
      throw new InvalidStateError("Condition.notify() called without holding its lock: acquire it first");
    }
    this.waiters.wake(n);
  }

  /** Wakes every waiting task (asyncio's `notify_all`). Throws like {@link Condition.notify}. */
  notifyAll(): void {
    if (!this.lock.locked()) {
      throw new InvalidStateError("Condition.notifyAll() called without holding its lock: acquire it first");
    }
    this.waiters.wakeAll();
  }

  /** @internal Number of registered waiters. */
  _waiterCount(): number {
    return this.waiters.size;
  }

  toString(): string {
    return `Condition(${this.locked() ? "locked" : "unlocked"}, waiters=${this.waiters.idleCount()})`;
  }
}
