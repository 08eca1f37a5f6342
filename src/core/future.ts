/**
 * `Future<T>`: a result that will exist later, with asyncio's synchronous inspection
 * (`done()`, `result()`, `exception()`, `cancelled()`) and done callbacks. Awaitable.
 *
 * The await protocol (see docs/architecture.md):
 * - `then()` called by a task on a pending future records a {@link Reaction} and marks the task
 *   suspended on the future (asyncio's `_fut_waiter`). That ends the task's step.
 * - When the future completes, each task reaction is resumed through the loop's ready queue
 *   (asyncio's `__wakeup` via `call_soon`); an operation completing in its own turn on that queue
 *   (a parked get, an operation task) resumes its task in that same turn. At that moment, if the task was
 *   cancelled after the future completed, the task receives `CancelledError` instead of the
 *   result (asyncio's `_must_cancel`): no cancellation is lost.
 * - Internal listeners (`_onDone`) and cancellation propagation run on a trampoline, so a chain
 *   of 100,000 futures completes or cancels without deep recursion.
 */
import { CancelledError, InvalidStateError } from "../errors.js";
import { awaitingTask } from "./context.js";
import { type Loop, type LoopImpl, runningLoop, taskContext } from "./loop.js";

/** @internal */
export const PENDING = 0;
/** @internal */
export const FULFILLED = 1;
/** @internal */
export const REJECTED = 2;
/** @internal */
export const CANCELLED = 3;

/**
 * What a future needs to know of a task that awaits it (implemented by `Task`).
 * @internal
 */
export interface Awaiter {
  readonly id: number;
  readonly _loop: LoopImpl;
  _state: number;
  _futWaiter: Future<unknown> | null;
  _mustCancel: boolean;
  _cancelMessage: unknown;
  /** Virtual-clock time at which the task last suspended on a future (for deadlock reports). */
  _waitingSince: number;
}

type Listener = (future: Future<never>) => void;

/** A function run once a future is done; it receives the future. */
export type DoneCallback<F> = (future: F) => void;

function isAwaiter(value: unknown): value is Awaiter {
  return typeof value === "object" && value !== null && "_futWaiter" in value;
}

// ---------------------------------------------------------------------------------------------
// The trampoline: listeners and cancellations that would recurse run in a flat loop instead.

const deferred: unknown[] = [];
let trampolining = false;

/**
 * Runs `fn(arg)` now if nothing else runs on the trampoline, else after the current item (in FIFO
 * order, before the outermost call returns). Errors are reported, never swallowed silently.
 * @internal
 */
