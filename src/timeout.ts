/**
 * Deadlines for a block of code: `timeout`, `timeoutAt` and the `Timeout` they enter (asyncio's
 * `timeouts.py`). On expiry the task running the block is cancelled; on the way out the
 * cancellation is taken back and turned into a {@link TimeoutError}.
 */
import type { TimerHandle } from "./clock/clock.js";
import { getRunningLoop } from "./core/loop.js";
import { CancelScope, currentTask, Task } from "./core/task.js";
import { CancelledError, describe, ExceptionGroup, InvalidStateError, TimeoutError } from "./errors.js";
import { checkSeconds } from "./sleep.js";

/** Where a {@link Timeout} is in its life (asyncio's `_State` values, used in messages too). */
type TimeoutState = "created" | "active" | "expiring" | "expired" | "finished";

/** A deadline already due, queued on the ready queue; `timeout` is cleared to cancel it. */
interface DueCall {
  timeout: Timeout | null;
}

function fireDue(call: DueCall): void {
  const timeout = call.timeout;
  if (timeout !== null) timeout._onTimeout();
}

function fireTimer(timeout: Timeout): void {
  timeout._onTimeout();
}

function checkWhen(when: unknown, what: string): number | null {
  if (when === null) return null;
  if (typeof when !== "number") {
    throw new TypeError(`Expected ${what} to be a loop time in seconds or null, got ${describe(when)}`);
  }
  if (Number.isNaN(when)) throw new RangeError(`Expected ${what} to be a loop time in seconds or null, got NaN`);
  return when;
}

function checkBody(body: unknown, what: string): void {
  if (typeof body !== "function") {
    throw new TypeError(
      `${what} expects the block to run as a function, such as async () => work(); got ${describe(body)}`,
    );
  }
}

/**
 * Marks `error` (and the members of a group) as having left a block whose deadline passed, the
 * way asyncio 3.13 inserts a `TimeoutError` into the exception's context chain. JavaScript has no
 * implicit `__context__`, so this sets a non-enumerable `context` property, once, on objects that
 * do not have one.
 */
function markTimedOut(error: unknown, timeoutError: TimeoutError): void {
  setContext(error, timeoutError);
  if (error instanceof ExceptionGroup) {
    for (const member of error.exceptions) setContext(member, timeoutError);
  }
}

function setContext(error: unknown, context: unknown): void {
  if (typeof error !== "object" || error === null) return;
  if (Object.hasOwn(error, "context") || !Object.isExtensible(error)) return;
  Object.defineProperty(error, "context", { value: context, writable: true, configurable: true, enumerable: false });
}

/**
 * A deadline for a block of code run by {@link Timeout.run} (asyncio's `Timeout`). When the loop
 * clock reaches {@link Timeout.when}, the task running the block is cancelled; when the block then
 * leaves with that {@link CancelledError}, `run` throws a {@link TimeoutError} instead, whose
 * `cause` is the `CancelledError`.
 *
 * asyncio's rules, counted exactly: on entry the task's {@link Task.cancelling} count is recorded;
 * on exit an expired timeout calls `uncancel()` and converts only if no other cancellation is
 * pending (nested timeouts: only the outermost expired one converts; a `task.cancel()` from
 * elsewhere stays a `CancelledError`). A block that catches the cancellation and finishes
 * normally returns normally. Any other error leaving an expired block propagates unchanged, with
 * a non-enumerable `context` property set to a `TimeoutError` (Python's context chaining).
 *
 * `when` is a loop-clock time (see {@link time}); `null` never expires; a time already past fires
 * at the block's next await. `Infinity` never fires either. A `Timeout` can be entered once. On a
 * virtual clock, a deadline reached at the instant the block fails counts as expired, as it would
 * in asyncio, where every timer due at a loop time fires before any task resumes.
 *
 * Cancellation lands at an awaitress await point: a block awaiting a foreign promise (say
 * `fetch`) is interrupted when that promise settles, at its next awaitress await.
 *
 * Errors: `TypeError`/`RangeError` for a `when` that is not a number or null, or NaN;
 * {@link InvalidStateError} when entered twice or rescheduled when not active.
 *
 * Outside any task (plain async code, an HTTP handler), the block runs as a task of the default
 * loop, so the deadline has something to cancel; the block's signal is {@link Timeout.signal}.
 *
 * @example
 * import { run, sleep, time, Timeout } from "awaitress";
 * await run(async () => {
 *   const cm = new Timeout(time() + 10);
 *   await cm.run(async () => {
 *     await sleep(1);
 *     cm.reschedule(time() + 0.5); // tighter deadline from now on
 *     await sleep(0.25);
 *   });
 *   console.log(cm.expired()); // false
 * }, { clock: "virtual" });
 */
