/**
 * The workloads with awaitress, written as a user would write them, with the public API only
 * (the package root, src/index.ts). The suite bundles this file with the library's TypeScript
 * sources (src/), so what runs is src/ as esbuild compiles it, not dist/; `--baseline <ref>`
 * bundles the same file with the src/ of another git revision.
 */

import {
  CancelledError,
  createTask,
  gather,
  Lock,
  Queue,
  RateLimiter,
  type RunOptions,
  run,
  Semaphore,
  sleep,
  type Task,
  TimeoutError,
  type WorkerPoolOptions,
  waitFor,
  workerPool,
} from "../../src/node.js";
import { Recorder } from "../../src/trace/index.js";
import { seededRandom } from "../prng.js";
import { timersWorkload } from "../timers.js";
import { virtualClockWorkload } from "../virtual-clock.js";
import { type Workload, w4Delay, w5Delay } from "../workloads.js";
import {
  bulkyError,
  cancelOrder,
  fairnessPhases,
  flakyJob,
  job,
  workloads as raw,
  type Spun,
  settledHeap,
  share,
} from "./raw.js";

async function w1Child(i: number): Promise<number> {
  await sleep(0);
  return i;
}

async function w1PlainChild(i: number): Promise<number> {
  await null;
  return i;
}

function spawnAndJoin(n: number, child: (i: number) => Promise<number>, options: RunOptions = {}): Promise<number> {
  return run(async () => {
    const tasks: Task<number>[] = new Array(n);
    for (let i = 0; i < n; i++) tasks[i] = createTask(() => child(i));
    const results = await gather(...tasks);
    let total = 0;
    for (const r of results) total += r;
    return total;
  }, options);
}

/** W1: createTask per child (each awaits sleep(0) once), joined by gather. */
const w1: Workload = ({ n }) => spawnAndJoin(n, w1Child);
const w1Plain: Workload = ({ n }) => spawnAndJoin(n, w1PlainChild);
const w1Trace: Workload = ({ n }) => spawnAndJoin(n, w1Child, { trace: new Recorder() });
const w1TraceNoSteps: Workload = ({ n }) => spawnAndJoin(n, w1Child, { trace: new Recorder({ steps: false }) });
/** What `awaitress trace` (AWAITRESS_TRACE) gives each loop: a ring of 200,000 events, steps not watched. */
const processRecorder = () => new Recorder({ limit: 200_000, steps: false });
const w1TraceProcess: Workload = ({ n }) => spawnAndJoin(n, w1Child, { trace: processRecorder() });
const w1Debug: Workload = ({ n }) => spawnAndJoin(n, w1Child, { debug: true });

/** W2: one producer (the main task), `width` consumer tasks, Queue(depth); -1 stops a consumer. */
function producerConsumers({ n, width, depth }: { n: number; width: number; depth: number }, options: RunOptions = {}) {
  return run(async () => {
    const queue = new Queue<number>(depth);
    let total = 0;
    const consumer = async () => {
      for (;;) {
        const item = await queue.get();
        if (item < 0) return;
        total += item;
      }
    };
    const consumers: Task<void>[] = [];
    for (let c = 0; c < width; c++) consumers.push(createTask(consumer));
    for (let i = 0; i < n; i++) await queue.put(i);
    for (let c = 0; c < width; c++) await queue.put(-1);
    await gather(...consumers);
    return total;
  }, options);
}

const w2: Workload = (p) => producerConsumers(p);
const w2Trace: Workload = (p) => producerConsumers(p, { trace: new Recorder() });
const w2TraceNoSteps: Workload = (p) => producerConsumers(p, { trace: new Recorder({ steps: false }) });
const w2TraceProcess: Workload = (p) => producerConsumers(p, { trace: processRecorder() });
const w2Debug: Workload = (p) => producerConsumers(p, { debug: true });

