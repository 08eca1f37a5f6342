/**
 * The one waiting mechanism every queue and synchronisation primitive uses: a FIFO (ring
 * buffer) of cancellable waiter futures, and the one function that wakes them.
 *
 * The shape follows CPython's `asyncio/queues.py` and `locks.py`: a primitive that must wait
 * creates a {@link Waiter}, appends it to its {@link WaiterQueue}, awaits it inside its own async
 * method (`await suspendOn(waiter)`) and, once woken, re-checks its state. Cancelling the task cancels the waiter (the task
 * is suspended on it), so the `await` throws `CancelledError` and the primitive removes its
 * registration and, if it had already been woken, passes the wake-up on.
 *
 * One case native promises add: a waiter woken (its future resolved) whose task is cancelled
 * before it resumes. The task is no longer suspended on a pending future, so `cancel()` sets the
 * task's `_mustCancel` instead. {@link throwIfCancelledAfterWake} turns that into a
 * `CancelledError` right after the wake-up, before the primitive consumes anything (asyncio's
 * "must-cancel").
 */
import { CancelledError } from "../errors.js";
import { type Awaiter, Future, PENDING } from "../core/future.js";
import { getRunningLoop, type Loop, taskContext } from "../core/loop.js";
import { RingBuffer } from "./ring-buffer.js";

/**
 * A future a task waits on inside a primitive. It resolves to `undefined` when woken; the
 * primitive then re-checks its own state.
 * @internal
 */
export class Waiter extends Future<void> {
  /**
   * The primitive granted this waiter its turn (an item, a slot, the lock, a permit, a
   * notification). Set by {@link wake} before the future resolves, so a wake-up deferred by
   * schedule fuzzing is never given twice and is passed on if the task is cancelled meanwhile.
   */
  woken = false;
  /** The task suspended on this waiter (recorded when it awaits); read after the wake-up. */
  task: Awaiter | null = null;

  constructor(loop: Loop, label: string) {
    super(loop);
    this._label = label;
  }

  override _suspend(task: Awaiter): void {
    this.task = task;
    super._suspend(task);
  }
}

/** True when `waiter` is still waiting for its turn: neither woken nor cancelled. */
export function isIdle(waiter: Waiter): boolean {
  return !waiter.woken && waiter._state === PENDING;
}

function resolveWoken(waiter: Waiter): void {
  if (waiter._state === PENDING) waiter._resolve(undefined);
}

/**
 * Wakes `waiter`: the single place any primitive wakes a waiting task. Without schedule fuzzing
 * the future resolves at once; with it (`loop.shuffle` set) the resolution goes through
 * `callSoon`, so the loop may permute waiters released together.
 * @internal
 */
export function wake(waiter: Waiter): void {
  waiter.woken = true;
  const loop = waiter._loop;
  if (loop.shuffle === null) waiter._resolve(undefined);
  else loop.callSoon(resolveWoken, waiter);
}

/**
 * What a primitive awaits: suspends the calling task on `waiter` (so cancelling the task cancels
 * the waiter) and returns the waiter's promise. The same as awaiting the waiter itself, without
 * the extra microtask and promise that awaiting a thenable costs: this is the queue's hot path.
 * @internal
 */
export function suspendOn(waiter: Waiter): Promise<void> {
  const task = taskContext.getStore() as Awaiter | undefined;
  if (task !== undefined && task._state === PENDING && "_futWaiter" in task) waiter._suspend(task);
  waiter._retrieved = true;
  // One reaction between the wake-up and the resumption, as awaiting the future itself has: the
  // task that woke us runs that much further first (closer to asyncio, where it runs until it
  // suspends), and the order of same-instant events stays what it was.
  return waiter._promise().then(resumed);
}

function resumed(): void {}

/**
 * Call right after `await suspendOn(waiter)` returns. If the task was cancelled after its waiter was woken
 * but before it resumed, throws the `CancelledError` it is owed (and consumes the pending
 * cancellation), so the primitive takes nothing and can pass the wake-up on.
 * @internal
 */
export function throwIfCancelledAfterWake(waiter: Waiter): void {
  const task = waiter.task;
  if (task?._mustCancel) {
    task._mustCancel = false;
    throw new CancelledError(task._cancelMessage);
  }
}

/**
 * What a lock-like primitive does when its turn comes, or when it will not take it.
 * @internal
 */
export interface TurnTaker {
  /** The woken waiter's task takes the lock or permit. */
  _takeTurn(): void;
  /** The waiter will not take its turn (cancelled, or the wait failed): pass it on, rethrow `error`. */
  _giveUpTurn(waiter: Waiter, error: unknown): never;
}

/**
 * The contended path of `Lock.acquire` and `Semaphore.acquire`: queues a waiter in `queue`,
 * waits for its turn, and takes it (or gives it up). Not an async method: the continuation runs
 * in the promise job a resumed async frame would run in (the same order as
 * `await suspendOn(waiter)`), without the frame's cost.
 * @internal
 */
