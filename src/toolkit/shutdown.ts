/**
 * `shutdownOn`: graceful shutdown of a worker pool on process signals (SIGINT, SIGTERM): stop
 * taking items, let the jobs in hand finish within a grace period, then cancel them.
 */
import { constants } from "node:os";
import { describe } from "../errors.js";
import { checkNonNegative, checkOptions } from "./checks.js";
import type { PoolSummary, WorkerPool } from "./worker-pool.js";

/** Options of {@link shutdownOn}. */
export interface ShutdownOptions {
  /**
   * Seconds the jobs in flight get to finish after the first signal; then they are cancelled
   * (their items go back on the queue). A second signal cancels them at once.
   *
   * @default 10
   */
  readonly grace?: number;
  /**
   * `process.exitCode` after a shutdown whose jobs all finished within the grace period.
   *
   * @default 0
   */
  readonly gracefulExitCode?: number;
}

/** What {@link shutdownOn} returns: which signal came, and a way to stop listening. */
export interface ShutdownHandle extends Disposable {
  /** The first signal received, or `undefined`. */
  readonly received: NodeJS.Signals | undefined;
  /** Removes the listeners (done by itself when the pool ends). Idempotent. */
  dispose(): void;
}

function signalNumber(signal: NodeJS.Signals): number {
  return (constants.signals as Record<string, number | undefined>)[signal] ?? 0;
}

/**
 * Listens for `signals` and shuts `pool` down gracefully on the first one: the pool stops taking
 * items, the jobs in flight get `grace` seconds to finish, then they are cancelled and their
 * items put back on the queue (see {@link WorkerPool.shutdown}); items not started stay in the
 * queue. A second signal cancels at once. The listeners are removed when the pool ends.
 *
 * The exit code says what happened, once the pool has ended after a signal:
 * `gracefulExitCode` (0) if every job in flight finished within the grace period, and
 * `128 + signal number` (130 for SIGINT, 143 for SIGTERM, the shell's convention for "killed by
 * this signal") if jobs had to be cancelled. It is set as `process.exitCode`, so the program
 * still ends normally and its `finally` blocks run. With no signal, the exit code is untouched.
 *
 * Installing a listener for a signal is what makes Node (and `run()`) leave that signal to the
 * program: while the pool runs, SIGINT no longer kills the process.
 *
 * Errors: `TypeError` for signals that are not a non-empty array of signal names, `RangeError`
 * for a negative grace period.
 *
 * @example
 * import { Queue, run, shutdownOn, sleep, workerPool } from "awaitress";
 * await run(async () => {
 *   const queue = new Queue<number>();
 *   for (let i = 0; i < 1000; i++) queue.putNowait(i);
 *   const pool = workerPool(queue, () => sleep(0.5), { workers: 4, stopWhenIdle: true });
 *   shutdownOn(["SIGINT", "SIGTERM"], pool, { grace: 5 });
 *   const { outcome } = await pool;
 *   // "drained" 0: 1000 jobs in 125 virtual seconds. On the real clock, after a Ctrl-C:
 *   // "stopped" (or "cancelled" past the grace period), with the jobs not done still queued.
 *   console.log(outcome, queue.qsize());
 * }, { clock: "virtual" });
 */
export function shutdownOn<T>(
  signals: readonly NodeJS.Signals[],
  pool: WorkerPool<T>,
  options?: ShutdownOptions,
): ShutdownHandle {
  if (
    !Array.isArray(signals) ||
    signals.length === 0 ||
    !signals.every((s: unknown) => typeof s === "string" && signalNumber(s as NodeJS.Signals) > 0)
  ) {
    throw new TypeError(
      `Expected \`signals\` to be a non-empty array of signal names such as ["SIGINT", "SIGTERM"], got ${describe(signals)}`,
    );
  }
  const o = checkOptions<ShutdownOptions>(options, "shutdownOn()");
  const grace =
    o.grace === undefined ? 10 : o.grace === Number.POSITIVE_INFINITY ? o.grace : checkNonNegative(o.grace, "grace");
  const gracefulExitCode = o.gracefulExitCode ?? 0;
  let received: NodeJS.Signals | undefined;
  let disposed = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (received === undefined) {
      received = signal;
      pool.shutdown(grace);
    } else {
      pool.cancel();
    }
  };
  const dispose = (): void => {
    if (disposed) return;
    disposed = true;
    for (const s of signals) process.removeListener(s, onSignal);
  };
  const onEnd = (summary: PoolSummary<T> | undefined): void => {
    dispose();
    if (received === undefined) return;
    const forced = summary === undefined || summary.outcome === "cancelled" || summary.cancelled.length > 0;
    process.exitCode = forced ? 128 + signalNumber(received) : gracefulExitCode;
  };
  for (const s of signals) process.on(s, onSignal);
  pool.then(onEnd, () => onEnd(pool.summary));
  return {
    get received() {
      return received;
    },
    dispose,
    [Symbol.dispose]: dispose,
  };
}
