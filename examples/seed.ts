/**
 * The seed: `work_queue.py` from the article this project grew from, ported line for line.
 * Two tasks take delays of 15, 10, 5 and 2 seconds from a queue and sleep each, timing every
 * job with codetiming's Timer.
 *
 *   npx tsx examples/seed.ts          # on the virtual clock: the exact figures, instantly
 *   npx tsx examples/seed.ts --real   # on the wall clock: 17 seconds
 *
 * It imports "awaitress" as your code would: copied into a project that depends on awaitress, it
 * runs unchanged (here the package refers to itself; tsconfig.json maps it to src/ for development).
 */
import { pathToFileURL } from "node:url";
import { createTask, gather, Queue, run, sleep, Timer } from "awaitress";

/** One worker: takes delays from the queue until it is empty, timing each. */
export async function task(name: string, workQueue: Queue<number>): Promise<void> {
  const timer = new Timer({ text: `Task ${name} elapsed time: {:.1f}` });
  while (!workQueue.empty()) {
    const delay = await workQueue.get();
    console.log(`Task ${name} running`);
    timer.start();
    await sleep(delay);
    timer.stop();
  }
}

/**
 * This is the main entry point for the program
 * (`scale` shrinks the delays, so a test can run the real-clock version in milliseconds).
 */
export async function main(scale = 1): Promise<void> {
  // Create the queue of work
  const workQueue = new Queue<number>();

  // Put some work in the queue
  for (const work of [15, 10, 5, 2]) {
    await workQueue.put(work * scale);
  }

  // Run the tasks
  using _ = new Timer({ text: "\nTotal elapsed time: {:.1f}" }).start();
  await gather(
    createTask(() => task("One", workQueue), { name: "One" }),
    createTask(() => task("Two", workQueue), { name: "Two" }),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await run(() => main(), { clock: process.argv.includes("--real") ? "real" : "virtual" });
}
