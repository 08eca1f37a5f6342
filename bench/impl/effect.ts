/** The workloads with Effect (v4): fibers, Queue.bounded, Semaphore, Effect.sleep. */
import { Effect, Fiber, Queue, Semaphore } from "effect";
import { type Workload, w4Delay } from "../workloads.js";
import { job, share } from "./raw.js";

/** W1: fork a fiber per child (each yields once), then join them all. */
const w1: Workload = ({ n }) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const fibers: Fiber.Fiber<number>[] = new Array(n);
      for (let i = 0; i < n; i++) fibers[i] = yield* Effect.forkChild(Effect.as(Effect.yieldNow, i));
      const results = yield* Fiber.joinAll(fibers);
      let total = 0;
      for (const r of results) total += r;
      return total;
    }),
  );

/** W2: a producer fiber and `width` consumer fibers on Queue.bounded(depth); -1 stops a consumer. */
const w2: Workload = ({ n, width, depth }) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const queue = yield* Queue.bounded<number>(depth);
      let total = 0;
      const consumer = Effect.gen(function* () {
        for (;;) {
          const item = yield* Queue.take(queue);
          if (item < 0) return;
          total += item;
        }
      });
      const consumers: Fiber.Fiber<void>[] = [];
      for (let c = 0; c < width; c++) consumers.push(yield* Effect.forkChild(consumer));
      for (let i = 0; i < n; i++) yield* Queue.offer(queue, i);
      for (let c = 0; c < width; c++) yield* Queue.offer(queue, -1);
      yield* Fiber.joinAll(consumers);
      return total;
    }),
  );

/** W3: Effect.forEach at concurrency `width` over the same promise job. */
const w3: Workload = async ({ n, width }) => {
  let total = 0;
  const ids = Array.from({ length: n }, (_, i) => i);
  await Effect.runPromise(
    Effect.forEach(
      ids,
      (i) =>
        Effect.map(
          Effect.promise(() => job(i)),
          (v) => {
            total += v;
          },
        ),
      { concurrency: width, discard: true },
    ),
  );
  return total;
};

/** W4: Effect.sleep for each delay, all at once. */
const w4: Workload = async ({ n, depth }) => {
  const ids = Array.from({ length: n }, (_, i) => i);
  await Effect.runPromise(
    Effect.forEach(ids, (i) => Effect.sleep(w4Delay(i, depth)), { concurrency: "unbounded", discard: true }),
  );
  return n;
};

/** W6: `width` fibers take turns on Semaphore(1), each holding it across one yield. */
const w6: Workload = ({ n, width }) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const sem = yield* Semaphore.make(1);
      let count = 0;
      const critical = Semaphore.withPermit(
        sem,
        Effect.map(Effect.yieldNow, () => {
          count++;
        }),
      );
      const worker = (m: number) =>
        Effect.gen(function* () {
          for (let k = 0; k < m; k++) yield* critical;
        });
      const fibers: Fiber.Fiber<void>[] = [];
      for (let j = 0; j < width; j++) fibers.push(yield* Effect.forkChild(worker(share(n, width, j))));
      yield* Fiber.joinAll(fibers);
      return count;
    }),
  );

export const workloads: Record<string, Workload> = { w1, w2, w3, w4, w6 };
