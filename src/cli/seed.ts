/**
 * The seed program `awaitress demo` runs: `work_queue.py` from the article this project grew
 * from, ported line for line (the same program as `examples/seed.ts`, which imports it the way a
 * user would). Two tasks take delays of 15, 10, 5 and 2 seconds from a queue and sleep each,
 * timing every job with codetiming's Timer.
 */
import { createTask, gather, Queue, sleep, Timer } from "../node.js";

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
 * This is the main entry point for the program. Run it with `run(() => main())`; `scale`
 * multiplies the delays (a test runs the real-clock version in milliseconds).
 *
 * @example
 * await run(() => main(), { clock: "virtual" }); // prints the seed's lines, "Total elapsed time: 17.0" last
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
