/**
 * `retry`: runs a function again after it fails, with exponential backoff, an optional deadline
 * per attempt and a filter of retryable errors (p-retry's job, on awaitress's cancellation).
 */
import { type CancelScope, currentTask, type Task } from "../core/task.js";
import { isCancelled, RetryError } from "../errors.js";
import { sleep } from "../sleep.js";
import { taskGroup } from "../task-group.js";
import { timeout } from "../timeout.js";
import { checkCount, checkFunction, checkNonNegative, checkOptions, checkPositive, checkSignal } from "./checks.js";

/** How long to wait between attempts: `initial * factor ** (n - 1)` seconds before retry n, capped. */
export interface BackoffOptions {
  /**
   * Seconds to wait before the first retry.
   *
   * @default 0.1
   */
  readonly initial?: number;
  /**
   * Each wait is `factor` times the one before (1 for a constant delay).
   *
   * @default 2
   */
  readonly factor?: number;
  /**
   * The longest wait, in seconds.
   *
   * @default 30
   */
  readonly max?: number;
  /**
   * Randomises each wait down by up to this fraction (0 to 1): the wait is
   * `delay * (1 - jitter * random())`, so many clients failing together do not retry together.
   * `1` is "full jitter" (anywhere in [0, delay]).
   *
   * @default 0
   * @example
   * // waits of 0.5–1 s, 1–2 s, 2–4 s, ...
   * await retry(() => fetchPage(url), { backoff: { initial: 1, factor: 2, jitter: 0.5 } });
   */
  readonly jitter?: number;
}

/** What `retryIf` and `onRetry` are told about a failed attempt. */
export interface FailedAttempt {
  /** The attempt's error (never a `CancelledError`). */
  readonly error: unknown;
  /** Which attempt failed, from 1. */
  readonly attempt: number;
  /** Attempts still allowed after this one. */
  readonly attemptsLeft: number;
}

/** A retry policy: how often, how long between, and which errors (shared by {@link retry} and the pool). */
export interface RetryPolicy {
  /**
   * Attempts in all, the first included (a positive integer, or `Infinity`).
   *
   * @default 3
   */
  readonly attempts?: number;
  /** Waits between attempts; see {@link BackoffOptions}. */
  readonly backoff?: BackoffOptions;
  /**
   * Decides whether a failed attempt is retried; `false` stops at once. It never sees a
   * `CancelledError` (cancellation always stops retrying and propagates). May be async.
   *
   * @default () => true
   * @example
   * await retry(() => fetchPage(url), {
   *   retryIf: ({ error }) => error instanceof HttpError && error.status >= 500,
   * });
   */
  readonly retryIf?: (attempt: FailedAttempt) => boolean | PromiseLike<boolean>;
  /**
   * Seconds each attempt may take: an attempt past it is cancelled (its `signal` aborts, and it
   * is interrupted at its next awaitress await) and fails with a `TimeoutError`, which is retried
   * like any other error.
   */
  readonly timeout?: number;
  /**
   * Called before each wait, with the failed attempt and the delay chosen (logging, metrics).
   */
  readonly onRetry?: (attempt: FailedAttempt & { readonly delay: number }) => void;
  /**
   * The random source for `jitter`, returning numbers in [0, 1).
   *
   * @default Math.random
   */
  readonly random?: () => number;
}

/** Options of {@link retry}. */
export interface RetryOptions extends RetryPolicy {
  /**
   * Stops retrying when aborted, during an attempt or a wait: the running attempt is cancelled
   * and `retry` rejects with `signal.reason`.
   */
  readonly signal?: AbortSignal;
}

/** What each attempt receives. */
export interface AttemptInfo {
  /** The attempt's number, from 1. */
  readonly attempt: number;
  /**
   * Aborted when this attempt must stop: its `timeout` passed, or the retry (or the task running
   * it) was cancelled. Pass it to foreign calls (`fetch`, streams).
   */
  readonly signal: AbortSignal;
}

