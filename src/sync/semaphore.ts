/** `Semaphore` and `BoundedSemaphore`: asyncio's counting semaphores, usable with `await using`. */

import type { Future } from "../core/future.js";
import { getRunningLoop, type Loop } from "../core/loop.js";
import { doneFuture, failedFuture, Parked, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { describe, InvalidStateError } from "../errors.js";
import { type Held, holdWhenAcquired, type SyncOptions, waitLabel } from "./lock.js";

function checkValue(value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected \`value\` to be a non-negative integer, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Expected \`value\` to be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

/**
 * A counting semaphore (asyncio's `Semaphore`): at most `value` tasks hold it at once.
 * `acquire()` takes a permit, waiting while none is free; `release()` returns one, handing it
 * straight to the first waiting task. Waiters are served in FIFO order and a task that arrives
 * while others wait queues behind them even if a permit is momentarily free (no barging). A
 * waiter cancelled after it was handed a permit gives it back to the next one.
 *
 * A plain `Semaphore` may be released more often than acquired (its value then grows, as in
 * asyncio); {@link BoundedSemaphore} refuses. `value` must be a non-negative integer
 * (`RangeError`/`TypeError` otherwise; asyncio raises `ValueError` for a negative one).
 *
 * @example
 * const slots = new Semaphore(3);       // at most 3 downloads at a time
 * async function download(url: string) {
 *   await using _ = await slots.hold();
 *   await sleep(1);                     // stands for the download
 *   return url;
 * }
 * await Promise.all(["a", "b", "c", "d"].map((url) => createTask(() => download(url))));
 * // takes 2 s: three downloads, then the fourth
 */
export class Semaphore implements AsyncDisposable {
  /** @internal the number of free permits */
  protected _value: number;
  private readonly waiters: ParkingLot;

  /**
   * @param value Number of permits, a non-negative integer. Default 1.
   * @param options See {@link SyncOptions}.
   */
  constructor(value = 1, options?: SyncOptions) {
    this._value = checkValue(value);
    this.waiters = new ParkingLot(waitLabel("semaphore.acquire", options));
  }

  /** Number of free permits. */
  get value(): number {
    return this._value;
  }

  /**
   * True when `acquire()` would wait: no permit is free, or tasks are queued for one
   * (asyncio's `locked`).
   */
  locked(): boolean {
    return this._value === 0 || this.waiters.size > 0;
  }

  /**
   * Takes a permit, waiting for one in FIFO order, and resolves to `true` (asyncio's
   * `acquire`). Takes it without suspending when one is free and nobody is queued. Returns a
   * {@link Future}: cancelling it or aborting `signal` withdraws the acquire (a permit it had
   * been handed passes to the next waiter).
   */
  acquire(options?: SignalOptions): Future<true> {
    const signal = signalOf(options, "Semaphore.acquire()");
    const loop = getRunningLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    if (!this.locked()) {
      this._value--;
      return doneFuture(true as const, loop);
    }
    return new SemAcquireOp(loop, this.waiters.label, this)._parkIn(this.waiters, signal);
  }

  /** @internal A woken waiter took its permit (counted when it was woken); wake others while free. */
  _afterTake(): void {
    this.wakeWhileFree();
  }

  /** @internal A woken waiter will not take its permit: give it back and pass it on. */
  _giveBack(): void {
    this._value++;
    this.wakeWhileFree();
  }

  /** Tasks that arrived while we waited queued behind us for fairness: wakes as many as may go. */
  private wakeWhileFree(): void {
    while (this._value > 0 && this.wakeNext()) {
      // each wakeNext() took one permit on behalf of a waiter
    }
  }

  /** Returns a permit, handing it to the first waiting task if there is one (asyncio's `release`). */
  release(): void {
    this._value++;
    this.wakeNext();
  }

  /**
   * Takes a permit and resolves to a {@link Held} that returns it when disposed.
   *
   * @example
   * await using _ = await semaphore.hold();
   */
  hold(options?: SignalOptions): Future<Held> {
    return holdWhenAcquired(this.acquire(options), this);
  }

  /** Returns a permit (for `await using _ = semaphore` after `acquire()`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  /** @internal Number of registered waiters (woken ones that have not run included). */
  _waiterCount(): number {
    return this.waiters.size;
  }

  toString(): string {
    return `${this.constructor.name}(value=${this._value}, waiters=${this.waiters.idleCount()})`;
  }

  private wakeNext(): boolean {
    if (this.waiters.size === 0) return false;
    // Count the permit as taken before the waiter runs, so nobody else can take it meanwhile.
    this._value--;
    if (this.waiters.wakeOne()) return true;
    this._value++;
    return false;
  }
}

/**
 * A {@link Semaphore} that refuses to be released more times than it was acquired (asyncio's
 * `BoundedSemaphore`): such a `release()` throws {@link InvalidStateError} (asyncio:
 * `ValueError`), which catches a release without a matching acquire.
 *
 * @example
 * const pool = new BoundedSemaphore(2);
 * pool.release(); // InvalidStateError: released more times than acquired
 */
export class BoundedSemaphore extends Semaphore {
  private readonly bound: number;

  /**
   * @param value Number of permits and the most the value may reach. Default 1.
   * @param options See {@link SyncOptions}.
   */
  constructor(value = 1, options?: SyncOptions) {
    super(value, options);
    this.bound = value;
  }

  /** Returns a permit; throws {@link InvalidStateError} if every permit is already free. */
  override release(): void {
    if (this._value >= this.bound) {
      throw new InvalidStateError(
        `BoundedSemaphore released too many times (value already at its bound ${this.bound}): release once per acquire`,
      );
    }
    super.release();
  }
}

/** An acquire waiting for a permit; the permit is counted as taken when it is woken. */
class SemAcquireOp extends Parked<true> {
  constructor(
    loop: Loop,
    label: string,
    private readonly semaphore: Semaphore,
  ) {
    super(loop, label);
  }
  _take(): boolean {
    this._grant(true);
    this.semaphore._afterTake();
    return true;
  }
  override _passOn(): void {
    this.semaphore._giveBack();
  }
}
