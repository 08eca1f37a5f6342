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

/** A workload implementation: does the work and returns a checksum the runner verifies. */
export type Workload = (params: Params, mark: () => void) => Promise<number>;

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
}

/** How a table reads its numbers. */
export type Metric =
  /** n / time: tasks, items, jobs or acquisitions per second. */
  | "throughput"
  /** wall time against an ideal (W4: the longest sleep). */
  | "latency"
  /** simulated events per real second (W5: n × depth sleeps). */
  | "events";

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
}

/** A goal on the awaitress rows' ratio. */
export interface Goal {
  readonly text: string;
  /** Which figure: speed relative to raw, to the fastest peer, or the rate itself (per second). */
  readonly against: "raw" | "peer" | "rate";
  /** Smallest acceptable value (higher is better). */
  readonly atLeast: number;
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
    rows: [
      { label: "raw promises (10 async workers)", library: "raw", key: "w3", role: "raw" },
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