/** W3 (asyncio's idiom): a task per job, each holding Semaphore(width) while it runs; gather joins them. */
const w3: Workload = ({ n, width }) =>
  run(async () => {
    const sem = new Semaphore(width);
    const limited = async (i: number) => {
      await sem.acquire();
      try {
        return await job(i);
      } finally {
        sem.release();
      }
    };
    const tasks: Task<number>[] = new Array(n);
    for (let i = 0; i < n; i++) tasks[i] = createTask(() => limited(i));
    const results = await gather(...tasks);
    let total = 0;
    for (const r of results) total += r;
    return total;
  });

/** W3 (pool shape): `width` worker tasks pull job numbers from a shared counter. */
const w3Workers: Workload = ({ n, width }) =>
  run(async () => {
    let next = 0;
    let total = 0;
    const worker = async () => {
      while (next < n) {
        const value = await job(next++);
        total += value;
      }
    };
    const workers: Task<void>[] = [];
    for (let w = 0; w < width; w++) workers.push(createTask(worker));
    await gather(...workers);
    return total;
  });

/** Q1–Q3: `width` pool workers drain a queue holding the n job numbers (filled in the timed part). */
const pooled =
  (options: () => WorkerPoolOptions, flaky = false): Workload =>
  ({ n, width }) =>
    run(async () => {
      const queue = new Queue<number>();
      for (let i = 0; i < n; i++) queue.putNowait(i);
      queue.shutdown();
      let total = 0;
      const handler = flaky
        ? async (i: number, { attempt }: { attempt: number }) => {
            const value = await flakyJob(i, attempt);
            total += value;
          }
        : async (i: number) => {
            const value = await job(i);
            total += value;
          };
      await workerPool(queue, handler, { ...options(), workers: width });
      return total;
    });

/** Q1 reference: what a user writes by hand, `width` tasks draining a Queue with get/taskDone. */
const q1QueueWorkers: Workload = ({ n, width }) =>
  run(async () => {
    const queue = new Queue<number>();
    for (let i = 0; i < n; i++) queue.putNowait(i);
    queue.shutdown();
    let total = 0;
    const worker = async () => {
      for (;;) {
        let i: number;
        try {
          i = await queue.get();
        } catch {
          return;
        }
        try {
          const value = await job(i);
          total += value;
        } finally {
          queue.taskDone();
        }
      }
    };
    const workers: Task<void>[] = [];
    for (let w = 0; w < width; w++) workers.push(createTask(worker));
    await gather(...workers);
    return total;
  });

/** Q1: the pool, nothing else. */
const q1Pool = pooled(() => ({}));
/** Q2: the pool with a rate limit high enough never to wait (the limiter's own cost). */
const q2PoolRate = pooled(() => ({ rateLimit: new RateLimiter({ rate: 1e9, burst: 1e9 }) }));
/** Q3: the pool retrying the failed first attempts (no backoff wait). */
const q3PoolRetry = pooled(() => ({ retry: { attempts: 3, backoff: { initial: 0 } } }), true);
/** Q1 with a per-job timeout (a timeout block per job). */
const q1PoolTimeout = pooled(() => ({ timeout: 10 }));

/** W4: a task per sleep of 0..depth ms on the real clock, joined by gather. */
const w4: Workload = ({ n, depth }) =>
  run(async () => {
    const tasks: Task<void>[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const seconds = w4Delay(i, depth) / 1000;
      tasks[i] = createTask(() => sleep(seconds));
    }
    await gather(...tasks);
    return n;
  });

/** W4 as bench/timers.ts writes it (seeded delays of 0–50 ms), with the RealClock's one timer heap. */
const w4Timers: Workload = async ({ n }) => (await timersWorkload("heap", n)).count;

/** The same with a clock that arms one native timer per sleep (the alternative bench/timers.ts weighs). */
const w4NativeTimers: Workload = async ({ n }) => (await timersWorkload("native", n)).count;

/** W5 as bench/virtual-clock.ts writes it (seeded whole-ms delays of 1 ms to 1 s). */
const w5Clock: Workload = async ({ n, depth }) => (await virtualClockWorkload(n, depth, "ms")).events;

