/**
 * One measured part of `bench/redis.ts` in its own process (bundled by esbuild, as bench/child.ts
 * is): `node redis-child.mjs <mode> <redis url> <queue name> <params json>`. It connects, prints
 * "ready", starts measuring on the stdin line "go", and prints one JSON line at the end
 * (`{ error }` if it failed).
 *
 *   a-produce  { n }                 awaitress: n pipelined putNowait, then await them all → { ms }
 *   b-add      { n }                 BullMQ: Promise.all over n queue.add → { ms }
 *   b-bulk     { n }                 BullMQ: one queue.addBulk of n jobs → { ms }
 *   a-consume  { concurrency }       awaitress: getters doing get + taskDone until the queue is shut
 *                                    down → { count, start, end }
 *   b-consume  { concurrency }       BullMQ: a Worker that does nothing, closed on the line "stop"
 *                                    → { count, start, end }
 *   a-latency  { m, warm }           awaitress: put, then get + taskDone, sequentially → { median, p90 }
 *   b-latency  { m, warm, wait }     BullMQ: add, then the worker's "completed" event in this
 *                                    process (wait: false) or job.waitUntilFinished (wait: true;
 *                                    the last 1,000 completed jobs are kept: it throws "Missing
 *                                    key" for a job deleted before it looks)
 *
 * `start`/`end` are epoch milliseconds with sub-millisecond precision (performance.timeOrigin +
 * performance.now()), comparable between processes on one machine.
 */
import { once } from "node:events";
import { createInterface } from "node:readline";
import { createNodeRedisClient, type IRedisClient, Queue, QueueEvents, Worker } from "bullmq";
import { createClient } from "redis";
import { createTask, gather, run } from "../src/index.js";
import { RedisQueue } from "../src/redis/index.js";

/** The item both libraries carry: a small JSON object. */
export interface BenchItem {
  i: number;
}

/** Job options for BullMQ: completed jobs are deleted, as an acknowledged RedisQueue entry is. */
export const BULL_JOB = { removeOnComplete: true, removeOnFail: true } as const;

/** The RedisQueue options of the benchmark: defaults, warnings silenced (the runner reports persistence). */
export const QUIET = { onWarning: () => {}, onError: (e: Error) => console.error(String(e)) } as const;

/**
 * A BullMQ connection on node-redis (the client RedisQueue uses; ioredis is not installed), RESP2
 * like RedisQueue, and no command timeout (BullMQ's blocking reads outlast node-redis 6's 5 s).
 */
export function bullConnection(url: string): IRedisClient {
  return createNodeRedisClient(createClient({ url, RESP: 2, commandOptions: { timeout: 0 } }));
}

export function now(): number {
  return performance.timeOrigin + performance.now();
}

function say(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i] as number;
}

function summary(latencies: number[]): { median: number; p90: number; n: number } {
  const sorted = [...latencies].sort((x, y) => x - y);
  return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), n: sorted.length };
}

/** Connected: says "ready" and waits for the runner's "go" (the measured part starts then). */
async function ready(): Promise<void> {
  process.stdout.write("ready\n");
  await line("go");
}

/** Resolves on the first stdin line equal to `word`. */
function line(word: string): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.on("line", (text) => {
      if (text.trim() === word) {
        rl.close();
        resolve();
      }
    });
  });
}

async function aProduce(url: string, name: string, n: number): Promise<void> {
  await run(async () => {
    const q = await RedisQueue.connect<BenchItem>(name, { url, ...QUIET });
    await ready();
    const start = now();
    const puts = [];
    for (let i = 0; i < n; i++) puts.push(q.putNowait({ i }));
    await gather(...puts);
    const ms = now() - start;
    await q.close();
    say({ ms });
  });
}

async function bProduce(url: string, name: string, n: number, bulk: boolean): Promise<void> {
  const queue = new Queue<BenchItem>(name, { connection: bullConnection(url) });
  await queue.waitUntilReady();
  await ready();
  const start = now();
  if (bulk) {
    await queue.addBulk(Array.from({ length: n }, (_, i) => ({ name: "job", data: { i }, opts: BULL_JOB })));
  } else {
    await Promise.all(Array.from({ length: n }, (_, i) => queue.add("job", { i }, BULL_JOB)));
  }
  const ms = now() - start;
  await queue.close();
  say({ ms });
}

