/**
 * `workerPool`: the asyncio worker pattern as one call — `workers` tasks drain a queue, each job
 * under a deadline, with retries and a shared rate limit, counted, observable and stoppable.
 */
import type { TimerHandle } from "../clock/clock.js";
import { Future } from "../core/future.js";
import { getRunningLoop, type Loop } from "../core/loop.js";
import { currentTask, Task } from "../core/task.js";
import { ExceptionGroup, isCancelled, QueueShutDown } from "../errors.js";
import { TaskGroup } from "../task-group.js";
import { timeout } from "../timeout.js";
import { checkCount, checkFunction, checkNonNegative, checkOptions, checkPositive } from "./checks.js";
import type { Progress, ProgressListener } from "./progress.js";
import { RateLimiter } from "./rate-limiter.js";
import { Attempt, checkPolicy, type Policy, type RetryPolicy, retryLoop } from "./retry.js";

/**
 * What the pool needs of a queue: awaitress's `Queue`, `PriorityQueue` and `LifoQueue` have it,
 * and so does `RedisQueue` (`awaitress/redis`), whose answers are round trips: `taskDone`,
 * `shutdown` and `qsize` may return promises. `get` throws `QueueShutDown` once the queue is shut
 * down and empty; that is how the workers learn to stop.
 */
export interface WorkQueue<T> {
  get(): PromiseLike<T>;
  /** Used only to put back the items of jobs in flight when the pool is cancelled. */
  put(item: T): PromiseLike<void>;
  /** Called by the worker that got the item, after its job ended; awaited when it returns a promise. */
  taskDone(): void | PromiseLike<void>;
  /** Used only with `stopWhenIdle`. */
  join(): PromiseLike<void>;
  /** Used only with `stopWhenIdle`; awaited when it returns a promise. */
  shutdown(immediate?: boolean): void | PromiseLike<void>;
  /**
   * Items waiting, for {@link WorkerPool.stats} and progress: a number, or a promise of one (the
   * stats then show the last answer, with at most one question in flight).
   */
  qsize(): number | PromiseLike<number>;
}

/** What a job's handler receives besides the item. */
export interface JobInfo {
  /** The attempt, from 1 (above 1 only with `retry`). */
  readonly attempt: number;
  /** The worker running the job, from 1. */
  readonly worker: number;
  /**
   * Aborted when the job must stop: its `timeout` passed, or the pool was cancelled (or its grace
   * period ran out). Pass it to foreign calls (`fetch`, streams, child processes).
   */
  readonly signal: AbortSignal;
}

/** A job's handler: does the work for one item. */
export type JobHandler<T> = (item: T, info: JobInfo) => unknown;

/** Options of {@link workerPool}. */
export interface WorkerPoolOptions {
  /**
   * Number of worker tasks: the most jobs in flight at once. A positive integer.
   *
   * @default 1
   */
  readonly workers?: number;
  /**
   * Seconds each attempt of a job may take. Past it the job is cancelled — its signal aborts and
   * it is interrupted at its next awaitress await, even if it ignores the signal — and it fails
   * with a `TimeoutError` (retried if `retry` says so). A job stuck in a foreign promise that
   * ignores its signal keeps its worker until that promise settles (nothing in JavaScript can
   * stop it), then ends as timed out: no job's awaitress code runs past its deadline, and the
   * number in flight never exceeds `workers`.
   *
   * @example
   * workerPool(queue, (url, { signal }) => fetch(url, { signal }), { workers: 8, timeout: 5 });
   */
  readonly timeout?: number;
  /** Retries of a failed job (see {@link RetryPolicy}; the pool's `timeout` applies to each attempt). */
  readonly retry?: Omit<RetryPolicy, "timeout">;
  /** A limiter every attempt acquires (weight 1) before it starts, outside its timeout. */
  readonly rateLimit?: RateLimiter;
  /**
   * `"continue"`: a failed job is recorded in the summary and the workers go on. `"fail-fast"`:
   * the first failure cancels the pool, and awaiting the pool throws that error.
   *
   * @default "continue"
   */
  readonly onError?: "continue" | "fail-fast";
  /**
   * Shut the queue down once every item put on it is done (`queue.join()`), so the pool ends by
   * itself: for work that discovers more work (a crawler) and for a queue filled up front.
   *
   * @default false
   */
  readonly stopWhenIdle?: boolean;
  /** Called after each job ends (and once when the pool ends) with the pool's counts. */
  readonly onProgress?: ProgressListener;
  /**
   * Names the tasks (`"<name> worker 3"`) in traces and task dumps.
   *
   * @default "pool"
   */
  readonly name?: string;
}