export function waitForTurn(queue: WaiterQueue, taker: TurnTaker): Promise<true> {
  let waiter: Waiter;
  try {
    waiter = queue.add(getRunningLoop());
  } catch (error) {
    return Promise.reject(error);
  }
  return suspendOn(waiter).then(
    () => {
      try {
        throwIfCancelledAfterWake(waiter);
      } catch (error) {
        queue.remove(waiter);
        return taker._giveUpTurn(waiter, error);
      }
      queue.remove(waiter);
      taker._takeTurn();
      return true as const;
    },
    (error: unknown) => {
      queue.remove(waiter);
      return taker._giveUpTurn(waiter, error);
    },
  );
}

/**
 * A FIFO of waiters. Queues pop waiters as they wake them (`wakeNext`); locks, semaphores,
 * conditions and events leave woken waiters registered until their task resumes and removes
 * itself (`wakeHead`, `wakeIdle`), as asyncio's do, which is what keeps late arrivals from
 * barging past a woken waiter that has not run yet.
 * @internal
 */
export class WaiterQueue {
  private readonly ring = new RingBuffer<Waiter>(4);

  /** `label`: what waiting here means in traces and hang reports ("queue.get", ...). */
  constructor(readonly label: string) {}

  /** Number of registered waiters (woken ones not yet resumed included). */
  get length(): number {
    return this.ring.length;
  }

  /** Creates a waiter on `loop` and appends it. */
  add(loop: Loop): Waiter {
    const waiter = new Waiter(loop, this.label);
    this.ring.push(waiter);
    return waiter;
  }

  /** Removes `waiter` if it is still registered. */
  remove(waiter: Waiter): void {
    this.ring.remove(waiter);
  }

  /** The waiter at position `i` from the head. */
  at(i: number): Waiter | undefined {
    return this.ring.at(i);
  }

  /**
   * Pops waiters from the head until one is idle and wakes it (asyncio's `Queue._wakeup_next`).
   * Returns whether one was woken.
   */
  wakeNext(): boolean {
    const ring = this.ring;
    while (ring.length > 0) {
      const waiter = ring.shift() as Waiter;
      if (isIdle(waiter)) {
        wake(waiter);
        return true;
      }
    }
    return false;
  }

  /** Pops every waiter, waking the idle ones (a queue shutting down). */
  wakeAllAndClear(): void {
    const ring = this.ring;
    while (ring.length > 0) {
      const waiter = ring.shift() as Waiter;
      if (isIdle(waiter)) wake(waiter);
    }
  }

  /**
   * Wakes the first waiter if it is idle, leaving it registered (asyncio's
   * `Lock._wake_up_first`). A cancelled or already-woken head passes the turn on itself.
   */
  wakeHead(): void {
    const head = this.ring.peek();
    if (head !== undefined && isIdle(head)) wake(head);
  }

  /** Wakes up to `n` idle waiters in FIFO order, leaving them registered; returns how many. */
  wakeIdle(n: number): number {
    let woken = 0;
    const ring = this.ring;
    for (let i = 0; i < ring.length && woken < n; i++) {
      const waiter = ring.at(i) as Waiter;
      if (isIdle(waiter)) {
        wake(waiter);
        woken++;
      }
    }
    return woken;
  }

  /** True when every registered waiter's future was cancelled (none will take its turn). */
  allCancelled(): boolean {
    const ring = this.ring;
    for (let i = 0; i < ring.length; i++) {
      if (!(ring.at(i) as Waiter).cancelled()) return false;
    }
    return true;
  }

  /** True when some registered waiter may still take its turn (not cancelled, or woken). */
  someLive(): boolean {
    const ring = this.ring;
    for (let i = 0; i < ring.length; i++) {
      const waiter = ring.at(i) as Waiter;
      if (waiter.woken || !waiter.cancelled()) return true;
    }
    return false;
  }

  /** True when a registered waiter was woken and has not resumed yet. */
  anyWoken(): boolean {
    const ring = this.ring;
    for (let i = 0; i < ring.length; i++) if ((ring.at(i) as Waiter).woken) return true;
    return false;
  }

  /** Number of waiters still waiting for their turn (neither woken nor cancelled). */
  idleCount(): number {
    let n = 0;
    const ring = this.ring;
    for (let i = 0; i < ring.length; i++) if (isIdle(ring.at(i) as Waiter)) n++;
    return n;
  }
}

/**
 * `Symbol.asyncDispose` / `Symbol.dispose`, or the registered symbols TypeScript's and esbuild's
 * downlevel `using` falls back to on runtimes that lack them.
 * @internal
 */
export const asyncDisposeSymbol: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);
/** @internal */
export const disposeSymbol: typeof Symbol.dispose =
  Symbol.dispose ?? (Symbol.for("Symbol.dispose") as typeof Symbol.dispose);
