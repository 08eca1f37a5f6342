/**
 * The seed (examples/seed.ts, `work_queue.py`) with its two tasks in two processes sharing one
 * RedisQueue: the loop of `task` is the seed's, with `await` where a round trip happens.
 *
 *   npx tsx examples/seed-redis.ts [--url redis://127.0.0.1:6379] [--scale 1]
 *
 * This process puts the work, runs task "One" and starts a second process running task "Two".
 * Real clock: the delays are slept for real (`--scale 0.01` makes them milliseconds).
 *
 * It imports "awaitress" and "awaitress/redis" as your code would: copied into a project, it runs
 * unchanged.
 */
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { run, sleep, Timer } from "awaitress";
import { RedisQueue } from "awaitress/redis";

/** One worker: takes delays from the queue until it is empty, timing each (the seed's loop). */
export async function task(name: string, workQueue: RedisQueue<number>): Promise<void> {
  const timer = new Timer({ text: `Task ${name} elapsed time: {:.1f}` });
  while (!(await workQueue.empty())) {
    const delay = await workQueue.get();
    console.log(`Task ${name} running`);
    timer.start();
    await sleep(delay);
    timer.stop();
    await workQueue.taskDone();
  }
}

/** The first process: puts the work, starts the second process, runs task One, waits for all work done. */
export async function main(url: string, scale = 1, queueName = "seed"): Promise<void> {
  const workQueue = await RedisQueue.connect<number>(queueName, { url, onWarning: () => {} });
  try {
    for (const work of [15, 10, 5, 2]) {
      await workQueue.put(work * scale);
    }
    using _ = new Timer({ text: "\nTotal elapsed time: {:.1f}" }).start();
    const two = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] ?? "", "--worker", "Two", "--url", url, "--queue", queueName],
      { stdio: "inherit" },
    );
    const twoExited = new Promise((resolve) => two.once("exit", resolve));
    await task("One", workQueue);
    await workQueue.join(); // Two's last item too
    await twoExited;
  } finally {
    await workQueue.close();
  }
}

/** The second process: task Two on the same queue. */
export async function worker(name: string, url: string, queueName: string): Promise<void> {
  const workQueue = await RedisQueue.connect<number>(queueName, { url, onWarning: () => {} });
  try {
    await task(name, workQueue);
  } finally {
    await workQueue.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: "redis://127.0.0.1:6379" },
      scale: { type: "string", default: "1" },
      queue: { type: "string", default: "seed" },
      worker: { type: "string" },
    },
  });
  if (values.worker !== undefined) await run(() => worker(values.worker as string, values.url, values.queue));
  else await run(() => main(values.url, Number(values.scale), values.queue));
}