/** A job that failed: its item and its error (a `RetryError` when it was retried). */
export interface JobFailure<T> {
  readonly item: T;
  readonly error: unknown;
}

/** How the pool ended. */
export type PoolOutcome =
  /** The queue was shut down and every item handled. */
  | "drained"
  /** `shutdown()` (or a signal, with `shutdownOn`): the jobs in flight finished within the grace period. */
  | "stopped"
  /** `cancel()`, or a grace period that ran out: the jobs in flight were cancelled. */
  | "cancelled"
  /** `onError: "fail-fast"` and a job failed. */
  | "failed";

/** What awaiting a pool gives: what happened to every item it took. */
export interface PoolSummary<T> {
  readonly outcome: PoolOutcome;
  /** Jobs that succeeded. */
  readonly done: number;
  /** Jobs that failed, with their errors, in the order they failed. */
  readonly failed: readonly JobFailure<T>[];
  /** Retries made (attempts beyond the first), over all jobs. */
  readonly retried: number;
  /**
   * Items that were in flight when the pool was cancelled: put back on the queue (when it was not
   * shut down), so every item is done, failed, or still in the queue.
   */
  readonly cancelled: readonly T[];
  /** Loop seconds from the pool's start to its end. */
  readonly elapsed: number;
}

/** The pool's counts at one moment; see {@link WorkerPool.stats}. */
export interface PoolStats {
  readonly done: number;
  readonly failed: number;
  readonly inFlight: number;
  /**
   * Items waiting in the queue (`queue.qsize()`). For a queue whose qsize is a round trip
   * (RedisQueue), its last answer (0 before the first), asked again when stats are read.
   */
  readonly queued: number;
  readonly retried: number;
  /** Jobs ended (done or failed) per second since the pool started. */
  readonly rate: number;
  readonly elapsed: number;
}

function forceStop(pool: WorkerPool<unknown>): void {
  pool._forceStop();
}

/** The context a handler gets: an attempt's signal, and which worker runs it. */
class Job extends Attempt implements JobInfo {
  constructor(
    attempt: number,
    readonly worker: number,
    task?: Task,
  ) {
    super(attempt, task);
  }
}

/**
 * A running pool of worker tasks (see {@link workerPool}). Await it for its {@link PoolSummary};
 * {@link WorkerPool.cancel} and {@link WorkerPool.shutdown} stop it; {@link WorkerPool.stats}
 * reads its counts at any moment.
 */
export class WorkerPool<T> implements PromiseLike<PoolSummary<T>> {
  private readonly queue: WorkQueue<T>;
  private readonly handler: JobHandler<T>;
  private readonly workers: number;
  private readonly jobTimeout: number | undefined;
  private readonly policy: Policy | undefined;
  private readonly limiter: RateLimiter | undefined;
  private readonly failFast: boolean;
  private readonly stopWhenIdle: boolean;
  private readonly onProgress: ProgressListener | undefined;
  private readonly name: string;
  private readonly loop: Loop;
  private readonly group = new TaskGroup();
  private readonly supervisor: Task<PoolSummary<T>>;
  private readonly idle = new Set<Task>();
  private joiner: Task | undefined = undefined;
  private readonly failures: JobFailure<T>[] = [];
  private readonly interrupted: T[] = [];
  private startedAt: number;
  private endedAt: number | undefined = undefined;
  private doneCount = 0;
  private inFlight = 0;
  private retries = 0;
  private stopping = false;
  private cancelled = false;
  private failedFast = false;
  private graceTimer: TimerHandle | null = null;
  private result: PoolSummary<T> | undefined = undefined;
  /** For a queue whose qsize() is a promise: its last answer, and whether a question is out. */
  private lastQueued = 0;
  private askingQueued = false;

