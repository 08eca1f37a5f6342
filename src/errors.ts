/**
 * Every error awaitress throws on purpose, in one file, under one base class.
 *
 * Argument errors use the built-in `TypeError` / `RangeError` (the JavaScript convention);
 * everything that is about the state of a task, a queue or a primitive is an
 * {@link AwaitressError} subclass named after its asyncio counterpart.
 */

import { escapeControl, safeString } from "./internal/text.js";

/** Describes a value for an error message: "`-1` (number)", "a Promise", "`undefined`". */
export function describe(value: unknown): string {
  if (value === null) return "`null`";
  if (value === undefined) return "`undefined`";
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""}`;
  if (typeof value === "object") {
    const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
    if (tag === "Task" || tag === "Future") return `a ${tag}`;
    if (typeof (value as { then?: unknown }).then === "function") return "a Promise (an already started operation)";
    const name = (value as object).constructor?.name;
    return name ? `an object (${name})` : "an object";
  }
  if (typeof value === "string") return `${JSON.stringify(value)} (string)`;
  return `\`${String(value)}\` (${typeof value})`;
}

/**
 * Base class of every error awaitress defines, so `catch (e) { if (e instanceof AwaitressError) }`
 * tells library errors from the program's own.
 */
export class AwaitressError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Thrown at the await point of a task that was cancelled (asyncio's `CancelledError`).
 *
 * asyncio makes it a `BaseException` so `except Exception` does not swallow it. JavaScript has no
 * such hierarchy: a bare `catch` catches it. Use {@link isCancelled} in a `catch` that should not
 * swallow cancellation, and rethrow.
 *
 * @example
 * try { await sleep(10) } catch (e) { if (isCancelled(e)) throw e; console.error(e) }
 */
export class CancelledError extends AwaitressError {
  /** The value given to `task.cancel(reason)`, or `undefined`. */
  readonly reason: unknown;
  constructor(reason?: unknown, options?: ErrorOptions) {
    super(reason === undefined || reason === null ? "the task was cancelled" : String(reason), options);
    this.reason = reason ?? undefined;
  }
}

/** True when `e` is a {@link CancelledError}: use it in a `catch` to let cancellation through. */
export function isCancelled(e: unknown): e is CancelledError {
  return e instanceof CancelledError;
}

/** Rethrows `e` when it is a {@link CancelledError}; does nothing otherwise. */
export function rethrowIfCancelled(e: unknown): void {
  if (e instanceof CancelledError) throw e;
}

/**
 * A deadline passed (`timeout`, `timeoutAt`, `waitFor`, `wait`'s callers). Its `cause` is the
 * {@link CancelledError} the deadline delivered to the task, as in Python 3.11+.
 */
export class TimeoutError extends AwaitressError {}

/**
 * An operation was called in a state that does not allow it: `result()` before a future is done,
 * `setResult()` twice, a task group used after it closed, a lock released while unlocked,
 * `taskDone()` called too often.
 */
export class InvalidStateError extends AwaitressError {}

/** An error class (any constructor). @inline */
type ErrorClass = abstract new (...args: never[]) => unknown;
/** What `split` and `subgroup` match: an error class, a list of them, or a predicate. @inline */
type Matcher = ErrorClass | readonly ErrorClass[] | ((error: unknown) => boolean);

function toPredicate(matcher: Matcher): (error: unknown) => boolean {
  if (Array.isArray(matcher)) {
    const classes = matcher as readonly ErrorClass[];
    return (e) => classes.some((c) => e instanceof c);
  }
  if (typeof matcher === "function" && matcher.prototype !== undefined && isErrorClass(matcher)) {
    const cls = matcher as ErrorClass;
    return (e) => e instanceof cls;
  }
  return matcher as (error: unknown) => boolean;
}

function isErrorClass(f: unknown): boolean {
  if (typeof f !== "function") return false;
  const proto = (f as { prototype?: unknown }).prototype;
  return proto === Error.prototype || proto instanceof Error;
}

/**
 * Several errors raised together (Python 3.11's `ExceptionGroup`), as thrown by a task group.
 * Extends `AggregateError`, so `errors` holds the same list as `exceptions`.
 *
 * `split` and `subgroup` take an error class, a list of classes or a predicate, and keep the
 * nesting of groups, as Python's do. They are the `except*` of TypeScript.
 *
 * @example
 * try {
 *   await taskGroup(async (tg) => {
 *     for (const url of urls) tg.createTask(() => timeout(5, () => fetchPage(url)));
 *   });
 * } catch (e) {
 *   if (!(e instanceof ExceptionGroup)) throw e;
 *   const [timeouts, rest] = e.split(TimeoutError);
 *   if (rest) throw rest;
 * }
 */
export class ExceptionGroup extends AggregateError {
  readonly exceptions: readonly unknown[];
  constructor(message: string, exceptions: readonly unknown[]) {
    if (typeof message !== "string") {
      throw new TypeError(`ExceptionGroup expects a message string first, got ${describe(message)}`);
    }
    if (!Array.isArray(exceptions) || exceptions.length === 0) {
      throw new TypeError("ExceptionGroup expects a non-empty array of errors as its second argument");
    }
    super(exceptions, message);
    this.name = new.target.name;
    this.exceptions = Object.freeze([...exceptions]);
  }

  /**
   * The group's name and message, then each sub-exception's, numbered and indented as Python's
   * traceback shows them (nested groups nest):
   *
   * ```text
   * ExceptionGroup: unhandled errors in a TaskGroup (2 sub-exceptions)
   *   1. RangeError: bad page
   *   2. TypeError: fetch failed
   * ```
   */
  override toString(): string {
    return groupLines(this, "").join("\n");
  }

  /** What `console.log`/`console.error` print (Node's `util.inspect`): each sub-exception's stack, as Python's traceback does. */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (value: unknown, options: unknown) => string,
  ): string {
    const lines = [this.stack ?? `${this.name}: ${this.message}`];
    const n = this.exceptions.length;
    this.exceptions.forEach((member, i) => {
      lines.push(`${i === 0 ? "  +-+" : "    +"}---------------- ${i + 1} ----------------`);
      const text = typeof inspect === "function" ? inspect(member, options) : safeString(member);
      for (const line of text.split("\n")) lines.push(`    | ${line}`);
    });
    if (n > 0) lines.push("    +------------------------------------");
    if (this.cause !== undefined) {
      const text = typeof inspect === "function" ? inspect(this.cause, options) : safeString(this.cause);
      lines.push(`  [cause]: ${text.split("\n").join("\n  ")}`);
    }
    return lines.join("\n");
  }

  /** A group of the same kind and message holding `exceptions` (Python's `derive`). */
  derive(exceptions: readonly unknown[]): ExceptionGroup {
    const group = new ExceptionGroup(this.message, exceptions);
    group.cause = this.cause;
    return group;
  }

  /** The errors matching `matcher`, in a group shaped like this one, or `undefined`. */
  subgroup(matcher: Matcher): ExceptionGroup | undefined {
    return this.split(matcher)[0];
  }

  /** `[matching, rest]`: two groups shaped like this one (either may be `undefined`). */
  split(matcher: Matcher): [ExceptionGroup | undefined, ExceptionGroup | undefined] {
    const predicate = toPredicate(matcher);
    if (predicate(this)) return [this, undefined];
    const matched: unknown[] = [];
    const rest: unknown[] = [];
    for (const e of this.exceptions) {
      if (e instanceof ExceptionGroup) {
        const [m, r] = e.split(predicate);
        if (m) matched.push(m);
        if (r) rest.push(r);
      } else if (predicate(e)) {
        matched.push(e);
      } else {
        rest.push(e);
      }
    }
    return [matched.length > 0 ? this.derive(matched) : undefined, rest.length > 0 ? this.derive(rest) : undefined];
  }
}

