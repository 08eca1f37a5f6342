/**
 * awaitress: Python asyncio's model — an event loop, tasks, queues, gather, sleep,
 * cancellation, structured concurrency — and codetiming's Timer, for TypeScript on Node.js.
 *
 * This file states the public surface: re-exports, and the one line that wires debug mode into
 * `run` (the core never imports the layers above it).
 */
import { isDefaultLoop, setLoopHook } from "./core/loop.js";
import { setInstrumenter } from "./core/run.js";
import { instrument } from "./debug/instrument.js";
import { registerPs, trackLoop } from "./debug/ps.js";
import { processTraceFromEnv, writeOnExit } from "./trace/process-trace.js";

setInstrumenter(instrument);

// Every loop is listed for `awaitress ps`; with AWAITRESS_TRACE set (`awaitress trace`), every loop
// is also recorded for the whole process and the views are written when it exits.
const processTrace = processTraceFromEnv();
if (processTrace !== null) writeOnExit(processTrace);
setLoopHook((loop, sink) => {
  trackLoop(loop);
  return processTrace === null ? sink : processTrace.sinkFor(loop, sink);
});
registerPs(isDefaultLoop);

export type { Clock, TimerHandle } from "./clock/clock.js";
export { RealClock } from "./clock/real.js";
export { VirtualClock, type VirtualClockOptions } from "./clock/virtual.js";
export type { Awaitable, AwaitedResult } from "./core/ensure-future.js";
export { type DoneCallback, Future } from "./core/future.js";
export { type ErrorContext, type ErrorHandler, getRunningLoop, Loop } from "./core/loop.js";
export type { SignalOptions } from "./core/park.js";
export { type RunOptions, type RunSignal, run } from "./core/run.js";
export { allTasks, createTask, currentTask, Task, type TaskFunction, type TaskOptions } from "./core/task.js";
export { dumpTasks, formatTaskTree } from "./debug/dump.js";
export type { BlockedReport } from "./debug/watchdog.js";
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
export { type GatherOptions, type GatherResults, type GatherSettledResults, gather } from "./gather.js";
export type { TaskOutcome, TraceEvent, TraceEventType, TraceSink } from "./internal/sink.js";
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
export { type HtmlTimelineOptions, htmlTimeline } from "./trace/html.js";
export { JsonlWriter, type JsonlWriterOptions, parseJsonl, readJsonl } from "./trace/jsonl.js";
export { type ChromeTrace, type ChromeTraceEvent, perfettoJson, perfettoTrace } from "./trace/perfetto.js";
export { Recorder, type RecorderOptions } from "./trace/recorder.js";
export { shouldColor, type TerminalTimelineOptions, terminalTimeline } from "./trace/terminal.js";
export { buildTimeline, type Lane, type Segment, type Timeline, type Wake } from "./trace/timeline.js";
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