  /** @internal Use {@link workerPool}. */
  constructor(queue: WorkQueue<T>, handler: JobHandler<T>, options?: WorkerPoolOptions) {
    if (typeof queue !== "object" || queue === null || typeof (queue as WorkQueue<T>).get !== "function") {
      throw new TypeError("workerPool expects a queue first (a Queue, or anything with get/put/taskDone/shutdown)");
    }
    const o = checkOptions<WorkerPoolOptions>(options, "workerPool()");
    this.queue = queue;
    this.handler = checkFunction(handler, "handler", "async (item, { signal }) => work(item, signal)");
    this.workers = o.workers === undefined ? 1 : checkCount(o.workers, "workers");
    this.jobTimeout = o.timeout === undefined ? undefined : checkPositive(o.timeout, "timeout", true);
    if (o.rateLimit !== undefined && !(o.rateLimit instanceof RateLimiter)) {
      throw new TypeError("Expected `rateLimit` to be a RateLimiter, such as new RateLimiter({ rate: 10 })");
    }
    this.limiter = o.rateLimit;
    if (o.retry !== undefined && (o.retry as RetryPolicy).timeout !== undefined) {
      throw new TypeError("workerPool: give the per-attempt deadline as the pool's `timeout`, not `retry.timeout`");
    }
    if (o.retry !== undefined) {
      const policy = checkPolicy(o.retry, "workerPool() (retry)");
      const onRetry = policy.onRetry;
      this.policy = {
        ...policy,
        timeout: undefined,
        onRetry: (failed) => {
          this.retries++;
          onRetry?.(failed);
        },
      };
    }
    if (o.onError !== undefined && o.onError !== "continue" && o.onError !== "fail-fast") {
      throw new TypeError(`Expected \`onError\` to be "continue" or "fail-fast", got ${String(o.onError)}`);
    }
    this.failFast = o.onError === "fail-fast";
    this.stopWhenIdle = o.stopWhenIdle === true;
    this.onProgress =
      o.onProgress === undefined ? undefined : checkFunction(o.onProgress, "onProgress", "(p) => bar.update(p)");
    this.name = o.name === undefined ? "pool" : String(o.name);
    this.loop = getRunningLoop();
    this.startedAt = this.loop.time();
    this.supervisor = new Task(() => this.supervise(), { name: this.name }, this.loop);
  }