function memberLine(member: unknown): string {
  if (member instanceof Error) {
    try {
      return `${member.name}: ${member.message}`;
    } catch {
      return safeString(member);
    }
  }
  return typeof member === "string" ? JSON.stringify(member) : safeString(member);
}

function groupLines(group: ExceptionGroup, indent: string): string[] {
  const lines = [`${indent}${group.name}: ${group.message}`];
  group.exceptions.forEach((member, i) => {
    const label = `${indent}  ${i + 1}. `;
    if (member instanceof ExceptionGroup) {
      const [first, ...rest] = groupLines(member, `${indent}     `);
      lines.push(`${label}${(first as string).trimStart()}`, ...rest);
    } else {
      lines.push(`${label}${memberLine(member)}`);
    }
  });
  return lines;
}

/** One task of a {@link DeadlockError}: who waits, on what, since when. */
export interface DeadlockedTask {
  /** The task's name. */
  readonly name: string;
  /** What it waits on, as traces say it: "queue.get", "lock.acquire", `task "Two"`, "future". */
  readonly waitsOn: string;
  /** Virtual time at which it started waiting, in seconds. */
  readonly since: number;
}

/**
 * A program on the virtual clock in which every task waits on an awaitress future (a queue, a
 * lock, an event, another task) and no timer is pending: nothing can ever wake any of them, so
 * `run` rejects with this error instead of hanging. `waiting` lists every task, what it waits on
 * and since when; `seed` is the shuffle seed the run used, if any.
 *
 * @example
 * try { await run(main, { clock: "virtual" }) } catch (e) {
 *   if (e instanceof DeadlockError) for (const t of e.waiting) console.log(t.name, t.waitsOn);
 * }
 */