export class Timeout {
  private state: TimeoutState = "created";
  private deadline: number | null;
  private task: Task | undefined = undefined;
  private cancellingAtEntry = 0;
  private timer: TimerHandle | null = null;
  private due: DueCall | null = null;
  private readonly scope = new CancelScope();

  /** A timeout that expires at loop time `when` (seconds), or never if `when` is `null`. */
  constructor(when: number | null) {
    this.deadline = checkWhen(when, "`when`");
  }

  /** The deadline, a loop-clock time in seconds, or `null` if the timeout is disabled. */
  when(): number | null {
    return this.deadline;
  }

  /**
   * Moves the deadline to `when` (a loop-clock time, or `null` to disable it). Only while the
   * block runs and the deadline has not passed: otherwise throws {@link InvalidStateError}
   * ("has not been entered", or "Cannot change state of expiring/expired/finished Timeout").
   */
  reschedule(when: number | null): void {
    const checked = checkWhen(when, "`when`");
    if (this.state !== "active") {
      if (this.state === "created") {
        throw new InvalidStateError("Timeout has not been entered: call reschedule() inside the block run by run()");
      }
      throw new InvalidStateError(
        `Cannot change state of ${this.state} Timeout: reschedule() works only while the block runs and the deadline has not passed`,
      );
    }
    this.deadline = checked;
    this.cancelPending();
    if (checked === null || checked === Number.POSITIVE_INFINITY) return;
    const loop = (this.task as Task).loop;
    if (checked <= loop.time()) {
      const due: DueCall = { timeout: this };
      this.due = due;
      loop.callSoon(fireDue, due);
    } else {
      this.timer = loop.callAt(checked, fireTimer, this as Timeout);
    }
  }

  /**
   * The block's `AbortSignal`, for foreign APIs inside it (`fetch(url, { signal: cm.signal })`):
   * aborted when the deadline passes, or when the task running the block is cancelled. It
   * belongs to this block: after an expiry it stays aborted, while the task's own
   * {@link Task.signal} is never aborted by a timeout. Inside the block, `currentTask().signal`
   * is this signal too.
   */
  get signal(): AbortSignal {
    return this.scope.signal;
  }

  /** True once the deadline has passed while the block ran (asyncio's `expired()`). */
  expired(): boolean {
    return this.state === "expiring" || this.state === "expired";
  }

  /**
   * Runs `body(this)` in the current task under this deadline and returns what it returns.
   * Throws {@link TimeoutError} if the deadline cancelled the block, the block's own error
   * otherwise, and {@link InvalidStateError} if this timeout was entered before. Outside any
   * task the block runs as a task of the default loop.
   */
  async run<T>(body: (cm: Timeout) => T | PromiseLike<T>): Promise<T> {
    checkBody(body, "Timeout.run");
    if (this.state === "created" && currentTask() === undefined) {
      // Plain async code (an HTTP handler, a script): the block runs as a task of the default
      // loop, so the deadline has a task to cancel.
      return await new Task(() => this.run(body), { name: "timeout block" }, getRunningLoop());
    }
    this.enter();
    let result: T;
    try {
      result = await body(this);
    } catch (error) {
      this.exit(true, error);
      throw error;
    }
    this.exit(false, undefined);
    return result;
  }

  toString(): string {
    return this.state === "active" ? `Timeout [active] when=${this.deadline}` : `Timeout [${this.state}]`;
  }

  private enter(): void {
    if (this.state !== "created") {
      throw new InvalidStateError("Timeout has already been entered: a Timeout runs one block; create a new one");
    }
    const task = currentTask() as Task;
    this.state = "active";
    this.task = task;
    this.cancellingAtEntry = task.cancelling();
    task._enterScope(this.scope);
    this.reschedule(this.deadline);
  }

