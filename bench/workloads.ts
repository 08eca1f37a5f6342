/**
 * The benchmark suite's workloads: what each one does, its sizes, and which implementation of
 * which library runs it. The runner (run.ts) reads this table; each implementation lives in
 * bench/impl/<library>.ts (or bench/python/asyncio_bench.py) under the row's `key`.
 */

/** Sizes handed to an implementation; every workload reads the fields it needs. */
export interface Params {
  /** Tasks, jobs, items or acquisitions, depending on the workload. */
  n: number;
  /** Consumers (W2), concurrency (W3), tasks sharing the lock (W6). */
  width: number;
  /** Queue bound (W2), largest sleep in ms (W4), sleeps per task (W5). */
  depth: number;
}

/**
 * A workload implementation: does the work and returns a checksum the runner verifies. `mark()`
 * starts the measured part (when the setup must not count); `report(key, value)` hands the runner
 * a figure besides the time (a lateness, a heap growth: the case's `extras` name them).
 */
export type Workload = (
  params: Params,
  mark: () => void,
  report: (key: string, value: number) => void,
) => Promise<number>;

/** The libraries a row can come from; each is one bundle, so no library loads another. */
export type Library =
  | "raw"
  | "awaitress"
  | "awaitress-notrace"
  | "effect"
  | "effection"
  | "p-queue"
  | "p-limit"
  | "python";

/** One line of a table: an implementation of the workload. */
export interface Row {
  /** What the table prints. */
  readonly label: string;
  readonly library: Library;
  /** Name of the workload function in the library's module. */
  readonly key: string;
  /** raw: the baseline; awaitress: the subject; peer: the competition; note: context only. */
  readonly role: "raw" | "awaitress" | "peer" | "note";
  /** Runs this row at a smaller n when the full size takes too long (the table says so). */
  readonly maxN?: number;
  /** Runs this row at this fraction of the case's n (a linearity check; the table says so). */
  readonly fraction?: number;
  /** A name goals use to point at this row (see {@link Goal.rows} and {@link Goal.baseRow}). */
  readonly tag?: string;
  /**
   * Set by the runner on the copies `--baseline <ref>` adds: the git revision whose src/ this
   * row's bundle was built from (the row itself keeps the library and key it copies).
   */
  readonly baseline?: string;
}

/** How a table reads its numbers. */
export type Metric =
  /** n / time: tasks, items, jobs or acquisitions per second. */
  | "throughput"
  /** wall time against an ideal (W4: the longest sleep). */
  | "latency"
  /** simulated events per real second (W5: n × depth sleeps). */
  | "events"
  /** only the figures the workload reports (`extras`); its time is not the question. */
  | "report";

/** A figure a workload reports with `report(key, value)`: a column of its table (median of the runs). */
export interface Extra {
  readonly key: string;
  /** Column header. */
  readonly label: string;
  /** How the value prints: ms, MB, a percentage, or a rate in the case's unit per second. */
  readonly unit: "ms" | "MB" | "%" | "rate";
}

export interface Case {
  readonly id: string;
  readonly title: string;
  /** Unit of `n` per second, for the throughput column. */
  readonly unit: string;
  readonly metric: Metric;
  readonly params: Params;
  /** The checksum every implementation must return, so none can skip work. */
  checksum(params: Params): number;
  readonly rows: readonly Row[];
  /** The goal for awaitress on Node 24, as the issue states it; checked by the runner. */
  readonly goal?: Goal;
  /** A memory goal for awaitress on Node 24: RSS above start below this many MB. */
  readonly rssGoalMb?: number;
  /** More goals, checked like `goal`. */
  readonly goals?: readonly Goal[];
  /** Figures the implementations report besides their time (columns of the table). */
  readonly extras?: readonly Extra[];
  /** Other names `--only` accepts for this case. */
  readonly aliases?: readonly string[];
}