/** @internal A checked {@link RetryPolicy}. */
export interface Policy {
  readonly attempts: number;
  readonly initial: number;
  readonly factor: number;
  readonly max: number;
  readonly jitter: number;
  readonly timeout: number | undefined;
  readonly retryIf: ((attempt: FailedAttempt) => boolean | PromiseLike<boolean>) | undefined;
  readonly onRetry: ((attempt: FailedAttempt & { readonly delay: number }) => void) | undefined;
  readonly random: () => number;
}

/** @internal Checks a {@link RetryPolicy}; `TypeError`/`RangeError` name the bad field. */
export function checkPolicy(options: unknown, what: string): Policy {
  const o = checkOptions<RetryPolicy>(options, what);
  const b = checkOptions<BackoffOptions>(o.backoff, `${what} (backoff)`);
  const jitter = b.jitter === undefined ? 0 : checkNonNegative(b.jitter, "backoff.jitter");
  if (jitter > 1) throw new RangeError(`Expected \`backoff.jitter\` to be between 0 and 1, got \`${jitter}\` (number)`);
  return {
    attempts: o.attempts === undefined ? 3 : checkCount(o.attempts, "attempts", true),
    initial: b.initial === undefined ? 0.1 : checkNonNegative(b.initial, "backoff.initial"),
    factor: b.factor === undefined ? 2 : checkPositive(b.factor, "backoff.factor"),
    max: b.max === undefined ? 30 : checkNonNegative(b.max, "backoff.max"),
    jitter,
    timeout: o.timeout === undefined ? undefined : checkPositive(o.timeout, "timeout", true),
    retryIf:
      o.retryIf === undefined ? undefined : checkFunction(o.retryIf, "retryIf", "({ error }) => isTransient(error)"),
    onRetry: o.onRetry === undefined ? undefined : checkFunction(o.onRetry, "onRetry", "({ delay }) => log(delay)"),
    random: o.random === undefined ? Math.random : checkFunction(o.random, "random", "Math.random"),
  };
}

/** @internal The wait before retry `n` (after `n` failures). */
export function backoffDelay(policy: Policy, failures: number): number {
  const base = Math.min(policy.max, policy.initial * policy.factor ** (failures - 1));
  if (policy.jitter === 0) return base;
  return base * (1 - policy.jitter * policy.random());
}

/**
 * @internal An attempt's view of its signal: the signal of the block it runs in (its timeout's,
 * or the task's), made only if the attempt reads it.
 */
export class Attempt implements AttemptInfo {
  private readonly scope: CancelScope | null;
  private readonly task: Task | undefined;
  private cached: AbortSignal | undefined = undefined;
  /** `task`: the task running the attempt, when the caller has it at hand (saves a lookup). */
  constructor(
    readonly attempt: number,
    task: Task | undefined = currentTask(),
  ) {
    this.task = task;
    this.scope = task === undefined ? null : task._scope;
  }
  get signal(): AbortSignal {
    if (this.cached !== undefined) return this.cached;
    let signal: AbortSignal;
    if (this.scope !== null) signal = this.scope.signal;
    else if (this.task !== undefined) signal = this.task.signal;
    else signal = new AbortController().signal; // no task: nothing can cancel the call
    this.cached = signal;
    return signal;
  }
}

/**
 * @internal Runs attempts of `attempt(n)` in the current task under `policy`. Cancellation (of
 * the task, or of an enclosing block) leaves at once. `firstError`: attempt 1 already ran and
 * failed with it (the pool runs first attempts itself, without this loop's cost).
 */
export async function retryLoop<T>(
  policy: Policy,
  attempt: (n: number) => T | PromiseLike<T>,
  firstError?: { readonly error: unknown },
): Promise<T> {
  const errors: unknown[] = [];
  let n = 1;
  if (firstError !== undefined) {
    await afterFailure(policy, errors, firstError.error, n);
    n = 2;
  }
  for (; ; n++) {
    try {
      if (policy.timeout === undefined) return await attempt(n);
      return await timeout(policy.timeout, () => attempt(n));
    } catch (error) {
      if (isCancelled(error)) throw error;
      await afterFailure(policy, errors, error, n);
    }
  }
}

