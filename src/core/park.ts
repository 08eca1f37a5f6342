/**
 * `park()`: the one waiting mechanism every queue and synchronisation primitive uses (Trio's
 * ParkingLot). A primitive that must wait returns a {@link Parked} operation: a {@link Future}
 * linked into the primitive's {@link ParkingLot}, an intrusive FIFO with O(1) removal anywhere.
 *
 * The protocol, asyncio's with one improvement (see docs/architecture.md):
 * 1. **Park**: the operation joins the lot and is returned to the caller, who awaits it, or hands
 *    it to `waitFor`, `timeout`, `gather`, a TaskGroup, or gives it a `signal`.
 * 2. **Wake**: the primitive grants the head its turn (`wake`). Nothing is taken yet: the turn is
 *    settled on the ready queue, in order.
 * 3. **Settle**: when its turn comes, the operation looks at the task awaiting it. If that task
 *    was cancelled in the meantime, the operation takes nothing, passes its turn on, and the task
 *    gets `CancelledError`. Otherwise it takes its item / lock / permit (`_take`) and the task
 *    resumes with it in the same callback: there is no moment at which a taken item can be lost.
 *    If it can no longer take (another caller took the item first), it stays parked, in place.
 * 4. **Withdraw**: cancelling the operation (directly, through a combinator, or by its signal)
 *    unlinks it; if it had been woken, its turn passes on. A withdrawn get takes nothing, a
 *    withdrawn acquire is never granted.
 */
import { describe } from "../errors.js";
import { Future, PENDING } from "./future.js";
import { type LoopImpl, runningLoop } from "./loop.js";

/** Options every waiting operation takes. */
export interface SignalOptions {
  /**
   * Withdraws the operation when aborted: it rejects with `signal.reason` (as `fetch` and
   * `signal.throwIfAborted()` do) and takes nothing. An already aborted signal rejects at once.
   */
  readonly signal?: AbortSignal | undefined;
}

/** @internal Checks `{ signal }` options; returns the signal or undefined. */
export function signalOf(options: unknown, what: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected the options of ${what} to be an object such as { signal }, got ${describe(options)}`);
  }
  const signal = (options as SignalOptions).signal;
  if (signal === undefined) return undefined;
  if (typeof signal !== "object" || signal === null || typeof (signal as AbortSignal).aborted !== "boolean") {
    throw new TypeError(`Expected \`signal\` of ${what} to be an AbortSignal, got ${describe(signal)}`);
  }
  return signal;
}

/** @internal A future already done with `value` (the path of an operation that need not wait). */
export function doneFuture<T>(value: T, loop?: LoopImpl): Future<T> {
  const theLoop = loop ?? runningLoop();
  // The commonest results (a put that had room, an acquire that was free) share one done future
  // per loop: nothing can change a done future, and the hot path allocates nothing.
  if (value === undefined || value === true) {
    const shared = value === undefined ? theLoop._doneVoid : theLoop._doneTrue;
    if (shared !== null) return shared as Future<T>;
  }
  const future = new Future<T>(theLoop);
  future._keepsResult = true;
  future._resolve(value);
  if (value === undefined) theLoop._doneVoid = future as Future<unknown>;
  else if (value === true) theLoop._doneTrue = future as Future<unknown>;
  return future;
}

/** @internal A future already failed with `error` (an aborted signal, a shut-down queue). */
export function failedFuture<T>(error: unknown, loop?: LoopImpl): Future<T> {
  const future = new Future<T>(loop ?? runningLoop());
  future._reject(error);
  return future;
}

function settle(op: Parked<unknown>): void {
  op._settle();
}

/**
 * A waiting operation of a primitive: a future in a {@link ParkingLot}. Subclasses say how the
 * operation takes its turn (`_take`) and what a woken operation that leaves passes on
 * (`_passOn`). @internal
 */
export abstract class Parked<T> extends Future<T> {
  /** @internal neighbours in the lot; `lot` is null once unlinked */
  _lot: ParkingLot | null = null;
  /** @internal */
  _prev: Parked<unknown> | null = null;
  /** @internal */
  _next: Parked<unknown> | null = null;
  /** @internal granted its turn, not settled yet */
  _woken = false;
  /** @internal the lot the operation parks in (it may leave it when woken, as a queue's do) */
  _home: ParkingLot | null = null;
  private signal: AbortSignal | undefined = undefined;
  private onAbort: (() => void) | undefined = undefined;

  constructor(loop: LoopImpl, label: string) {
    super(loop);
    this._label = label;
  }

  /**
   * @internal Takes the turn: returns true after completing the future (with `_resolve`), or
   * false to stay parked (the resource went elsewhere).
   */
  abstract _take(): boolean;

  /** @internal A woken operation leaves without taking its turn: wake whoever should have it. */
  _passOn(): void {}

  /** @internal Parks in `lot`; with a signal, withdraws when it aborts. Returns this. */
  _parkIn(lot: ParkingLot, signal: AbortSignal | undefined): this {
    this._home = lot;
    lot._append(this as Parked<unknown>);
    if (signal !== undefined) {
      this.signal = signal;
      const onAbort = (): void => {
        this.abort(signal.reason);
      };
      this.onAbort = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
    }
    return this;
  }

  /** @internal Grants the turn; the operation settles on the ready queue. */
  _wake(): void {
    this._woken = true;
    this._loop.callSoon(settle, this as Parked<unknown>);
  }

