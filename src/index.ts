/**
 * awaitress: Python asyncio's model — an event loop, tasks, queues, gather, sleep,
 * cancellation, structured concurrency — and codetiming's Timer, for TypeScript.
 *
 * This file states the public surface of `awaitress`, grouped by concept, and has no side
 * effects. The other concerns have their own entry points: `awaitress/trace` (recorders,
 * exporters, timelines), `awaitress/debug` (debug mode, task dumps), `awaitress/testing`
 * (the virtual clock in users' tests) and `awaitress/redis`. On Node, `awaitress` resolves to
 * src/node.ts, which adds what Node programs get without asking (debug mode on demand,
 * `awaitress ps`, `AWAITRESS_TRACE`).
 *
 * @module awaitress
 */

// Clocks: real time, and virtual time that jumps to the next deadline.
export type { Clock, TimerHandle } from "./clock/clock.js";
export { RealClock } from "./clock/real.js";
export { VirtualClock, type VirtualClockOptions } from "./clock/virtual.js";
// Tasks and futures.
export { type Awaitable, type AwaitedResult, ensureFuture } from "./core/ensure-future.js";
export { type DoneCallback, Future } from "./core/future.js";
// Running a program: the loop, its main task, errors nobody handled.
export { type ErrorContext, type ErrorHandler, getRunningLoop, type Loop } from "./core/loop.js";
// Synchronisation primitives.
export type { SignalOptions } from "./core/park.js";
export { type RunOptions, type RunSignal, run } from "./core/run.js";
export { allTasks, createTask, currentTask, Task, type TaskFunction, type TaskOptions } from "./core/task.js";
// Errors.
export {
  AwaitressError,
  BrokenBarrierError,
  CancelledError,
  DeadlockError,
  type DeadlockedTask,
  ExceptionGroup,
  Interrupted,
  InvalidStateError,
  isCancelled,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  RetryError,
  rethrowIfCancelled,
  TimeoutError,
  TimerError,
} from "./errors.js";
// Waiting: sleep, gather, wait, timeouts, shield, structured concurrency.
export { type GatherOptions, type GatherResults, type GatherSettledResults, gather } from "./gather.js";
// What `run({ trace })` accepts (the recorders and views are in awaitress/trace).
export type { TaskOutcome, TraceEvent, TraceEventType, TraceSink } from "./internal/sink.js";

// Queues.
export { LifoQueue } from "./queues/lifo-queue.js";
export { type Compare, PriorityQueue } from "./queues/priority-queue.js";
export { Queue, type QueueOptions } from "./queues/queue.js";
export { shield } from "./shield.js";
export { sleep, time } from "./sleep.js";
export { Barrier } from "./sync/barrier.js";
export { Condition } from "./sync/condition.js";
export { Event } from "./sync/event.js";
export { Held, Lock, type SyncOptions } from "./sync/lock.js";
export { BoundedSemaphore, Semaphore } from "./sync/semaphore.js";
export { TaskGroup, taskGroup } from "./task-group.js";
export { Timeout, timeout, timeoutAt } from "./timeout.js";

// codetiming's Timer, and the Python format-spec mini-language its text templates use (API on
// purpose: Python's f"{x:.1f}" is formatValue(x, ".1f") when a port prints figures).
export { formatTemplate, formatValue } from "./timer/format.js";
export { Timers } from "./timer/registry.js";
export { Timer, type TimerOptions, type TimerText } from "./timer/timer.js";
// The work-queue toolkit: worker pools, concurrent map, rate limits, retries, progress, shutdown.
export { type MapConcurrentOptions, type Mapper, mapConcurrent } from "./toolkit/map-concurrent.js";
export {
  type Progress,
  ProgressBar,
  type ProgressBarOptions,
  type ProgressListener,
  type ProgressStream,
  progressBar,
} from "./toolkit/progress.js";
export {
  type AcquireOptions,
  RateLimiter,
  type RateLimiterOptions,
  type SlidingWindowOptions,
  type TokenBucketOptions,
} from "./toolkit/rate-limiter.js";
export {
  type AttemptInfo,
  type BackoffOptions,
  type FailedAttempt,
  type RetryOptions,
  type RetryPolicy,
  retry,
} from "./toolkit/retry.js";
export { type ShutdownHandle, type ShutdownOptions, shutdownOn } from "./toolkit/shutdown.js";
export {
  type JobFailure,
  type JobHandler,
  type JobInfo,
  type PoolOutcome,
  type PoolStats,
  type PoolSummary,
  WorkerPool,
  type WorkerPoolOptions,
  type WorkQueue,
  workerPool,
} from "./toolkit/worker-pool.js";
export {
  ALL_COMPLETED,
  type AsCompletedIterator,
  type AsCompletedOptions,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type FutureValue,
  type ReturnWhen,
  type WaitOptions,
  wait,
} from "./wait.js";
export { waitFor } from "./wait-for.js";