/** Records attempt `n`'s error; throws the {@link RetryError} if that was the last, else waits the backoff. */
async function afterFailure(policy: Policy, errors: unknown[], error: unknown, n: number): Promise<void> {
  errors.push(error);
  const failed: FailedAttempt = { error, attempt: n, attemptsLeft: policy.attempts - n };
  if (n >= policy.attempts || (policy.retryIf !== undefined && !(await policy.retryIf(failed)))) {
    throw giveUp(errors, n >= policy.attempts);
  }
  const delay = backoffDelay(policy, n);
  policy.onRetry?.({ ...failed, delay });
  await sleep(delay);
}

function giveUp(errors: unknown[], exhausted: boolean): RetryError {
  const n = errors.length;
  const last = errors[n - 1];
  const text = last instanceof Error ? `${last.name}: ${last.message}` : String(last);
  const why = exhausted
    ? `failed ${n} attempt${n === 1 ? "" : "s"}`
    : `stopped after ${n} attempt${n === 1 ? "" : "s"} (retryIf declined)`;
  return new RetryError(`retry ${why}; last error: ${text}`, errors);
}

/**
 * Calls `fn({ attempt, signal })` until it succeeds, at most `attempts` times, waiting with
 * exponential backoff between attempts (p-retry's job). Resolves to the first success.
 *
 * - Each attempt may have a deadline (`timeout`): it is cancelled when the deadline passes, its
 *   `signal` aborts, and it counts as failed with a `TimeoutError`.
 * - `retryIf({ error, attempt })` filters the errors worth retrying. It never sees a
 *   `CancelledError`: cancelling the task running `retry` (or aborting `signal`) stops it at
 *   once, during an attempt or a backoff wait, with that `CancelledError` (or `signal.reason`).
 * - When it gives up, `retry` throws a {@link RetryError}: an `ExceptionGroup` of every
 *   attempt's error, in order, with the last one as `cause`.
 *
 * The waits are awaitress sleeps, so on the virtual clock a retry schedule runs instantly and
 * exactly. Outside any task it runs as a task of the default loop (like `timeout`).
 *
 * Errors: `TypeError`/`RangeError` for bad options, before the first attempt.
 *
 * @example
 * import { retry, run, time } from "awaitress";
 * await run(async () => {
 *   let calls = 0;
 *   const value = await retry(
 *     async ({ attempt }) => {
 *       calls++;
 *       if (attempt < 3) throw new Error("503");
 *       return "ok";
 *     },
 *     { attempts: 5, backoff: { initial: 1, factor: 2 } },
 *   );
 *   console.log(value, calls, time()); // ok 3 3  (waited 1 s, then 2 s)
 * }, { clock: "virtual" });
 */
export async function retry<T>(fn: (info: AttemptInfo) => T | PromiseLike<T>, options?: RetryOptions): Promise<T> {
  checkFunction(fn, "fn", "({ attempt, signal }) => fetch(url, { signal })");
  const policy = checkPolicy(options, "retry()");
  const signal = checkSignal(options?.signal, "signal");
  const attempt = (n: number): T | PromiseLike<T> => fn(new Attempt(n));
  if (signal === undefined && currentTask() !== undefined) return retryLoop(policy, attempt);
  signal?.throwIfAborted();
  // A signal (or no task to cancel): run inside a group whose cancel() stops the attempt or wait.
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await taskGroup(async (tg) => {
      if (signal !== undefined) {
        onAbort = () => tg.cancel();
        signal.addEventListener("abort", onAbort, { once: true });
      }
      try {
        outcome = { ok: true, value: await retryLoop(policy, attempt) };
      } catch (error) {
        outcome = { ok: false, error };
      }
    });
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
  }
  if (signal?.aborted) throw signal.reason;
  if (outcome === undefined) throw new Error("retry: the attempts ended without an outcome"); // not reached
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