/** W5: `n` tasks each sleeping `depth` times on the virtual clock; returns the sleeps completed. */
const w5: Workload = ({ n, depth }) =>
  run(
    async () => {
      let events = 0;
      const sleeper = async (i: number) => {
        for (let k = 0; k < depth; k++) {
          await sleep(w5Delay(i, k));
          events++;
        }
      };
      const tasks: Task<void>[] = new Array(n);
      for (let i = 0; i < n; i++) tasks[i] = createTask(() => sleeper(i));
      await gather(...tasks);
      return events;
    },
    { clock: "virtual" },
  );

/** W6: `width` tasks take turns on one Lock, each holding it across one await. */
const w6: Workload = ({ n, width }) =>
  run(async () => {
    const lock = new Lock();
    let count = 0;
    const worker = async (m: number) => {
      for (let k = 0; k < m; k++) {
        await lock.acquire();
        try {
          await null;
          count++;
        } finally {
          lock.release();
        }
      }
    };
    const workers: Task<void>[] = [];
    for (let j = 0; j < width; j++) {
      const m = share(n, width, j);
      workers.push(createTask(() => worker(m)));
    }
    await gather(...workers);
    return count;
  });

/** W6 with Semaphore(1) instead of Lock. */
const w6Semaphore: Workload = ({ n, width }) =>
  run(async () => {
    const sem = new Semaphore(1);
    let count = 0;
    const worker = async (m: number) => {
      for (let k = 0; k < m; k++) {
        await sem.acquire();
        try {
          await null;
          count++;
        } finally {
          sem.release();
        }
      }
    };
    const workers: Task<void>[] = [];
    for (let j = 0; j < width; j++) {
      const m = share(n, width, j);
      workers.push(createTask(() => worker(m)));
    }
    await gather(...workers);
    return count;
  });

/** The ALS row: raw W1 in a process where awaitress ran once (on Node 20 this enables promise hooks). */
const w1RawAfterRun: Workload = async (p, mark, report) => {
  await run(async () => {
    await sleep(0);
  });
  mark();
  return (raw.w1 as Workload)(p, mark, report);
};

/** Spins on `await sleep(0)` for `ms` of real time. */
async function spin(ms: number): Promise<Spun> {
  let count = 0;
  const start = performance.now();
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= ms) return { count, ms: elapsed };
    await sleep(0);
    count++;
  }
}

/**
 * Fairness: inside `run` (real clock), a task spins on `await sleep(0)` while a chain of native
 * setTimeout(width) and another task looping on `sleep(depth / 1000)` wait (bench/impl/raw.ts,
 * fairnessPhases, has the phases and the figures).
 */
const fairness: Workload = (p, _mark, report) =>
  run(() =>
    fairnessPhases(
      p,
      async (ms) => await createTask(() => spin(ms)),
      async (active, late) =>
        await createTask(async () => {
          do {
            const start = performance.now();
            await sleep(p.depth / 1000);
            late.push(performance.now() - start - p.depth);
          } while (active());
        }),
      report,
    ),
  );

/** Throws unless an item put now stays in the queue (no cancelled or timed-out get took it). */
async function checkNoStaleGetter(queue: Queue<number>): Promise<void> {
  queue.putNowait(1);
  for (let k = 0; k < 3; k++) await sleep(0);
  if (queue.qsize() !== 1) throw new Error("a cancelled get() is still registered and took an item");
}

/**
 * Waiter removal: `n` tasks wait in `await q.get()` on one Queue; after mark(), each is
 * cancelled (in `order`); the time is until every one has finished (gather, returnExceptions).
 */