export class DeadlockError extends AwaitressError {
  /** Every task still alive, each waiting. */
  readonly waiting: readonly DeadlockedTask[];
  /** Virtual time at which the deadlock was found, in seconds. */
  readonly time: number;
  /** The `shuffle` seed of the run (replay it to reproduce the deadlock), or `undefined`. */
  readonly seed: number | undefined;
  constructor(waiting: readonly DeadlockedTask[], time: number, seed?: number) {
    const lines = waiting.map(
      // Names and labels come from the program: control characters are shown, not sent.
      (t) =>
        `  "${escapeControl(t.name)}" waits on ${escapeControl(t.waitsOn)} (since t=${t.since}s, for ${+(time - t.since).toPrecision(12)}s)`,
    );
    const replay =
      seed === undefined ? "" : `\nShuffle seed ${seed}: run(main, { clock: "virtual", shuffle: ${seed} }) replays it.`;
    super(
      `Deadlock at virtual time ${time}s: every task waits and no timer is pending, so none can ever resume:\n` +
        `${lines.join("\n")}\n` +
        "Find the put, release, set or result that was meant to wake one of them." +
        replay,
    );
    this.waiting = Object.freeze([...waiting]);
    this.time = time;
    this.seed = seed;
  }
}

/**
 * `run` was stopped by a signal (SIGINT — Ctrl-C — or SIGTERM): its main task was cancelled, has
 * unwound (its `finally` blocks and task groups ran), and `run` rejects with this error (asyncio's
 * `run` raises `KeyboardInterrupt`). `run` also sets `process.exitCode` to {@link Interrupted.exitCode}
 * (130 for SIGINT, 143 for SIGTERM: 128 + the signal number, what a shell reports), and when this
 * rejection reaches the top level unhandled the process exits with that code, not 1. Its `cause`
 * is the {@link CancelledError} main ended with.
 *
 * @example
 * try { await run(main) } catch (e) {
 *   if (!(e instanceof Interrupted)) throw e;
 *   console.error(`stopped by ${e.signal}`); // the exit code stays e.exitCode
 * }
 */
export class Interrupted extends AwaitressError {
  /** The signal that stopped the run: `"SIGINT"` or `"SIGTERM"`. */
  readonly signal: string;
  /** The exit code a process killed by that signal reports: 128 + the signal number. */
  readonly exitCode: number;
  constructor(signal: string, exitCode: number, options?: ErrorOptions) {
    super(`run() was interrupted by ${signal}: main was cancelled and has unwound (exit code ${exitCode})`, options);
    this.signal = signal;
    this.exitCode = exitCode;
  }
}

/** `Queue.getNowait()` on an empty queue. */
export class QueueEmpty extends AwaitressError {}

/** `Queue.putNowait()` on a full queue. */
export class QueueFull extends AwaitressError {
  readonly maxsize: number;
  constructor(message: string, maxsize: number) {
    super(message);
    this.maxsize = maxsize;
  }
}

/** `put` on a queue that was shut down, or `get` on one that was shut down and is empty. */
export class QueueShutDown extends AwaitressError {}

/**
 * A {@link RedisQueue} operation failed on the Redis side: the server cannot be reached, the
 * connection was lost while the operation was in flight (a `put` in flight may or may not have
 * been stored), the consumer group vanished (a restart without persistence), or the queue was
 * closed. `cause` holds the client's error, if any.
 */
export class RedisQueueError extends AwaitressError {}

/** A `Barrier` was reset or aborted while a task waited on it, or is broken. */
export class BrokenBarrierError extends AwaitressError {}

/** A `Timer` was stopped before it started, or started while running (codetiming's `TimerError`). */
export class TimerError extends AwaitressError {}

/**
 * {@link retry} gave up: every attempt failed, or `retryIf` declined to retry. An
 * {@link ExceptionGroup} of every attempt's error, in order (so `split`/`subgroup` and the console
 * show each one); `cause` is the last attempt's error and `attempts` the number of attempts made.
 * A cancellation is never wrapped: it leaves `retry` as the `CancelledError` itself.
 *
 * @example
 * try { await retry(({ signal }) => fetchPage(url, { signal }), { attempts: 3 }) } catch (e) {
 *   if (e instanceof RetryError) console.log(e.attempts, e.cause); // 3, the last error
 * }
 */
export class RetryError extends ExceptionGroup {
  /** Number of attempts made (the length of `exceptions`). */
  readonly attempts: number;
  constructor(message: string, exceptions: readonly unknown[]) {
    super(message, exceptions);
    this.attempts = exceptions.length;
    Object.defineProperty(this, "cause", {
      value: exceptions[exceptions.length - 1],
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
}
