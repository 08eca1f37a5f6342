/**
 * The workloads with awaitress, written as a user would write them, with the public API only
 * (the package root, src/index.ts). The suite bundles this file with the library's TypeScript
 * sources (src/), so what runs is src/ as esbuild compiles it, not dist/.
 */
import {
  createTask,
  gather,
  Lock,
  Queue,
  Recorder,
  type RunOptions,
  run,
  Semaphore,
  sleep,
  type Task,
} from "../../src/index.js";
import { timersWorkload } from "../timers.js";
import { virtualClockWorkload } from "../virtual-clock.js";
import { type Workload, w4Delay, w5Delay } from "../workloads.js";
import { job, workloads as raw, share } from "./raw.js";

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
const w1RawAfterRun: Workload = async (p, mark) => {
  await run(async () => {
    await sleep(0);
  });
  mark();
  return (raw.w1 as Workload)(p, mark);
};

export const workloads: Record<string, Workload> = {
  w1,
  w1Plain,
  w1Trace,
  w1TraceNoSteps,
  w1Debug,
  w2,
  w2Trace,
  w2TraceNoSteps,
  w2Debug,
  w3,
  w3Workers,
  w4,
  w4Timers,
  w4NativeTimers,
  w5,
  w5Clock,
  w6,
  w6Semaphore,
  w1RawAfterRun,
};
