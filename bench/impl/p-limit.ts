/** The workloads with p-limit: a concurrency limiter for promise-returning functions. */
import pLimit from "p-limit";
import type { Workload } from "../workloads.js";
import { flakyJob, job, share } from "./raw.js";

/** W3: every job through limit(width), joined by Promise.all. */
const w3: Workload = async ({ n, width }) => {
  const limit = pLimit(width);
  const all = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) all[i] = limit(job, i);
  const results = await Promise.all(all);
  let total = 0;
  for (const r of results) total += r;
  return total;
};

/** Q3: as W3, each job retried by hand up to 3 attempts (p-retry is not installed). */
const q3Retry: Workload = async ({ n, width }) => {
  const limit = pLimit(width);
  const attempt = async (i: number) => {
    for (let k = 1; ; k++) {
      try {
        return await flakyJob(i, k);
      } catch (error) {
        if (k === 3) throw error;
      }
    }
  };
  const all = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) all[i] = limit(attempt, i);
  const results = await Promise.all(all);
  let total = 0;
  for (const r of results) total += r;
  return total;
};

/** W6: `width` loops take turns on limit(1), each holding it across one await. */
const w6: Workload = async ({ n, width }) => {
  const limit = pLimit(1);
  let count = 0;
  const critical = async () => {
    await null;
    count++;
  };
  const worker = async (m: number) => {
    for (let k = 0; k < m; k++) await limit(critical);
  };
  const workers: Promise<void>[] = [];
  for (let j = 0; j < width; j++) workers.push(worker(share(n, width, j)));
  await Promise.all(workers);
  return count;
};

export const workloads: Record<string, Workload> = { w3, w6, q3Retry };
