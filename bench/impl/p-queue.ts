/** The workloads with p-queue: a promise queue with a concurrency limit. */
import PQueue from "p-queue";
import type { Workload } from "../workloads.js";
import { flakyJob, job, share } from "./raw.js";

async function w1Child(i: number): Promise<number> {
  await null;
  return i;
}

/** W1: every child added to an unlimited queue, joined by Promise.all. */
const w1: Workload = async ({ n }) => {
  const queue = new PQueue();
  const all = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) all[i] = queue.add(() => w1Child(i));
  const results = await Promise.all(all);
  let total = 0;
  for (const r of results) total += r;
  return total;
};

/** W3: every job added to a queue of concurrency `width`; onIdle waits for the last. */
const w3: Workload = async ({ n, width }) => {
  const queue = new PQueue({ concurrency: width });
  let total = 0;
  for (let i = 0; i < n; i++) {
    void queue.add(async () => {
      const value = await job(i);
      total += value;
    });
  }
  await queue.onIdle();
  return total;
};

/** Q2: as W3, with a rate limit high enough never to wait (intervalCap per interval). */
const q2Rate: Workload = async ({ n, width }) => {
  const queue = new PQueue({ concurrency: width, intervalCap: 1e9, interval: 1000 });
  let total = 0;
  for (let i = 0; i < n; i++) {
    void queue.add(async () => {
      const value = await job(i);
      total += value;
    });
  }
  await queue.onIdle();
  return total;
};

/** Q3: as W3, each job retried by hand up to 3 attempts (p-retry is not installed). */
const q3Retry: Workload = async ({ n, width }) => {
  const queue = new PQueue({ concurrency: width });
  let total = 0;
  for (let i = 0; i < n; i++) {
    void queue.add(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const value = await flakyJob(i, attempt);
          total += value;
          return;
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    });
  }
  await queue.onIdle();
  return total;
};

/** W6: `width` loops take turns on a queue of concurrency 1, each holding it across one await. */
const w6: Workload = async ({ n, width }) => {
  const queue = new PQueue({ concurrency: 1 });
  let count = 0;
  const critical = async () => {
    await null;
    count++;
  };
  const worker = async (m: number) => {
    for (let k = 0; k < m; k++) await queue.add(critical);
  };
  const workers: Promise<void>[] = [];
  for (let j = 0; j < width; j++) workers.push(worker(share(n, width, j)));
  await Promise.all(workers);
  return count;
};

export const workloads: Record<string, Workload> = { w1, w3, w6, q2Rate, q3Retry };