function removal(order: "arrival" | "reverse" | "random"): Workload {
  return ({ n }, mark) =>
    run(async () => {
      const queue = new Queue<number>();
      let parked = 0;
      const getter = async () => {
        parked++;
        return await queue.get();
      };
      const tasks = new Array<Task<number>>(n);
      for (let i = 0; i < n; i++) tasks[i] = createTask(getter);
      const all = gather(...tasks, { returnExceptions: true });
      const indices = cancelOrder(n, order);
      await sleep(0);
      if (parked !== n) throw new Error(`only ${parked} of ${n} getters waiting after sleep(0)`);
      mark();
      for (const i of indices) (tasks[i] as Task<number>).cancel();
      let cancelled = 0;
      for (const r of await all) if (r instanceof CancelledError) cancelled++;
      await checkNoStaleGetter(queue);
      return cancelled;
    });
}

/**
 * Waiter removal by timeouts: `n` tasks each wait in `waitFor(q.get(), deadline)` (or, with
 * `fn`, `waitFor(() => q.get(), deadline)`) with a seeded deadline of 1 ms–1 s on the virtual
 * clock; nothing is ever put, so every one times out. The time is from when all wait until the
 * last TimeoutError.
 */
function removalTimeouts(fn: boolean): Workload {
  return ({ n }, mark) =>
    run(
      async () => {
        const queue = new Queue<number>();
        const random = seededRandom(11);
        let parked = 0;
        const getter = async (deadline: number) => {
          parked++;
          try {
            await (fn ? waitFor(() => queue.get(), deadline) : waitFor(queue.get(), deadline));
            return 0;
          } catch (error) {
            if (error instanceof TimeoutError) return 1;
            throw error;
          }
        };
        const tasks = new Array<Task<number>>(n);
        for (let i = 0; i < n; i++) {
          const deadline = 0.001 + Math.floor(random() * 1000) / 1000;
          tasks[i] = createTask(() => getter(deadline));
        }
        const all = gather(...tasks);
        await sleep(0);
        if (parked !== n) throw new Error(`only ${parked} of ${n} getters waiting after sleep(0)`);
        mark();
        let timedOut = 0;
        for (const r of await all) timedOut += r;
        await checkNoStaleGetter(queue);
        return timedOut;
      },
      { clock: "virtual" },
    );
}

async function failing(i: number, length: number): Promise<never> {
  await sleep(0);
  throw bulkyError(i, length);
}

/**
 * Retention: inside one `run`, `n` tasks that fail (each after one sleep(0), with an error of
 * its own `depth`-character message), `width` at a time, each awaited in try/catch. Reports the
 * heap after gc minus the heap at the start, inside run and after run returned, in MB.
 */
const retention: Workload = async ({ n, width, depth }, mark, report) => {
  const outside = await settledHeap();
  const total = await run(async () => {
    const before = await settledHeap();
    mark();
    let sum = 0;
    const batch: Task<never>[] = [];
    for (let start = 0; start < n; start += width) {
      const end = Math.min(n, start + width);
      for (let i = start; i < end; i++) batch.push(createTask(() => failing(i, depth)));
      for (const task of batch) {
        try {
          await task;
        } catch (error) {
          sum += (error as { index: number }).index;
        }
      }
      batch.length = 0;
    }
    report("heapGrowthMb", ((await settledHeap()) - before) / 1048576);
    return sum;
  });
  report("heapAfterRunMb", ((await settledHeap()) - outside) / 1048576);
  return total;
};

export const workloads: Record<string, Workload> = {
  w1,
  w1Plain,
  w1Trace,
  w1TraceNoSteps,
  w1TraceProcess,
  w1Debug,
  w2,
  w2Trace,
  w2TraceNoSteps,
  w2TraceProcess,
  w2Debug,
  w3,
  w3Workers,
  q1Pool,
  q1QueueWorkers,
  q1PoolTimeout,
  q2PoolRate,
  q3PoolRetry,
  w4,
  w4Timers,
  w4NativeTimers,
  w5,
  w5Clock,
  w6,
  w6Semaphore,
  w1RawAfterRun,
  fairness,
  removalArrival: removal("arrival"),
  removalReverse: removal("reverse"),
  removalRandom: removal("random"),
  removalTimeouts: removalTimeouts(false),
  removalTimeoutsFn: removalTimeouts(true),
  retention,
};
