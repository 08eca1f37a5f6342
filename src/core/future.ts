/**
 * `Future<T>`: a result that will exist later, with asyncio's synchronous inspection
 * (`done()`, `result()`, `exception()`, `cancelled()`) and done callbacks. Awaitable.
 */
import { CancelledError, InvalidStateError } from "../errors.js";
import { getRunningLoop, type Loop, taskContext } from "./loop.js";

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

/**
 * A placeholder for a result that arrives later (asyncio's `Future`). Await it, or inspect it
 * synchronously. Tasks are futures too.
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
  readonly _loop: Loop;
  /** @internal */
  _state: number = PENDING;
  /** @internal result, or undefined */
  _value: T | undefined = undefined;
  /** @internal error, or the CancelledError of a cancelled future */
  _error: unknown = undefined;
  /** @internal */
  _cancelMessage: unknown = undefined;
  /** @internal whether someone looked at the error (asyncio's `__log_traceback` inverse) */
  _retrieved = false;
  /** @internal the task suspended on this future, if any */
  _awaiter: Awaiter | null = null;
  /** @internal what waiting on this future means, for traces and hang reports */
  _label: string | undefined = undefined;
  private listener: Listener | undefined = undefined;
  private listeners: Listener[] | undefined = undefined;
  private userCallbacks: Array<(future: never) => void> | undefined = undefined;
  private promise: Promise<T> | undefined = undefined;
  private resolvePromise: ((value: never) => void) | undefined = undefined;
  private rejectPromise: ((error: unknown) => void) | undefined = undefined;

  constructor(loop?: Loop) {
    this._loop = loop ?? getRunningLoop();
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
   * `message`. Returns `false` if it was already done.
   */
  cancel(message?: unknown): boolean {
    if (this._state !== PENDING) return false;
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
    const task = taskContext.getStore();
    if (isAwaiter(task) && task._state === PENDING) {
      if ((task as unknown) === this) {
        return Promise.reject(
          new InvalidStateError(`${this.describeSelf()} cannot await itself: it would wait forever`),
        ).then(onFulfilled, onRejected);
      }
      if (this._state !== PENDING && task._mustCancel) {
        // Cancelled between the `await` and this call, while the future completed: asyncio's task
        // was already suspended and its next step throws, so this await is the checkpoint.
        task._mustCancel = false;
        this._retrieved = true;
        return Promise.reject(new CancelledError(task._cancelMessage)).then(onFulfilled, onRejected);
      }
      this._suspend(task);
    }
    this._retrieved = true;
    return this._promise().then(onFulfilled, onRejected);
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

  /** @internal The task `task` now waits on this future (asyncio's `_fut_waiter`). */
  _suspend(task: Awaiter): void {
    if (this._state !== PENDING) return;
    task._futWaiter = this as Future<unknown>;
    this._awaiter = task;
    // Deadlock reports say how long each task has waited; on the virtual clock that is a field read.
    const clock = this._loop.clock;
    if (clock.kind === "virtual") task._waitingSince = clock.now();
    const trace = this._loop.trace;
    if (trace !== null) {
      trace.event({ type: "task-suspended", time: this._loop.time(), task: task.id, on: this._waitLabel() });
    }
    // A cancellation requested while the task ran is delivered at this await (the checkpoint).
    if (task._mustCancel && this.cancel(task._cancelMessage)) task._mustCancel = false;
  }

  /** @internal What waiting on this future is called in traces. */
  _waitLabel(): string {
    return this._label ?? "future";
  }

  /** @internal Runs `listener(this)` synchronously when done (right away if already done). */
  _onDone(listener: (future: this) => void): void {
    const l = listener as unknown as Listener;
    if (this._state !== PENDING) {
      l(this as unknown as Future<never>);
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

  /** @internal */
  _resolve(value: T): void {
    this._value = value;
    this._state = FULFILLED;
    this._finish();
  }

  /** @internal */
  _reject(error: unknown): void {
    this._error = error;
    this._state = REJECTED;
    // Reported through the loop's exception handler at close if nobody ever looks at it.
    if (!this._retrieved) this._loop.failures.add(this);
    this._finish();
  }

  /** @internal The CancelledError this future throws; the same object every time. */
  _cancelledError(): CancelledError {
    if (!(this._error instanceof CancelledError)) this._error = new CancelledError(this._cancelMessage);
    return this._error as CancelledError;
  }

  /** @internal The promise awaiting code chains on; created only when someone awaits. */
  _promise(): Promise<T> {
    if (this.promise !== undefined) return this.promise;
    switch (this._state) {
      case FULFILLED:
        this.promise = Promise.resolve(this._value as T);
        break;
      case REJECTED:
        this.promise = Promise.reject(this._error);
        break;
      case CANCELLED:
        this.promise = Promise.reject(this._cancelledError());
        break;
      default:
        this.promise = new Promise<T>((resolve, reject) => {
          this.resolvePromise = resolve as (value: never) => void;
          this.rejectPromise = reject;
        });
    }
    return this.promise;
  }

  /** @internal Wakes everything waiting on this future, once it is done. */
  _finish(): void {
    const awaiter = this._awaiter;
    if (awaiter !== null) {
      this._awaiter = null;
      if (awaiter._futWaiter === (this as Future<unknown>)) awaiter._futWaiter = null;
      const trace = this._loop.trace;
      if (trace !== null) {
        const by = taskContext.getStore() as Awaiter | undefined;
        trace.event({ type: "task-resumed", time: this._loop.time(), task: awaiter.id, by: by?.id ?? null });
      }
    }
    if (this.resolvePromise !== undefined) {
      if (this._state === FULFILLED) (this.resolvePromise as (value: T) => void)(this._value as T);
      else if (this._state === REJECTED) (this.rejectPromise as (e: unknown) => void)(this._error);
      else (this.rejectPromise as (e: unknown) => void)(this._cancelledError());
      this.resolvePromise = undefined;
      this.rejectPromise = undefined;
    }
    const listener = this.listener;
    if (listener !== undefined) {
      this.listener = undefined;
      this.callListener(listener);
      const listeners = this.listeners;
      if (listeners !== undefined) {
        this.listeners = undefined;
        for (const l of listeners) this.callListener(l);
      }
    }
    const callbacks = this.userCallbacks;
    if (callbacks !== undefined) {
      this.userCallbacks = undefined;
      for (const c of callbacks) this._loop.callSoon(c as (future: this) => void, this);
    }
  }

  private callListener(listener: Listener): void {
    try {
      listener(this as unknown as Future<never>);
    } catch (error) {
      this._loop.reportError({ message: "Exception in a done callback", error });
    }
  }

  /** @internal */
  describeSelf(): string {
    return "Future";
  }
}
