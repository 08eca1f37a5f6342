/**
 * The seed program (shared/seed/work_queue.py) built inline for the trace tests: two tasks take
 * 15, 10, 5 and 2 from a queue and sleep each, on the virtual clock.
 */
import { createTask, gather, Queue, run, sleep, type TraceEvent } from "../src/node.js";
import { Recorder } from "../src/trace/index.js";

async function worker(queue: Queue<number>): Promise<void> {
  while (!queue.empty()) {
    const delay = await queue.get();
    await sleep(delay);
  }
}

/** Runs the seed on the virtual clock with a recorder and returns its events. */
export async function recordSeed(): Promise<TraceEvent[]> {
  const recorder = new Recorder();
  await run(
    async () => {
      const queue = new Queue<number>(0, { name: "work" });
      for (const work of [15, 10, 5, 2]) await queue.put(work);
      const one = createTask(() => worker(queue), { name: "One" });
      const two = createTask(() => worker(queue), { name: "Two" });
      await gather(one, two);
    },
    { clock: "virtual", trace: recorder },
  );
  return recorder.events;
}