  /** @internal Its turn comes: take it, or pass it on if the awaiting task was cancelled. */
  _settle(): void {
    if (this._state !== PENDING || !this._woken) return;
    const task = this._awaitingTask();
    if (task?._mustCancel) {
      // Cancelled after the wake-up, before it ran: take nothing, pass the turn on (still
      // woken, so the withdrawal does), and the task's await throws.
      task._mustCancel = false;
      this.cancel(task._cancelMessage);
      return;
    }
    this._woken = false;
    if (this._take()) return;
    // The resource went elsewhere meanwhile: back to waiting, first in line.
    if (this._lot === null) (this._home as ParkingLot)._prepend(this as Parked<unknown>);
  }

  /** @internal Completes with `value` and resumes the awaiting task now (its turn). */
  _grant(value: T): void {
    this.unlink();
    this.detachSignal();
    this._keepsResult = true;
    this._resolve(value, true);
  }

  override cancel(message?: unknown): boolean {
    if (this._state !== PENDING) return super.cancel(message);
    this.withdraw();
    return super.cancel(message);
  }

  /** Withdraws the operation and rejects it with `reason` (its signal aborted). */
  private abort(reason: unknown): void {
    if (this._state !== PENDING) return;
    this.withdraw();
    this._reject(reason);
  }

  /** @internal Fails the operation with `error` without passing a turn on (a queue shut down). */
  _failWith(error: unknown): void {
    if (this._state !== PENDING) return;
    this._woken = false;
    this.unlink();
    this.detachSignal();
    this._reject(error);
  }

  private withdraw(): void {
    const woken = this._woken;
    this._woken = false;
    this.unlink();
    this.detachSignal();
    if (woken) this._passOn();
  }

  private unlink(): void {
    const lot = this._lot;
    if (lot !== null) lot._unlink(this as Parked<unknown>);
  }

  private detachSignal(): void {
    const signal = this.signal;
    if (signal === undefined) return;
    signal.removeEventListener("abort", this.onAbort as () => void);
    this.signal = undefined;
    this.onAbort = undefined;
  }
}

/** True when `op` waits for its turn: parked, not woken, not done. @internal */
export function isIdle(op: Parked<unknown>): boolean {
  return !op._woken && op._state === PENDING;
}

/**
 * An intrusive FIFO of parked operations: append, unlink anywhere, and wake in order, each O(1)
 * (waking skips operations already woken). @internal
 */
export class ParkingLot {
  private head: Parked<unknown> | null = null;
  private tail: Parked<unknown> | null = null;
  private count = 0;

  /**
   * `label`: what waiting here means in traces and hang reports ("queue.get", ...).
   * `popOnWake`: a woken operation leaves the lot at once (asyncio's queues pop their waiters);
   * otherwise it stays until it settles (locks: a woken waiter still counts as queued, so nobody
   * barges past it).
   */
  constructor(
    readonly label: string,
    private readonly popOnWake = false,
  ) {}

  /** Number of parked operations (woken ones not yet settled included). */
  get size(): number {
    return this.count;
  }

  /** The first parked operation (woken or not), or null: a primitive that serves in strict order reads it. */
  get first(): Parked<unknown> | null {
    return this.head;
  }

  /** @internal */
  _append(op: Parked<unknown>): void {
    op._lot = this;
    op._prev = this.tail;
    op._next = null;
    if (this.tail === null) this.head = op;
    else this.tail._next = op;
    this.tail = op;
    this.count++;
  }

  /** @internal */
  _prepend(op: Parked<unknown>): void {
    op._lot = this;
    op._prev = null;
    op._next = this.head;
    if (this.head === null) this.tail = op;
    else this.head._prev = op;
    this.head = op;
    this.count++;
  }

  private wakeOp(op: Parked<unknown>): void {
    if (this.popOnWake) this._unlink(op);
    op._wake();
  }

  /** @internal */
  _unlink(op: Parked<unknown>): void {
    const prev = op._prev;
    const next = op._next;
    if (prev === null) this.head = next;
    else prev._next = next;
    if (next === null) this.tail = prev;
    else next._prev = prev;
    op._prev = null;
    op._next = null;
    op._lot = null;
    this.count--;
  }

  /** Wakes the first idle operation; returns whether there was one. */
  wakeOne(): boolean {
    for (let op = this.head; op !== null; op = op._next) {
      if (isIdle(op)) {
        this.wakeOp(op);
        return true;
      }
    }
    return false;
  }

  /** Wakes up to `n` idle operations in FIFO order; returns how many. */
  wake(n: number): number {
    let woken = 0;
    let op = this.head;
    while (op !== null && woken < n) {
      const next = op._next;
      if (isIdle(op)) {
        this.wakeOp(op);
        woken++;
      }
      op = next;
    }
    return woken;
  }

  /** Wakes every idle operation. */
  wakeAll(): void {
    this.wake(Number.POSITIVE_INFINITY);
  }

  /** Number of operations still waiting for their turn (neither woken nor done). */
  idleCount(): number {
    let n = 0;
    for (let op = this.head; op !== null; op = op._next) if (isIdle(op)) n++;
    return n;
  }

  /** True when an operation was woken and has not settled yet. */
  anyWoken(): boolean {
    for (let op = this.head; op !== null; op = op._next) if (op._woken) return true;
    return false;
  }

  /** Fails every parked operation with `error` (a queue shutting down): they unlink. */
  failAll(error: () => unknown): void {
    let op = this.head;
    while (op !== null) {
      const next = op._next;
      if (op._state === PENDING) op._failWith(error());
      op = next;
    }
  }
}

/**
 * A plain parked wait that completes with `value` when woken (an event, a condition's notify).
 * @internal
 */
export class ParkedWait<T> extends Parked<T> {
  constructor(
    loop: LoopImpl,
    label: string,
    private readonly value: T,
    private readonly passOnTo: ParkingLot | null,
  ) {
    super(loop, label);
  }
  _take(): boolean {
    this._grant(this.value);
    return true;
  }
  override _passOn(): void {
    this.passOnTo?.wakeOne();
  }
}