/** A goal on the awaitress rows' figures. */
export interface Goal {
  readonly text: string;
  /**
   * Which figure: speed relative to raw, to the fastest peer, the rate itself (per second), a
   * reported figure (`extra`), or speed relative to another row of the same build (`baseRow`).
   */
  readonly against: "raw" | "peer" | "rate" | "extra" | "row";
  /** Smallest acceptable value (higher is better). */
  readonly atLeast?: number;
  /** Largest acceptable value (lower is better: a lateness, a cost, a heap growth). */
  readonly atMost?: number;
  /** The reported figure, for `against: "extra"`. */
  readonly extra?: string;
  /** The tag of the row to compare with, for `against: "row"` (a baseline row compares with its own copy). */
  readonly baseRow?: string;
  /** Tags of the awaitress rows the goal applies to; all of them when absent. */
  readonly rows?: readonly string[];
}

const sum = (n: number) => (n * (n - 1)) / 2;

/** Delay of sleep number `i` in W4, in ms: spread evenly over 0..max. */
export function w4Delay(i: number, max: number): number {
  return i % (max + 1);
}

/** Delay of sleep `k` of task `i` in W5, in seconds of virtual time: 1 to 100 ms. */
export function w5Delay(i: number, k: number): number {
  return (((i * 7 + k * 13) % 100) + 1) / 1000;
}