async function aConsume(url: string, name: string, concurrency: number): Promise<void> {
  await run(async () => {
    const q = await RedisQueue.connect<BenchItem>(name, { url, ...QUIET });
    await ready();
    const start = now();
    let count = 0;
    let end = start;
    const getters = Array.from({ length: concurrency }, () =>
      createTask(async () => {
        for await (const item of q) {
          void item;
          await q.taskDone();
          count++;
          end = now();
        }
      }),
    );
    await gather(...getters);
    await q.close();
    say({ count, start, end });
  });
}

async function bConsume(url: string, name: string, concurrency: number): Promise<void> {
  let count = 0;
  let start = 0;
  let end = 0;
  const worker = new Worker<BenchItem>(name, async () => {}, {
    connection: bullConnection(url),
    concurrency,
    autorun: false,
  });
  worker.on("completed", () => {
    count++;
    end = now();
  });
  worker.on("error", (error) => console.error(String(error)));
  await worker.waitUntilReady();
  await ready();
  start = now();
  end = start;
  void worker.run();
  await line("stop");
  await worker.close();
  say({ count, start, end });
}

async function aLatency(url: string, name: string, m: number, warm: number): Promise<void> {
  await run(async () => {
    const q = await RedisQueue.connect<BenchItem>(name, { url, ...QUIET });
    await ready();
    const latencies: number[] = [];
    for (let i = 0; i < warm + m; i++) {
      const start = now();
      await q.put({ i });
      const item = await q.get();
      await q.taskDone();
      if (item.i !== i) throw new Error(`got item ${item.i}, expected ${i}`);
      if (i >= warm) latencies.push(now() - start);
    }
    await q.close();
    say(summary(latencies));
  });
}

async function bLatency(url: string, name: string, m: number, warm: number, wait: boolean): Promise<void> {
  const queue = new Queue<BenchItem>(name, { connection: bullConnection(url) });
  const worker = new Worker<BenchItem>(name, async (job) => job.data.i, { connection: bullConnection(url) });
  worker.on("error", (error) => console.error(String(error)));
  const events = wait ? new QueueEvents(name, { connection: bullConnection(url) }) : null;
  await Promise.all([queue.waitUntilReady(), worker.waitUntilReady(), events?.waitUntilReady()]);
  await ready();
  const latencies: number[] = [];
  for (let i = 0; i < warm + m; i++) {
    const start = now();
    let result: unknown;
    if (events !== null) {
      // Kept a while: waitUntilFinished throws "Missing key" for a job deleted before it looks.
      const job = await queue.add("job", { i }, { removeOnComplete: 1000, removeOnFail: true });
      result = await job.waitUntilFinished(events);
    } else {
      const completed = once(worker, "completed") as Promise<[unknown, unknown]>;
      await queue.add("job", { i }, BULL_JOB);
      result = (await completed)[1];
    }
    if (result !== i) throw new Error(`job returned ${String(result)}, expected ${i}`);
    if (i >= warm) latencies.push(now() - start);
  }
  await worker.close();
  await events?.close();
  await queue.close();
  say(summary(latencies));
}

async function main(): Promise<void> {
  const [mode, url, name, paramsJson] = process.argv.slice(2);
  if (mode === undefined || url === undefined || name === undefined || paramsJson === undefined) {
    throw new Error("usage: redis-child.mjs <mode> <url> <queue> <params json>");
  }
  const p = JSON.parse(paramsJson) as { n?: number; concurrency?: number; m?: number; warm?: number; wait?: boolean };
  const n = p.n ?? 0;
  const m = p.m ?? 0;
  const warm = p.warm ?? 0;
  const concurrency = p.concurrency ?? 1;
  if (mode === "a-produce") await aProduce(url, name, n);
  else if (mode === "b-add") await bProduce(url, name, n, false);
  else if (mode === "b-bulk") await bProduce(url, name, n, true);
  else if (mode === "a-consume") await aConsume(url, name, concurrency);
  else if (mode === "b-consume") await bConsume(url, name, concurrency);
  else if (mode === "a-latency") await aLatency(url, name, m, warm);
  else if (mode === "b-latency") await bLatency(url, name, m, warm, p.wait === true);
  else throw new Error(`unknown mode ${mode}`);
}

// Only as a program: bench/redis.ts imports this module's helpers too.
if (process.argv[1]?.includes("redis-child")) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      say({ error: String((error as Error)?.stack ?? error) });
      process.exit(0);
    },
  );
}