  // biome-ignore lint/suspicious/noThenProperty: a pool is awaitable by design, as a Future is
  then<R1 = PoolSummary<T>, R2 = never>(
    onFulfilled?: ((summary: PoolSummary<T>) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): PromiseLike<R1 | R2> {
    return this.supervisor.then(onFulfilled, onRejected);
  }

  /**
   * Cancels the pool: idle workers stop, jobs in flight are cancelled (their signals abort) and
   * their items put back on the queue; the pool then resolves with outcome `"cancelled"`.
   * Idempotent.
   *
   * @example
   * const pool = workerPool(queue, handle, { workers: 4 });
   * setTimeout(() => pool.cancel(), 1000);
   * const { outcome, cancelled } = await pool; // "cancelled", the items that were in flight
   */
  cancel(): void {
    if (this.endedAt !== undefined) return;
    this.stopping = true;
    this.cancelled = true;
    this.group.cancel();
  }

  /**
   * Stops taking items: idle workers stop at once, busy ones after their current job. After
   * `grace` seconds (default: never) the jobs still in flight are cancelled as by
   * {@link WorkerPool.cancel}. Items not started stay in the queue. Calling it again can only
   * shorten the grace period.
   *
   * @example
   * pool.shutdown(10); // finish what is in hand within 10 s
   * const { outcome } = await pool; // "stopped", or "cancelled" if 10 s were not enough
   */
  shutdown(grace = Number.POSITIVE_INFINITY): void {
    checkNonNegative(grace === Number.POSITIVE_INFINITY ? 0 : grace, "grace");
    if (this.endedAt !== undefined) return;
    this.stopping = true;
    for (const task of this.idle) task.cancel();
    this.joiner?.cancel(); // items stay in the queue: it will not be joined
    if (grace === Number.POSITIVE_INFINITY) return;
    const at = this.loop.time() + grace;
    if (this.graceTimer !== null) {
      if (this.graceTimer.when <= at) return;
      this.loop.clock.cancel(this.graceTimer);
    }
    this.graceTimer = grace === 0 ? null : this.loop.callAt(at, forceStop, this as WorkerPool<unknown>);
    if (grace === 0) this._forceStop();
  }

  /** @internal The grace period ran out. */
  _forceStop(): void {
    this.graceTimer = null;
    this.cancel();
  }

  /**
   * The pool's counts now: done, failed, in flight, queued, retried, and the rate of jobs ended
   * per second.
   *
   * @example
   * const { done, inFlight, queued, rate } = pool.stats();
   */
  stats(): PoolStats {
    const elapsed = (this.endedAt ?? this.loop.time()) - this.startedAt;
    const ended = this.doneCount + this.failures.length;
    return {
      done: this.doneCount,
      failed: this.failures.length,
      inFlight: this.inFlight,
      queued: this.queued(),
      retried: this.retries,
      rate: elapsed > 0 ? ended / elapsed : 0,
      elapsed,
    };
  }

  /** qsize now, or for a remote queue its last answer (asking again if no question is out). */
  private queued(): number {
    if (this.askingQueued) return this.lastQueued;
    const size = this.queue.qsize();
    if (typeof size === "number") return size;
    this.askingQueued = true;
    size.then(
      (n) => {
        this.lastQueued = n;
        this.askingQueued = false;
      },
      () => {
        this.askingQueued = false; // a lost connection or a closed queue: the stats keep the last answer
      },
    );
    return this.lastQueued;
  }

  /** The summary once the pool has ended (also after a fail-fast rejection), else `undefined`. */
  get summary(): PoolSummary<T> | undefined {
    return this.result;
  }

  toString(): string {
    const s = this.stats();
    return `WorkerPool(${this.name}, workers=${this.workers}, done=${s.done}, failed=${s.failed}, inFlight=${s.inFlight})`;
  }

  private async supervise(): Promise<PoolSummary<T>> {
    this.startedAt = this.loop.time();
    try {
      await this.group.run((tg) => {
        for (let i = 1; i <= this.workers; i++) {
          tg.createTask(() => this.work(i), { name: `${this.name} worker ${i}` });
        }
        if (this.stopWhenIdle) {
          this.joiner = tg.createTask(() => this.shutdownWhenJoined(), { name: `${this.name} join` });
          if (this.stopping) this.joiner.cancel();
        }
      });
    } catch (error) {
      if (this.failedFast && error instanceof ExceptionGroup) {
        this.finish("failed");
        throw error.exceptions[0];
      }
      this.finish("cancelled");
      throw error;
    } finally {
      if (this.graceTimer !== null) this.loop.clock.cancel(this.graceTimer);
      this.graceTimer = null;
    }
    return this.finish(this.cancelled ? "cancelled" : this.stopping ? "stopped" : "drained");
  }

  private async shutdownWhenJoined(): Promise<void> {
    await this.queue.join();
    await this.queue.shutdown();
  }

  private finish(outcome: PoolOutcome): PoolSummary<T> {
    this.endedAt = this.loop.time();
    this.idle.clear();
    const summary: PoolSummary<T> = {
      outcome,
      done: this.doneCount,
      failed: this.failures,
      retried: this.retries,
      cancelled: this.interrupted,
      elapsed: this.endedAt - this.startedAt,
    };
    this.result = summary;
    this.progress(true);
    return summary;
  }

  private async work(worker: number): Promise<void> {
    const task = currentTask() as Task;
    const queue = this.queue;
    let streak = 0;
    while (!this.stopping) {
      let item: T;
      this.idle.add(task);
      try {
        const next = queue.get();
        // An awaitress queue hands a done Future when an item is there: take it without the cost
        // of awaiting (a loop pass per item), but still yield every few items so a worker whose
        // jobs never wait cannot starve the loop.
        if (next instanceof Future && next.done() && ++streak < 32) item = next.result() as T;
        else {
          streak = 0;
          item = await next;
        }
      } catch (error) {
        if (error instanceof QueueShutDown) return;
        throw error;
      } finally {
        this.idle.delete(task);
      }
      this.inFlight++;
      try {
        await this.runJob(item, worker, task);
        this.doneCount++;
      } catch (error) {
        if (task.cancelling() > 0) {
          // The pool is cancelling this worker: the job did not end; its item goes back.
          await this.putBack(item);
          throw error;
        }
        this.failures.push({ item, error });
        if (this.failFast) {
          this.failedFast = true;
          throw error;
        }
      } finally {
        this.inFlight--;
        const done = queue.taskDone();
        if (done !== undefined) await done;
        if (this.onProgress !== undefined) this.progress(false);
      }
    }
  }

  private async putBack(item: T): Promise<void> {
    this.interrupted.push(item);
    try {
      await this.queue.put(item);
    } catch (error) {
      if (!(error instanceof QueueShutDown)) throw error;
      // Shut down: the item cannot go back; the summary's `cancelled` still lists it.
    }
  }

  private runJob(item: T, worker: number, task: Task): unknown {
    if (this.policy !== undefined) return this.runRetried(item, worker, task, this.policy);
    return this.firstAttempt(item, worker, task);
  }

  /** Attempt 1, without an async frame of its own when there is no limiter to wait for. */
  private firstAttempt(item: T, worker: number, task: Task): unknown {
    if (this.limiter !== undefined) return this.attempt(item, worker, 1);
    if (this.jobTimeout === undefined) return this.handler(item, new Job(1, worker, task));
    return timeout(this.jobTimeout, () => this.handler(item, new Job(1, worker, task)));
  }

  /** The first attempt runs as a plain one; only a failure enters the retry loop. */
  private async runRetried(item: T, worker: number, task: Task, policy: Policy): Promise<unknown> {
    try {
      return await this.firstAttempt(item, worker, task);
    } catch (error) {
      if (isCancelled(error)) throw error;
      return await retryLoop(policy, (n) => this.attempt(item, worker, n), { error });
    }
  }

  private async attempt(item: T, worker: number, n: number): Promise<unknown> {
    if (this.limiter !== undefined) await this.limiter.acquire();
    if (this.jobTimeout === undefined) return await this.handler(item, new Job(n, worker));
    return await timeout(this.jobTimeout, () => this.handler(item, new Job(n, worker)));
  }

  private progress(finished: boolean): void {
    const listener = this.onProgress;
    if (listener === undefined) return;
    const s = this.stats();
    const event: Progress = {
      ...s,
      total: s.done + s.failed + s.inFlight + s.queued,
      finished,
    };
    try {
      listener(event);
    } catch (error) {
      this.loop.reportError({ message: `${this.name}: onProgress threw`, error });
    }
  }
}

/**
 * Starts `options.workers` tasks that drain `queue`: each takes an item, runs
 * `handler(item, { signal, attempt, worker })`, calls `queue.taskDone()`, and takes the next,
 * until the queue is shut down and empty (`QueueShutDown` from `get`) — asyncio's worker-pool
 * pattern. Returns the running {@link WorkerPool}: await it for the {@link PoolSummary}.
 *
 * - `timeout` (seconds) bounds each attempt; the job is cancelled at its deadline (see
 *   {@link WorkerPoolOptions.timeout}). `retry` retries failures with backoff; `rateLimit` makes
 *   every attempt acquire from a shared {@link RateLimiter}.
 * - `onError: "continue"` (the default) records failures; `"fail-fast"` cancels the pool and
 *   rejects with the first error.
 * - `cancel()` and `shutdown(grace)` stop the pool; items in flight when it is cancelled are put
 *   back, so every item ends done, failed, or still in the queue. Cancelling the task awaiting
 *   the pool cancels the pool too (and the await throws the `CancelledError`).
 * - The queue may be any {@link WorkQueue}: only get/put/taskDone/join/shutdown/qsize are used,
 *   so a `RedisQueue` (`awaitress/redis`) spreads one pool over many processes: each runs
 *   `workerPool` on the same queue (see docs/redis.md).
 *
 * Must be called on a running loop (inside `run`, or it uses the default loop).
 *
 * @example
 * import { Queue, run, sleep, workerPool } from "awaitress";
 * await run(async () => {
 *   const queue = new Queue<number>();
 *   for (let i = 0; i < 10; i++) queue.putNowait(i);
 *   queue.shutdown(); // no more items: the workers stop once it is drained
 *   const summary = await workerPool(queue, (n) => sleep(n % 3), { workers: 3, timeout: 1.5 });
 *   console.log(summary.done, summary.failed.length); // 7 3  (the 2-second jobs timed out)
 * }, { clock: "virtual" });
 */
export function workerPool<T>(queue: WorkQueue<T>, handler: JobHandler<T>, options?: WorkerPoolOptions): WorkerPool<T> {
  return new WorkerPool(queue, handler, options);
}