export function trampoline<A>(fn: (arg: A) => void, arg: A, loop: LoopImpl): void {
  deferred.push(fn, arg, loop);
  if (trampolining) return;
  trampolining = true;
  try {
    let i = 0;
    while (i < deferred.length) {
      const f = deferred[i] as (arg: unknown) => void;
      const a = deferred[i + 1];
      const l = deferred[i + 2] as LoopImpl;
      i += 3;
      try {
        f(a);
      } catch (error) {
        l.reportError({ message: "Exception in a done callback", error });
      }
      if (i > 3072) {
        deferred.splice(0, i);
        i = 0;
      }
    }
  } finally {
    deferred.length = 0;
    trampolining = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Reactions: one per then() or join while the future is pending.

let capturing: Reaction | null = null;
function capture(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  const r = capturing as Reaction;
  r.resolve = resolve;
  r.reject = reject;
}

/**
 * One consumer of a pending future: a `then()` (with the promise it returned) or a task joining
 * the future its function returned. @internal
 */
export class Reaction {
  resolve: ((value: unknown) => void) | null = null;
  reject: ((error: unknown) => void) | null = null;
  next: Reaction | null = null;
  constructor(
    readonly future: Future<unknown>,
    readonly task: Awaiter | null,
    readonly onFulfilled: ((value: never) => unknown) | null | undefined,
    readonly onRejected: ((error: unknown) => unknown) | null | undefined,
  ) {}
}

function settleReaction(r: Reaction, fulfilled: boolean, value: unknown): void {
  const callback = fulfilled ? r.onFulfilled : r.onRejected;
  const resolve = r.resolve;
  if (typeof callback !== "function") {
    if (resolve === null) return;
    if (fulfilled) resolve(value);
    else (r.reject as (e: unknown) => void)(value);
    return;
  }
  if (resolve === null) {
    // A join: the callback is the library's own.
    (callback as unknown as (v: unknown, task: Awaiter | null, future: Future<unknown>) => void)(
      value,
      r.task,
      r.future,
    );
    return;
  }
  try {
    const task = r.task;
    const out =
      task === null
        ? (callback as (v: unknown) => unknown)(value)
        : taskContext.run(task as never, callback as (v: unknown) => unknown, value);
    resolve(out);
  } catch (error) {
    (r.reject as (e: unknown) => void)(error);
  }
}

/**
 * Resumes a reaction: the task that awaited the future continues (one step, which the loop lets
 * run until the task suspends again). Runs from the ready queue. @internal
 */
export function resumeReaction(r: Reaction): void {
  const future = r.future;
  const task = r.task;
  if (task !== null) {
    if (task._futWaiter === future) task._futWaiter = null;
    const loop = future._loop;
    const trace = loop.trace;
    if (trace !== null) {
      // This resumption ends a foreign wait the trace may show, too (one event says both).
      if (loop._foreignWaits.size !== 0) loop._foreignWaits.delete(task);
      trace.event({ type: "task-resumed", time: loop.time(), task: task.id, by: future._wokenBy });
    }
    if (task._state === PENDING) {
      loop._beginStep(task);
      if (task._mustCancel && !(future._keepsResult && future._state === FULFILLED)) {
        // Cancelled after the future completed, before the task resumed: this await throws.
        // (Not when the result is something taken, such as an item: the task gets it, and the
        // cancellation lands at its next suspension.)
        task._mustCancel = false;
        settleReaction(r, false, new CancelledError(task._cancelMessage));
        return;
      }
    }
  }
  const state = future._state;
  if (state === FULFILLED) settleReaction(r, true, future._value);
  else if (state === REJECTED) settleReaction(r, false, future._error);
  else settleReaction(r, false, future._cancelledError());
}

// ---------------------------------------------------------------------------------------------
// Failures nobody retrieved: kept as small records, reported when the future is collected
// (asyncio reports in `__del__`) or when the loop closes.

/** @internal */
export interface FailureRecord {
  readonly error: unknown;
  readonly loop: LoopImpl;
  /** The task, held weakly: a record must not keep its future alive. */
  readonly task: WeakRef<object> | null;
  readonly description: string;
}

const collected = new FinalizationRegistry<FailureRecord>((record) => {
  record.loop._reportFailure(record);
});

/**
 * A placeholder for a result that arrives later (asyncio's `Future`). Await it, or inspect it
 * synchronously. Tasks are futures too, and so is every awaitress operation that can wait (a
 * sleep, a queue get, a lock acquire): cancelling one withdraws the operation.
 *
 * Cancelling a future that a task awaits makes that await throw {@link CancelledError}; cancelling
 * a task that awaits a future cancels the future (asyncio's rule).
 *
 * @example
 * const ready = new Future<string>();
 * setTimeout(() => ready.setResult("hello"), 10);
 * console.log(await ready); // "hello"
 */
export class Future<T = unknown> implements PromiseLike<T> {
  /** @internal */
  readonly _loop: LoopImpl;
  /** @internal */
  _state: number = PENDING;
  /** @internal result, or undefined */
  _value: T | undefined = undefined;
  /** @internal error, or the CancelledError of a cancelled future */
  _error: unknown = undefined;
  /** @internal */
  _cancelMessage: unknown = undefined;
  /** @internal what waiting on this future means, for traces and hang reports */
  _label: string | undefined = undefined;
  /**
   * @internal The result is something taken (an item, a lock, a permit): a cancellation that
   * comes after it was taken never discards it.
   */
  _keepsResult = false;
  /** @internal id of the task that completed the future, recorded while tracing; null: none */
  _wokenBy: number | null = null;
  private seen = false;
  private failure: FailureRecord | null = null;
  private reactions: Reaction | null = null;
  private lastReaction: Reaction | null = null;
  private listener: Listener | undefined = undefined;
  private listeners: Listener[] | undefined = undefined;
  private userCallbacks: Array<(future: never) => void> | undefined = undefined;
  private settled: Promise<T> | undefined = undefined;

  constructor(loop?: Loop) {
    // Every Loop is a LoopImpl: the interface is the public face of the one class.
    this._loop = (loop as LoopImpl | undefined) ?? runningLoop();
  }

  /** @internal whether someone looked at the error (asyncio's `__log_traceback` inverse) */
  get _retrieved(): boolean {
    return this.seen;
  }

  /** @internal */
  set _retrieved(value: boolean) {
    this.seen = value;
    if (value && this.failure !== null) {
      this._loop._forgetFailure(this.failure);
      collected.unregister(this);
      this.failure = null;
    }
  }

  /** True once the future has a result, an error, or was cancelled. */
  done(): boolean {
    return this._state !== PENDING;
  }

  /** True if the future was cancelled. */
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * The result. Throws the future's error if it failed, {@link CancelledError} if it was
   * cancelled, and {@link InvalidStateError} if it is not done yet.
   */
  result(): T {
    switch (this._state) {
      case FULFILLED:
        return this._value as T;
      case REJECTED:
        this._retrieved = true;
        throw this._error;
      case CANCELLED:
        throw this._cancelledError();
      default:
        throw new InvalidStateError(
          `${this.describeSelf()} is not done yet: await it, or check done() before calling result()`,
        );
    }
  }

  /**
   * The error the future failed with, or `undefined` if it succeeded. Throws
   * {@link CancelledError} if it was cancelled and {@link InvalidStateError} if it is not done.
   */
  exception(): unknown {
    switch (this._state) {
      case FULFILLED:
        return undefined;
      case REJECTED:
        this._retrieved = true;
        return this._error;
      case CANCELLED:
        throw this._cancelledError();
      default:
        throw new InvalidStateError(
          `${this.describeSelf()} is not done yet: await it, or check done() before calling exception()`,
        );
    }
  }

  /** Marks the future done with `value`. Throws {@link InvalidStateError} if it is already done. */
  setResult(value: T): void {
    if (this._state !== PENDING) {
      throw new InvalidStateError(`${this.describeSelf()} is already done; setResult() can be called once`);
    }
    this._resolve(value);
  }

  /** Marks the future failed with `error`. Throws {@link InvalidStateError} if it is already done. */
  setException(error: unknown): void {
    if (this._state !== PENDING) {
      throw new InvalidStateError(`${this.describeSelf()} is already done; setException() can be called once`);
    }
    if (error instanceof CancelledError) {
      throw new TypeError("setException() cannot take a CancelledError: call cancel() to cancel a future");
    }
    this._reject(error);
  }

  /**
   * Cancels the future: it becomes done and awaiting it throws {@link CancelledError} carrying
   * `message`. Returns `false` if it was already done (and then marks its error retrieved, as
   * asyncio's `cancel()` clears `_log_traceback`).
   */
  cancel(message?: unknown): boolean {
    if (this._state !== PENDING) {
      this._retrieved = true;
      return false;
    }
    this._cancelMessage = message;
    this._state = CANCELLED;
    this._finish();
    return true;
  }

  /**
   * Calls `callback(future)` on a later pass of the loop once the future is done (right away, on
   * the next pass, if it already is).
   */
  addDoneCallback(callback: DoneCallback<this>): void {
    if (typeof callback !== "function") {
      throw new TypeError(`addDoneCallback expects a function, got ${typeof callback}`);
    }
    if (this._state !== PENDING) {
      this._loop.callSoon(callback, this);
      return;
    }
    const c = callback as (future: never) => void;
    if (this.userCallbacks === undefined) this.userCallbacks = [c];
    else this.userCallbacks.push(c);
  }

  /** Removes every registration of `callback`; returns how many were removed. */
  removeDoneCallback(callback: DoneCallback<this>): number {
    const callbacks = this.userCallbacks;
    if (callbacks === undefined) return 0;
    const kept = callbacks.filter((c) => c !== (callback as (future: never) => void));
    this.userCallbacks = kept;
    return callbacks.length - kept.length;
  }

  // biome-ignore lint/suspicious/noThenProperty: a Future is awaitable by design
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    const store = awaitingTask();
    const task = isAwaiter(store) && store._state === PENDING ? store : null;
    this._retrieved = true;
    if (task !== null && (task as unknown) === this) {
      return Promise.reject(
        new InvalidStateError(`${this.describeSelf()} cannot await itself: it would wait forever`),
      ).then(onFulfilled, onRejected);
    }
    if (this._state !== PENDING) {
      if (task?._mustCancel && !this._keepsResult) {
        // `await` calls then() one job late: the future may have completed in between, while
        // the task was cancelled. asyncio's task was suspended on it then, and its next step
        // throws: this await is the checkpoint.
        task._mustCancel = false;
        return Promise.reject(new CancelledError(task._cancelMessage)).then(onFulfilled, onRejected);
      }
      // Done already: the step goes on. The result of an operation that took something (an
      // item, the lock) is never thrown away; the cancellation lands at the next suspension.
      return this._settledPromise().then(onFulfilled, onRejected);
    }
    const r = new Reaction(
      this as Future<unknown>,
      task,
      onFulfilled as ((value: never) => unknown) | null | undefined,
      onRejected,
    );
    capturing = r;
    const promise = new Promise<R1 | R2>(capture as (resolve: (value: R1 | R2) => void) => void);
    capturing = null;
    this.addReaction(r);
    if (task !== null) this._suspend(task);
    return promise;
  }

  /** Same as `then(undefined, onRejected)`. */
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onRejected);
  }

  /** Same as `Promise.prototype.finally`. */
  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onFinally);
  }

  get [Symbol.toStringTag](): string {
    return "Future";
  }

  /**
   * @internal `task` joins this future: `onFulfilled(value, task)` / `onRejected(error, task)`
   * run when the task is resumed, as an await would (with the same must-cancel check).
   */
  _join(
    task: Awaiter,
    onFulfilled: (value: never, task: Awaiter, future: Future<unknown>) => void,
    onRejected: (error: unknown, task: Awaiter) => void,
  ): void {
    this._retrieved = true;
    const r = new Reaction(
      this as Future<unknown>,
      task,
      onFulfilled as (value: never) => unknown,
      onRejected as (error: unknown) => unknown,
    );
    if (this._state !== PENDING) {
      this._loop.callSoon(resumeReaction, r);
      // The task waits for that callback: its step is over (the loop need not wait for its
      // watchdog, and without AsyncLocalStorage must not take the step for a foreign wait).
      task._loop._endStep(task);
      return;
    }
    this.addReaction(r);
    this._suspend(task);
  }

  private addReaction(r: Reaction): void {
    if (this.lastReaction === null) this.reactions = r;
    else this.lastReaction.next = r;
    this.lastReaction = r;
  }

  /** @internal The first task suspended on this future through a reaction, if any. */
  _awaitingTask(): Awaiter | null {
    for (let r = this.reactions; r !== null; r = r.next) if (r.task !== null) return r.task;
    return null;
  }

  /** @internal The task `task` now waits on this future (asyncio's `_fut_waiter`). */
  _suspend(task: Awaiter): void {
    task._futWaiter = this as Future<unknown>;
    const loop = this._loop;
    // Deadlock reports and `awaitress ps` say how long each task has waited.
    task._waitingSince = loop.clock.now();
    const trace = loop.trace;
    if (trace !== null) {
      if (loop._foreignWaits.size !== 0) loop._foreignWaitEnds(task);
      trace.event({ type: "task-suspended", time: loop.time(), task: task.id, on: this._waitLabel() });
    }
    // The task's step ends here: the loop may run the next ready callback.
    task._loop._endStep(task);
    // A cancellation requested while the task ran is delivered at this await (the checkpoint).
    if (task._mustCancel && this.cancel(task._cancelMessage)) task._mustCancel = false;
  }

  /** @internal What waiting on this future is called in traces. */
  _waitLabel(): string {
    return this._label ?? "future";
  }

  /**
   * @internal Runs `listener(this)` when done (right away if already done), on the trampoline:
   * synchronously, but never nested inside another listener.
   */
  _onDone(listener: (future: this) => void): void {
    const l = listener as unknown as Listener;
    if (this._state !== PENDING) {
      trampoline(l, this as unknown as Future<never>, this._loop);
      return;
    }
    if (this.listener === undefined) this.listener = l;
    else if (this.listeners === undefined) this.listeners = [l];
    else this.listeners.push(l);
  }

  /** @internal Removes a listener added with `_onDone`. */
  _offDone(listener: (future: this) => void): void {
    const l = listener as unknown as Listener;
    if (this.listener === l) {
      this.listener = this.listeners?.shift();
      return;
    }
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const i = listeners.indexOf(l);
    if (i >= 0) listeners.splice(i, 1);
  }

  /** @internal Completes with `value`; `inline`: see {@link Future._finish}. */
  _resolve(value: T, inline = false): void {
    this._value = value;
    this._state = FULFILLED;
    this._finish(inline);
  }

  /** @internal Fails with `error`; `inline`: see {@link Future._finish}. */
  _reject(error: unknown, inline = false): void {
    this._error = error;
    this._state = REJECTED;
    if (!this.seen) this._recordFailure(error);
    this._finish(inline);
  }

  /** @internal */
  private _recordFailure(error: unknown): void {
    const task = (this as { readonly parentId?: unknown }).parentId !== undefined ? new WeakRef(this) : null;
    const record: FailureRecord = { error, loop: this._loop, task, description: this.describeSelf() };
    this.failure = record;
    this._loop._keepFailure(record);
    collected.register(this, record, this);
  }

  /** @internal The CancelledError this future throws; the same object every time. */
  _cancelledError(): CancelledError {
    if (!(this._error instanceof CancelledError)) this._error = new CancelledError(this._cancelMessage);
    return this._error as CancelledError;
  }

  /** @internal */
  private _settledPromise(): Promise<T> {
    if (this.settled !== undefined) return this.settled;
    let p: Promise<T>;
    if (this._state === FULFILLED) p = Promise.resolve(this._value as T);
    else if (this._state === REJECTED) p = Promise.reject(this._error);
    else p = Promise.reject(this._cancelledError());
    this.settled = p;
    return p;
  }

  /**
   * @internal Wakes everything waiting on this future, once it is done. With `inline`, the first
   * task reaction resumes now (the caller runs in the ready queue, and it is that task's turn).
   */
  _finish(inline = false): void {
    const loop = this._loop;
    if (loop.trace !== null) {
      const by = taskContext.getStore() as Awaiter | undefined;
      this._wokenBy = by?.id ?? null;
    }
    let r = this.reactions;
    this.reactions = null;
    this.lastReaction = null;
    while (r !== null) {
      const next = r.next;
      r.next = null;
      if (inline && r.task !== null) {
        inline = false;
        resumeReaction(r);
      } else {
        loop.callSoon(resumeReaction, r);
      }
      r = next;
    }
    const listener = this.listener;
    if (listener !== undefined) {
      this.listener = undefined;
      trampoline(listener, this as unknown as Future<never>, loop);
      const listeners = this.listeners;
      if (listeners !== undefined) {
        this.listeners = undefined;
        for (const l of listeners) trampoline(l, this as unknown as Future<never>, loop);
      }
    }
    const callbacks = this.userCallbacks;
    if (callbacks !== undefined) {
      this.userCallbacks = undefined;
      for (const c of callbacks) loop.callSoon(c as (future: this) => void, this);
    }
  }

  /** @internal */
  describeSelf(): string {
    return "Future";
  }
}