export const cases: readonly Case[] = [
  {
    id: "W1",
    title: "spawn and join 100,000 tasks (createTask + gather), each awaiting once",
    unit: "tasks",
    metric: "throughput",
    params: { n: 100_000, width: 0, depth: 0 },
    checksum: (p) => sum(p.n),
    goal: { text: "≥ 0.5× raw", against: "raw", atLeast: 0.5 },
    rows: [
      { label: "raw promises (async fns + Promise.all)", library: "raw", key: "w1", role: "raw" },
      { label: "awaitress (createTask + gather, await sleep(0))", library: "awaitress", key: "w1", role: "awaitress" },
      { label: "awaitress, child awaits a plain promise", library: "awaitress", key: "w1Plain", role: "note" },
      { label: "effect (forkChild + Fiber.joinAll)", library: "effect", key: "w1", role: "peer" },
      { label: "effection (spawn + join)", library: "effection", key: "w1", role: "peer", maxN: 10_000 },
      { label: "p-queue (add + Promise.all)", library: "p-queue", key: "w1", role: "peer" },
      { label: "python asyncio (create_task + gather)", library: "python", key: "w1", role: "peer" },
    ],
  },
  {
    id: "W2",
    title: "one producer, four consumers, 1,000,000 items through a Queue(100)",
    unit: "items",
    metric: "throughput",
    params: { n: 1_000_000, width: 4, depth: 100 },
    checksum: (p) => sum(p.n),
    goal: { text: "≥ 0.7× raw", against: "raw", atLeast: 0.7 },
    rows: [
      { label: "raw promises (hand-written bounded queue)", library: "raw", key: "w2", role: "raw" },
      { label: "awaitress (Queue(100))", library: "awaitress", key: "w2", role: "awaitress" },
      { label: "effect (Queue.bounded(100))", library: "effect", key: "w2", role: "peer" },
      { label: "python asyncio (Queue(100))", library: "python", key: "w2", role: "peer" },
    ],
  },
  {
    id: "W3",
    title: "100,000 jobs at concurrency 10 (each job one await of a promise)",
    unit: "jobs",
    metric: "throughput",
    params: { n: 100_000, width: 10, depth: 0 },
    checksum: (p) => sum(p.n),
    goal: { text: "≥ 4× the fastest peer", against: "peer", atLeast: 4 },
    aliases: ["W3a", "W3b"],
    rows: [
      { label: "raw promises (10 async workers)", library: "raw", key: "w3", role: "raw" },
      {
        label: "raw promises, task per job + hand-written FIFO semaphore(10)",
        library: "raw",
        key: "w3TaskPerJob",
        role: "note",
      },
      { label: "awaitress (task per job + Semaphore(10))", library: "awaitress", key: "w3", role: "awaitress" },
      { label: "awaitress (10 worker tasks)", library: "awaitress", key: "w3Workers", role: "awaitress" },
      { label: "p-limit (limit(10) + Promise.all)", library: "p-limit", key: "w3", role: "peer" },
      { label: "p-queue (concurrency 10 + onIdle)", library: "p-queue", key: "w3", role: "peer" },
      { label: "effect (forEach, concurrency 10)", library: "effect", key: "w3", role: "peer" },
      { label: "effection (10 spawned workers)", library: "effection", key: "w3", role: "peer" },
      { label: "python asyncio (task per job + Semaphore(10))", library: "python", key: "w3", role: "peer" },
    ],
  },
  {
    id: "Q1",
    title: "work-queue toolkit: 100,000 jobs through workerPool, 10 workers (each job one await of a promise)",
    unit: "jobs",
    metric: "throughput",
    params: { n: 100_000, width: 10, depth: 0 },
    checksum: (p) => sum(p.n),
    goal: { text: "≥ 3× the fastest peer", against: "peer", atLeast: 3, rows: ["pool"] },
    goals: [
      {
        text: "≥ 0.8× W3's hand-written 10-worker pool",
        against: "row",
        baseRow: "workers",
        atLeast: 0.8,
        rows: ["pool"],
      },
    ],
    rows: [
      { label: "raw promises (10 async workers)", library: "raw", key: "w3", role: "raw" },
      {
        label: "awaitress (10 worker tasks, hand-written: W3)",
        library: "awaitress",
        key: "w3Workers",
        role: "note",
        tag: "workers",
      },
      {
        label: "awaitress, 10 hand-written tasks draining a Queue (get/taskDone)",
        library: "awaitress",
        key: "q1QueueWorkers",
        role: "note",
      },
      {
        label: "awaitress workerPool(Queue, 10 workers)",
        library: "awaitress",
        key: "q1Pool",
        role: "awaitress",
        tag: "pool",
      },
      {
        label: "awaitress workerPool, timeout per job",
        library: "awaitress",
        key: "q1PoolTimeout",
        role: "awaitress",
        tag: "pool-timeout",
      },
      { label: "p-limit (limit(10) + Promise.all)", library: "p-limit", key: "w3", role: "peer" },
      { label: "p-queue (concurrency 10 + onIdle)", library: "p-queue", key: "w3", role: "peer" },
    ],
  },
  {
    id: "Q2",
    title: "work-queue toolkit: 100,000 jobs, 10 workers, through a rate limit that never has to wait",
    unit: "jobs",
    metric: "throughput",
    params: { n: 100_000, width: 10, depth: 0 },
    checksum: (p) => sum(p.n),
    goal: { text: "≥ 3× the fastest peer", against: "peer", atLeast: 3 },
    rows: [
      { label: "raw promises (10 async workers)", library: "raw", key: "w3", role: "raw" },
      {
        label: "awaitress workerPool + RateLimiter (token bucket)",
        library: "awaitress",
        key: "q2PoolRate",
        role: "awaitress",
      },
      { label: "p-queue (concurrency 10, intervalCap/interval)", library: "p-queue", key: "q2Rate", role: "peer" },
    ],
  },
  {
    id: "Q3",
    title: "work-queue toolkit: 100,000 jobs, 10 workers, every tenth retried once (no backoff wait)",
    unit: "jobs",
    metric: "throughput",
    params: { n: 100_000, width: 10, depth: 0 },
    checksum: (p) => sum(p.n),
    goal: { text: "≥ 3× the fastest peer", against: "peer", atLeast: 3 },
    rows: [
      {
        label: "raw promises (10 async workers + hand-written retry loop)",
        library: "raw",
        key: "q3Retry",
        role: "raw",
      },
      {
        label: "awaitress workerPool, retry: { attempts: 3 }",
        library: "awaitress",
        key: "q3PoolRetry",
        role: "awaitress",
      },
      { label: "p-limit + hand-written retry loop", library: "p-limit", key: "q3Retry", role: "peer" },
      { label: "p-queue + hand-written retry loop", library: "p-queue", key: "q3Retry", role: "peer" },
    ],
  },
  {
    id: "W4",
    title: "100,000 concurrent real-clock sleeps of 0–50 ms (ideal: 50 ms)",
    unit: "sleeps",
    metric: "latency",
    params: { n: 100_000, width: 0, depth: 50 },
    checksum: (p) => p.n,
    goal: { text: "no slower than raw native timers", against: "raw", atLeast: 1 },
    rssGoalMb: 100,
    rows: [
      { label: "raw native timers (setTimeout + Promise.all)", library: "raw", key: "w4", role: "raw" },
      { label: "awaitress (createTask(sleep) + gather)", library: "awaitress", key: "w4", role: "awaitress" },
      { label: "awaitress, bench/timers.ts (seeded delays)", library: "awaitress", key: "w4Timers", role: "awaitress" },
      {
        label: "awaitress, one native timer per sleep (bench/timers.ts)",
        library: "awaitress",
        key: "w4NativeTimers",
        role: "note",
      },
      { label: "effect (forEach Effect.sleep, unbounded)", library: "effect", key: "w4", role: "peer" },
      { label: "effection (spawn sleep + join)", library: "effection", key: "w4", role: "peer", maxN: 10_000 },
      { label: "python asyncio (gather of sleeps)", library: "python", key: "w4", role: "peer" },
    ],
  },
  {
    id: "W5",
    title: "virtual clock: 100,000 tasks × 10 sleeps (simulated events per real second)",
    unit: "events",
    metric: "events",
    params: { n: 100_000, width: 0, depth: 10 },
    checksum: (p) => p.n * p.depth,
    goal: { text: "≥ 1,000,000 events/s", against: "rate", atLeast: 1_000_000 },
    rows: [
      { label: "raw promises (hand-written event heap)", library: "raw", key: "w5", role: "raw" },
      {
        label: "awaitress (run with clock: 'virtual'), delays as raw's",
        library: "awaitress",
        key: "w5",
        role: "awaitress",
      },
      {
        label: "awaitress, bench/virtual-clock.ts (delays 1 ms–1 s)",
        library: "awaitress",
        key: "w5Clock",
        role: "awaitress",
      },
    ],
  },
  {
    id: "W6a",
    title: "lock hand-off between 2 tasks, 1,000,000 acquisitions (held across one await)",
    unit: "acquisitions",
    metric: "throughput",
    params: { n: 1_000_000, width: 2, depth: 0 },
    checksum: (p) => p.n,
    goal: { text: "within 1.5× raw", against: "raw", atLeast: 1 / 1.5 },
    rows: [
      { label: "raw promises (hand-written FIFO mutex)", library: "raw", key: "w6", role: "raw" },
      { label: "awaitress (Lock)", library: "awaitress", key: "w6", role: "awaitress" },
      { label: "awaitress (Semaphore(1))", library: "awaitress", key: "w6Semaphore", role: "awaitress" },
      { label: "p-limit (limit(1))", library: "p-limit", key: "w6", role: "peer" },
      { label: "p-queue (concurrency 1)", library: "p-queue", key: "w6", role: "peer" },
      { label: "effect (Semaphore.withPermit)", library: "effect", key: "w6", role: "peer", maxN: 200_000 },
      { label: "python asyncio (Lock)", library: "python", key: "w6", role: "peer", maxN: 200_000 },
    ],
  },
  {
    id: "W6b",
    title: "lock hand-off between 100 tasks, 1,000,000 acquisitions (held across one await)",
    unit: "acquisitions",
    metric: "throughput",
    params: { n: 1_000_000, width: 100, depth: 0 },
    checksum: (p) => p.n,
    goal: { text: "within 1.5× raw", against: "raw", atLeast: 1 / 1.5 },
    rows: [
      { label: "raw promises (hand-written FIFO mutex)", library: "raw", key: "w6", role: "raw" },
      { label: "awaitress (Lock)", library: "awaitress", key: "w6", role: "awaitress" },
      { label: "awaitress (Semaphore(1))", library: "awaitress", key: "w6Semaphore", role: "awaitress" },
      { label: "p-limit (limit(1))", library: "p-limit", key: "w6", role: "peer" },
      { label: "p-queue (concurrency 1)", library: "p-queue", key: "w6", role: "peer" },
      { label: "effect (Semaphore.withPermit)", library: "effect", key: "w6", role: "peer", maxN: 200_000 },
      { label: "python asyncio (Lock)", library: "python", key: "w6", role: "peer", maxN: 200_000 },
    ],
  },
  {
    id: "fairness",
    title:
      "a task spinning on sleep(0) for 1 s of real time while a chain of 20 ms setTimeouts and a task sleeping 50 ms at a time wait (lateness, spinner throughput)",
    unit: "spins",
    metric: "report",
    // n: ms of spinning per phase (at least 2 × depth, so small scales still see the timers);
    // width: the native setTimeout's ms; depth: the library sleep's ms.
    params: { n: 1000, width: 20, depth: 50 },
    // Both timer chains fired at least once.
    checksum: () => 2,
    extras: [
      { key: "nativeLateMaxMs", label: "setTimeout(20 ms): worst late", unit: "ms" },
      { key: "nativeLateMs", label: "setTimeout(20 ms): median late", unit: "ms" },
      { key: "sleepLateMaxMs", label: "sleep(0.05): worst late", unit: "ms" },
      { key: "sleepLateMs", label: "sleep(0.05): median late", unit: "ms" },
      { key: "spinRate", label: "spinner, timers pending", unit: "rate" },
      { key: "idleSpinRate", label: "spinner, no timers", unit: "rate" },
      { key: "costPct", label: "throughput cost", unit: "%" },
    ],
    goals: [
      { text: "setTimeout(20 ms) fires ≤ 10 ms late", against: "extra", extra: "nativeLateMaxMs", atMost: 10 },
      { text: "sleep(0.05) fires ≤ 10 ms late", against: "extra", extra: "sleepLateMaxMs", atMost: 10 },
      { text: "spinner throughput cost ≤ 10%", against: "extra", extra: "costPct", atMost: 10 },
    ],
    rows: [
      {
        label: "raw promises (spinner awaits setImmediate, setTimeout timers)",
        library: "raw",
        key: "fairness",
        role: "raw",
      },
      {
        label: "awaitress (spinner task on await sleep(0), inside run)",
        library: "awaitress",
        key: "fairness",
        role: "awaitress",
      },
    ],
  },
  {
    id: "waiter-removal",
    title:
      "100,000 tasks waiting in get() on one Queue, cancelled in arrival, reverse or random order (time for the cancellations to complete)",
    unit: "cancellations",
    metric: "throughput",
    params: { n: 100_000, width: 0, depth: 0 },
    checksum: (p) => p.n,
    aliases: ["removal"],
    goals: [
      {
        text: "reverse order ≈ arrival order (within 1.5×)",
        against: "row",
        rows: ["reverse"],
        baseRow: "arrival",
        atLeast: 1 / 1.5,
      },
      {
        text: "random order ≈ arrival order (within 1.5×)",
        against: "row",
        rows: ["random"],
        baseRow: "arrival",
        atLeast: 1 / 1.5,
      },
      {
        text: "linear: the rate at n within 1.5× of the rate at n / 10",
        against: "row",
        rows: ["reverse"],
        baseRow: "reverse-small",
        atLeast: 1 / 1.5,
      },
    ],
    rows: [
      {
        label: "raw promises (getters in a Set, cancel = delete + reject), arrival order",
        library: "raw",
        key: "removalArrival",
        role: "raw",
      },
      {
        label: "raw promises (getters in a Set, cancel = delete + reject), random order",
        library: "raw",
        key: "removalRandom",
        role: "note",
      },
      {
        label: "awaitress (task.cancel() on tasks in q.get()), arrival order",
        library: "awaitress",
        key: "removalArrival",
        role: "awaitress",
        tag: "arrival",
      },
      {
        label: "awaitress (task.cancel() on tasks in q.get()), reverse order",
        library: "awaitress",
        key: "removalReverse",
        role: "awaitress",
        tag: "reverse",
      },
      {
        label: "awaitress (task.cancel() on tasks in q.get()), random order",
        library: "awaitress",
        key: "removalRandom",
        role: "awaitress",
        tag: "random",
      },
      {
        label: "awaitress, reverse order at a tenth of the size (linearity check)",
        library: "awaitress",
        key: "removalReverse",
        role: "note",
        fraction: 0.1,
        tag: "reverse-small",
      },
      {
        label: "awaitress (waitFor(q.get(), random deadline), virtual clock, all time out)",
        library: "awaitress",
        key: "removalTimeouts",
        role: "awaitress",
        tag: "timeouts",
      },
      {
        label: "awaitress (waitFor(() => q.get(), random deadline), virtual clock, all time out)",
        library: "awaitress",
        key: "removalTimeoutsFn",
        role: "note",
      },
    ],
  },
  {
    id: "retention",
    title:
      "1,000,000 tasks that fail with a 20 KB error, each error retrieved (awaited in try/catch), 100 at a time (heap growth after gc)",
    unit: "tasks",
    metric: "throughput",
    // width: tasks alive at once; depth: length of each error's message (a string of its own).
    params: { n: 1_000_000, width: 100, depth: 20_000 },
    checksum: (p) => sum(p.n),
    extras: [
      { key: "heapGrowthMb", label: "heap after gc − at start (inside run)", unit: "MB" },
      { key: "heapAfterRunMb", label: "heap after gc − at start (after run)", unit: "MB" },
    ],
    goals: [{ text: "heap flat (≤ 5 MB above start)", against: "extra", extra: "heapGrowthMb", atMost: 5 }],
    rows: [
      { label: "raw promises (async fns that throw, try/await/catch)", library: "raw", key: "retention", role: "raw" },
      {
        label: "awaitress (createTask of a failing fn, try/await/catch, inside run)",
        library: "awaitress",
        key: "retention",
        role: "awaitress",
      },
    ],
  },
  {
    id: "T1",
    title: "tracing and debug overhead on W1 (ratios are to awaitress with tracing off)",
    unit: "tasks",
    metric: "throughput",
    params: { n: 100_000, width: 0, depth: 0 },
    checksum: (p) => sum(p.n),
    rows: [
      { label: "awaitress, trace sites compiled out", library: "awaitress-notrace", key: "w1", role: "note" },
      { label: "awaitress, tracing off (default)", library: "awaitress", key: "w1", role: "raw" },
      { label: "awaitress, tracing on (Recorder)", library: "awaitress", key: "w1Trace", role: "awaitress" },
      {
        label: "awaitress, tracing on (Recorder, steps: false)",
        library: "awaitress",
        key: "w1TraceNoSteps",
        role: "awaitress",
      },
      {
        label: "awaitress, tracing on (awaitress trace: ring of 200k, steps: false)",
        library: "awaitress",
        key: "w1TraceProcess",
        role: "awaitress",
      },
      { label: "awaitress, debug mode on", library: "awaitress", key: "w1Debug", role: "awaitress" },
    ],
  },
  {
    id: "T2",
    title: "tracing and debug overhead on W2 (ratios are to awaitress with tracing off)",
    unit: "items",
    metric: "throughput",
    params: { n: 1_000_000, width: 4, depth: 100 },
    checksum: (p) => sum(p.n),
    rows: [
      { label: "awaitress, trace sites compiled out", library: "awaitress-notrace", key: "w2", role: "note" },
      { label: "awaitress, tracing off (default)", library: "awaitress", key: "w2", role: "raw" },
      { label: "awaitress, tracing on (Recorder)", library: "awaitress", key: "w2Trace", role: "awaitress" },
      {
        label: "awaitress, tracing on (Recorder, steps: false)",
        library: "awaitress",
        key: "w2TraceNoSteps",
        role: "awaitress",
      },
      {
        label: "awaitress, tracing on (awaitress trace: ring of 200k, steps: false)",
        library: "awaitress",
        key: "w2TraceProcess",
        role: "awaitress",
      },
      { label: "awaitress, debug mode on", library: "awaitress", key: "w2Debug", role: "awaitress" },
    ],
  },
  {
    id: "ALS",
    title: "raw promises only (W1 shape), in a process where AsyncLocalStorage was used or not",
    unit: "tasks",
    metric: "throughput",
    params: { n: 100_000, width: 0, depth: 0 },
    checksum: (p) => sum(p.n),
    rows: [
      { label: "raw promises, fresh process", library: "raw", key: "w1", role: "raw" },
      { label: "raw promises, after one awaitress run()", library: "awaitress", key: "w1RawAfterRun", role: "note" },
    ],
  },
];

/** Scales a case's sizes (for smoke runs); every size stays at least 1 and W4's delays keep their range. */
export function scaleParams(params: Params, scale: number): Params {
  return { ...params, n: Math.max(Math.round(params.n * scale), Math.min(params.n, 4)) };
}
