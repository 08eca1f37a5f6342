/**
 * A worker pool spread over N processes: each process runs the toolkit's `workerPool` on one
 * RedisQueue, and a producer process fills it. The handler is the seed's job (sleep for the
 * item's delay); nothing in it knows there are other processes.
 *
 *   npx tsx examples/seed-redis-pool.ts [--url redis://127.0.0.1:6379] [--processes 3] [--workers 4] [--jobs 200]
 *
 * This process is the producer: it starts the worker processes, waits until each is ready, puts
 * the jobs (waiting for space: the queue holds at most 50), shuts the queue down (the pools end
 * once it is drained), and waits for `join()`: every job done, in whichever process.
 * Each worker process prints `job <id> by <process>.<worker>` per job and its pool's summary.
 *
 * Imports the package by name (the project maps it to src/ in development).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { run, sleep, Timer, workerPool } from "awaitress";
import { RedisQueue } from "awaitress/redis";

interface Job {
  readonly id: number;
  /** Seconds the job takes (the seed's work is a delay). */
  readonly delay: number;
}

/** One worker process: a pool of `workers` tasks draining the shared queue until it is shut down. */
export async function workerProcess(index: number, url: string, queueName: string, workers: number): Promise<void> {
  const queue = await RedisQueue.connect<Job>(queueName, { url, onWarning: () => {} });
  try {
    console.log(`process ${index} ready`);
    const summary = await workerPool(
      queue,
      async (job, { worker }) => {
        await sleep(job.delay);
        console.log(`job ${job.id} by ${index}.${worker}`);
      },
      { workers, timeout: 5, name: `process ${index}` },
    );
    console.log(`process ${index}: ${summary.outcome}, ${summary.done} done, ${summary.failed.length} failed`);
  } finally {
    await queue.close();
  }
}

/** The producer: starts the worker processes, puts the jobs, waits until every one is done. */
export async function producer(url: string, processes: number, workers: number, jobs: number): Promise<void> {
  // A fresh queue per run: a queue that was shut down stays shut down in Redis.
  const queueName = `seed-pool-${process.pid}-${Date.now()}`;
  const queue = await RedisQueue.connect<Job>(queueName, { url, maxsize: 50, onWarning: () => {} });
  const children = Array.from({ length: processes }, (_, i) => {
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        process.argv[1] ?? "",
        "--process",
        String(i + 1),
        "--url",
        url,
        "--queue",
        queueName,
        "--workers",
        String(workers),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let onReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      onReady = resolve;
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      console.log(line);
      if (line === `process ${i + 1} ready`) onReady();
    });
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    return { ready: Promise.race([ready, exited]), exited };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
    using _ = new Timer({ text: "All jobs done (join resolved) in {:.2f} s" }).start();
    for (let id = 0; id < jobs; id++) {
      await queue.put({ id, delay: 0.005 + ((id * 7) % 10) / 1000 });
    }
    await queue.shutdown(); // no more jobs: each pool ends once the queue is drained
    await queue.join();
  } finally {
    await queue.close();
  }
  const codes = await Promise.all(children.map((c) => c.exited));
  if (codes.some((code) => code !== 0)) throw new Error(`a worker process failed: exit codes ${codes.join(", ")}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "redis://127.0.0.1:6379" },
      processes: { type: "string", default: "3" },
      workers: { type: "string", default: "4" },
      jobs: { type: "string", default: "200" },
      process: { type: "string" },
      queue: { type: "string", default: "seed-pool" },
    },
  });
  const workers = Number(values.workers);
  if (values.process !== undefined) {
    await run(() => workerProcess(Number(values.process), values.url, values.queue, workers));
  } else {
    await run(() => producer(values.url, Number(values.processes), workers, Number(values.jobs)));
  }
}