  /** asyncio's `__aexit__`: throws the TimeoutError that replaces `error`, or returns. */
  private exit(threw: boolean, error: unknown): void {
    const task = this.task as Task;
    this.cancelPending();
    task._exitScope(this.scope);
    if (this.state === "expiring") {
      this.state = "expired";
      const remaining = task.uncancel();
      if (remaining <= this.cancellingAtEntry && threw) {
        if (error instanceof CancelledError) {
          throw new TimeoutError(this.expiryMessage(), { cause: error });
        }
        markTimedOut(error, new TimeoutError(this.expiryMessage()));
      }
    } else if (this.state === "active") {
      this.state = "finished";
    }
  }

  private expiryMessage(): string {
    return `Timed out: the deadline (loop time ${this.deadline}) passed before the block finished`;
  }

  private cancelPending(): void {
    if (this.timer !== null) {
      (this.task as Task).loop.clock.cancel(this.timer);
      this.timer = null;
    }
    if (this.due !== null) {
      this.due.timeout = null;
      this.due = null;
    }
  }

  /** @internal The deadline passed: cancel the task running the block. */
  _onTimeout(): void {
    this.timer = null;
    this.due = null;
    if (this.state !== "active") return;
    // Cancels the block, not the task: the task's own signal is not aborted.
    (this.task as Task)._cancelFromScope(this.scope);
    this.state = "expiring";
  }
}

/**
 * Runs `body` with a deadline `delay` seconds from now and returns its result; throws
 * {@link TimeoutError} (its `cause` the {@link CancelledError}) if the deadline cancels it
 * (asyncio's `async with timeout(delay)`). `null` disables the deadline; 0 or a negative delay
 * fires at the block's next await. `body` receives the {@link Timeout}, to read or move its
 * deadline; pass its {@link Timeout.signal} (or `currentTask().signal`, which is the same inside
 * the block) to foreign APIs so they stop at the deadline too. From plain async code outside any
 * task, the block runs as a task of the default loop.
 *
 * Follows asyncio 3.11+: the task is cancelled on expiry and the cancellation is converted on the
 * way out, only by the outermost timeout that expired. A block that swallows the cancellation
 * returns normally. See {@link Timeout} for the details and the foreign-promise caveat.
 *
 * Throws `TypeError` if `delay` is not a number or null, `RangeError` if it is NaN.
 *
 * @example
 * import { isCancelled, run, sleep, timeout, TimeoutError } from "awaitress";
 * await run(async () => {
 *   try {
 *     await timeout(0.5, async () => { await sleep(10) });
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError, isCancelled((e as Error).cause)); // true true
 *   }
 * }, { clock: "virtual" });
 */
export function timeout<T>(delay: number | null, body: (cm: Timeout) => T | PromiseLike<T>): Promise<T> {
  try {
    if (delay !== null) checkSeconds(delay, "`delay`");
    checkBody(body, "timeout");
  } catch (error) {
    return Promise.reject(error);
  }
  return new Timeout(delay === null ? null : getRunningLoop().time() + delay).run(body);
}

/**
 * Like {@link timeout}, with the deadline given as a loop-clock time in seconds (asyncio's
 * `timeout_at`); `null` disables it. Read the loop clock with {@link time}.
 *
 * @example
 * import { run, sleep, time, timeoutAt } from "awaitress";
 * await run(async () => {
 *   const deadline = time() + 2;
 *   const first = await timeoutAt(deadline, () => sleep(1, "first"));
 *   const second = await timeoutAt(deadline, () => sleep(0.5, "second")); // same deadline, shared
 *   console.log(first, second, time()); // first second 1.5
 * }, { clock: "virtual" });
 */
export function timeoutAt<T>(when: number | null, body: (cm: Timeout) => T | PromiseLike<T>): Promise<T> {
  try {
    checkWhen(when, "`when`");
    checkBody(body, "timeoutAt");
  } catch (error) {
    return Promise.reject(error);
  }
  return new Timeout(when).run(body);
}
