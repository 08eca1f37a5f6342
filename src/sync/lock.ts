/** `Lock`: asyncio's mutual-exclusion lock for tasks, usable with `await using`. */

import { FULFILLED, Future, PENDING, REJECTED } from "../core/future.js";
import { getRunningLoop, type Loop } from "../core/loop.js";
import { doneFuture, failedFuture, Parked, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { describe, InvalidStateError } from "../errors.js";

/** Options of {@link Lock}, {@link Semaphore}, {@link Condition}, {@link Event} and {@link Barrier}. */
export interface SyncOptions {
  /**
   * A name, appended to what waiting tasks are shown to wait on ("lock.acquire db").
   * @default none
   */
  name?: string;
}

/** @internal The wait label of a primitive: "lock.acquire", or "lock.acquire db" when named. */
export function waitLabel(what: string, options: SyncOptions | undefined): string {
  if (options === undefined) return what;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected the options to be an object, got ${describe(options)}`);
  }
  const name = options.name;
  if (name === undefined) return what;
  if (typeof name !== "string") throw new TypeError(`Expected \`name\` to be a string, got ${describe(name)}`);
  return `${what} ${name}`;
}

/** Something that can be released: what {@link Lock.hold} and friends wrap. */
interface Releasable {
  release(): void;
}

/**
 * What `hold()` resolves to: releases the lock, semaphore or condition once when disposed, so
 * `await using _ = await lock.hold()` releases at the end of the block however it is left.
 * Calling `release()` on it yourself is fine: disposal then does nothing.
 *
 * @example
 * {
 *   await using _ = await lock.hold();
 *   // ... the lock is held here, and released when the block ends, even by an exception
 * }
 */
export class Held implements AsyncDisposable, Disposable {
  private target: Releasable | null;

  /** @internal */
  constructor(target: Releasable) {
    this.target = target;
  }

  /** Releases what was acquired; later calls do nothing. */
  release(): void {
    const target = this.target;
    if (target === null) return;
    this.target = null;
    target.release();
  }

  /** Releases (for `using`). */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Releases (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

/**
 * A lock for tasks (asyncio's `Lock`): `acquire()` waits until the lock is free and takes it,
 * `release()` frees it. Waiting tasks get the lock in the order they asked for it; a task that
 * arrives while a woken waiter has not run yet queues behind it (no barging). A waiter
 * cancelled after it was woken hands the lock to the next one.
 *
 * As in asyncio the lock has no owner: any task may release it. `release()` on an unlocked lock
 * throws {@link InvalidStateError} (asyncio: `RuntimeError`).
 *
 * Use it with `await using`: `await using _ = await lock.hold()` releases at the end of the
 * block; the lock itself is also async-disposable (releasing), for
 * `await lock.acquire(); await using _ = lock;`.
 *
 * @example
 * const lock = new Lock();
 * let balance = 100;
 * async function withdraw(amount: number) {
 *   await using _ = await lock.hold();
 *   const seen = balance;
 *   await sleep(0.1);              // no other withdraw runs this section meanwhile
 *   balance = seen - amount;
 * }
 * await Promise.all([createTask(() => withdraw(30)), createTask(() => withdraw(20))]);
 * console.log(balance); // 50
 */
export class Lock implements AsyncDisposable {
  private isLocked = false;
  /** @internal */
  readonly _waiters: ParkingLot;

  /** @param options See {@link SyncOptions}. */
  constructor(options?: SyncOptions) {
    this._waiters = new ParkingLot(waitLabel("lock.acquire", options));
  }

  /** True while the lock is held. */
  locked(): boolean {
    return this.isLocked;
  }

  /**
   * Waits until the lock is free, takes it and resolves to `true` (asyncio's `acquire`). Takes
   * it without suspending when it is free and nobody is queued. Returns a {@link Future}:
   * cancelling it (directly, or through `waitFor`, `timeout`, ...) or aborting `signal` withdraws
   * the acquire, which is then never granted.
   *
   * @example
   * await waitFor(lock.acquire(), 1); // TimeoutError after 1 s; the lock is not taken later
   */
  acquire(options?: SignalOptions): Future<true> {
    const signal = signalOf(options, "Lock.acquire()");
    const loop = getRunningLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    // Fair: take it at once only if nobody is parked (a woken waiter that has not run yet counts).
    if (!this.isLocked && this._waiters.size === 0) {
      this.isLocked = true;
      return doneFuture(true as const, loop);
    }
    return new AcquireOp(loop, this._waiters.label, this)._parkIn(this._waiters, signal);
  }

  /** @internal The lock is taken by a woken waiter. Returns false if it is held. */
  _tryTake(): boolean {
    if (this.isLocked) return false;
    this.isLocked = true;
    return true;
  }

  /**
   * Frees the lock and wakes the first waiting task, if any (asyncio's `release`). Throws
   * {@link InvalidStateError} if the lock is not held.
   */
  release(): void {
    if (!this.isLocked) {
      throw new InvalidStateError("Lock.release() called on an unlocked lock: release only after acquire()");
    }
    this.isLocked = false;
    this._waiters.wakeOne();
  }

  /**
   * Acquires the lock and resolves to a {@link Held} that releases it when disposed.
   *
   * @example
   * await using _ = await lock.hold();
   */
  hold(options?: SignalOptions): Future<Held> {
    return holdWhenAcquired(this.acquire(options), this);
  }

  /** Releases the lock (so `await using _ = lock` after `acquire()` releases at block end). */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  /** @internal Number of registered waiters (woken ones that have not run included). */
  _waiterCount(): number {
    return this._waiters.size;
  }

  toString(): string {
    return `Lock(${this.isLocked ? "locked" : "unlocked"}, waiters=${this._waiters.idleCount()})`;
  }
}

/**
 * The future `hold()` returns: a {@link Held} once `acquiring` completes. Cancelling it withdraws
 * the acquire; if the acquire had already been granted, what was acquired is released, so a
 * withdrawn hold never leaves the lock held. @internal
 */
class HoldFuture extends Future<Held> {
  constructor(
    private readonly acquiring: Future<true>,
    private readonly target: Releasable,
  ) {
    super(acquiring._loop);
    this._label = acquiring._waitLabel();
    this._keepsResult = true;
    acquiring._retrieved = true;
    acquiring._onDone(this.onAcquired);
  }

  override cancel(message?: unknown): boolean {
    if (this._state !== PENDING) return super.cancel(message);
    this.acquiring.cancel(message);
    return super.cancel(message);
  }

  private readonly onAcquired = (acquiring: Future<true>): void => {
    if (this._state !== PENDING) {
      // Withdrawn after the acquire was granted: give back what was taken.
      if (acquiring._state === FULFILLED) this.target.release();
      return;
    }
    if (acquiring._state === FULFILLED) this._resolve(new Held(this.target));
    else if (acquiring._state === REJECTED) this._reject(acquiring._error);
    else super.cancel(acquiring._cancelMessage);
  };
}

/** @internal `hold()` for Lock, Semaphore and Condition. */
export function holdWhenAcquired(acquiring: Future<true>, target: Releasable): Future<Held> {
  return new HoldFuture(acquiring, target);
}

/** An acquire waiting for the lock. */
class AcquireOp extends Parked<true> {
  constructor(
    loop: Loop,
    label: string,
    private readonly lock: Lock,
  ) {
    super(loop, label);
  }
  _take(): boolean {
    if (!this.lock._tryTake()) return false;
    this._grant(true);
    return true;
  }
  override _passOn(): void {
    if (!this.lock.locked()) this.lock._waiters.wakeOne();
  }
}
