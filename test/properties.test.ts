/**
 * Property-based tests (fast-check) for the queues and semaphores: random programs of producers,
 * consumers, cancellations and timeouts on the virtual clock.
 *
 * Queue invariants: every item put is received exactly once or is still in the queue; a
 * cancelled or timed-out getter/putter leaves no registration behind; `join()` resolves only
 * once every item put was marked done, and always does when that holds.
 * Semaphore invariants: never more holders than the value; every permit comes back.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BoundedSemaphore,
  Condition,
  createTask,
  isCancelled,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  QueueEmpty,
  run,
  Semaphore,
  sleep,
  type Task,
  TimeoutError,
  timeout,
  waitFor,
} from "../src/node.js";

const NUM_RUNS = 100;

type GetMode = "get" | "subtask" | "waitFor" | "timeout" | "nowait" | "iterate";

/** After its `op`-th put or get, an actor cancels actor `target` in the same step: this lands in
 * the window where a waiter it just woke has not run yet (asyncio's must-cancel cases). */
const cancelAfterArb = fc.option(fc.record({ op: fc.nat(2), target: fc.nat(7) }), { nil: undefined, freq: 2 });

const producerArb = fc.record({
  count: fc.integer({ min: 1, max: 6 }),
  cancelAfter: cancelAfterArb,
  start: fc.constantFrom(0, 0.001, 0.002),
  delay: fc.constantFrom(0, 0, 0.001, 0.003),
});

const consumerArb = fc.record({
  gets: fc.integer({ min: 1, max: 8 }),
  mode: fc.constantFrom<GetMode>("get", "get", "subtask", "waitFor", "timeout", "nowait", "iterate"),
  limit: fc.constantFrom(0.0005, 0.002, 0.01),
  work: fc.constantFrom(0, 0, 0.001, 0.002),
  doneInFinally: fc.boolean(),
  cancelAfter: cancelAfterArb,
});

const queueProgramArb = fc.record({
  kind: fc.constantFrom("fifo", "lifo", "priority"),
  maxsize: fc.integer({ min: 0, max: 4 }),
  producers: fc.array(producerArb, { minLength: 1, maxLength: 3 }),
  consumers: fc.array(consumerArb, { minLength: 1, maxLength: 3 }),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.0005, 0.001, 0.002, 0.005), target: fc.nat(7) }), {
    maxLength: 3,
  }),
  joiners: fc.array(fc.constantFrom(0, 0.001, 0.004), { maxLength: 2 }),
  shutdownAt: fc.option(fc.constantFrom(0.003, 0.01), { nil: undefined }),
  /** Schedule fuzzing: wake-ups go through the loop, which permutes callbacks ready together. */
  shuffle: fc.option(fc.nat(1_000_000), { nil: undefined }),
});

type QueueProgram = typeof queueProgramArb extends fc.Arbitrary<infer P> ? P : never;

interface QueueOutcome {
  putOk: number[];
  received: number[];
  remaining: number[];
  inserted: number;
  done: number;
  joinViolations: number;
  finalJoinResolved: boolean;
  waiters: [number, number];
  lostWakeups: number;
}

async function runQueueProgram(program: QueueProgram): Promise<QueueOutcome> {
  let inserted = 0; // from the trace: counted at the very moment an item enters the queue
  let done = 0;
  let zeroEpoch = 0; // bumped each time the unfinished count drops to zero
  const outcome = await run(
    async () => {
      const q: Queue<number> =
        program.kind === "fifo"
          ? new Queue(program.maxsize)
          : program.kind === "lifo"
            ? new LifoQueue(program.maxsize)
            : new PriorityQueue(program.maxsize);
      const putOk: number[] = [];
      const received: number[] = [];
      let joinViolations = 0;
      let actors: Task<void>[] = [];
      // Producers cancel consumers and consumers cancel producers: the tasks they may have just woken.
      const maybeCancel = (plan: { op: number; target: number } | undefined, op: number, victims: Task<void>[]) => {
        if (plan !== undefined && plan.op === op) victims[plan.target % victims.length]?.cancel();
      };
      const markDone = (): void => {
        q.taskDone();
        done++;
        if (done === inserted) zeroEpoch++;
      };

      const producers = program.producers.map((p, pi) =>
        createTask(async () => {
          await sleep(p.start);
          for (let i = 0; i < p.count; i++) {
            const item = pi * 100 + i;
            await q.put(item);
            putOk.push(item); // put returned: the item is in the queue (or already taken)
            maybeCancel(p.cancelAfter, i, consumers);
            if (p.delay > 0) await sleep(p.delay);
          }
        }),
      );

      const handle = async (
        item: number,
        c: (typeof program.consumers)[number],
        n: number,
        record = true,
      ): Promise<void> => {
        if (record) received.push(item);
        maybeCancel(c.cancelAfter, n, producers);
        if (c.doneInFinally) {
          try {
            if (c.work > 0) await sleep(c.work);
          } finally {
            markDone();
          }
        } else {
          if (c.work > 0) await sleep(c.work);
          markDone();
        }
      };

      const consumers = program.consumers.map((c) =>
        createTask(async () => {
          if (c.mode === "iterate") {
            let n = 0;
            for await (const item of q) {
              await handle(item, c, n);
              if (++n >= c.gets) break;
            }
            return;
          }
          for (let n = 0; n < c.gets; n++) {
            let item: number;
            try {
              if (c.mode === "get") item = await q.get();
              // The get runs in a sub-task that cancelling this consumer cancels too. A
              // cancellation arriving after the sub-task finished but before this task resumed
              // is delivered here (asyncio's must-cancel), so the item is then the sub-task's
              // result: a consumer that must lose nothing takes it from there.
              else if (c.mode === "subtask") {
                const sub = createTask(() => q.get());
                try {
                  item = await sub;
                } catch (e) {
                  if (isCancelled(e) && sub.done() && !sub.cancelled()) received.push(sub.result());
                  throw e;
                }
              } else if (c.mode === "waitFor") item = await waitFor(() => q.get(), c.limit);
              else if (c.mode === "timeout") item = await timeout(c.limit, () => q.get());
              else item = q.getNowait();
            } catch (e) {
              if (e instanceof TimeoutError || e instanceof QueueEmpty) {
                await sleep(c.limit);
                continue;
              }
              throw e;
            }
            await handle(item, c, n);
          }
        }),
      );

      const joiners = program.joiners.map((at) =>
        createTask(async () => {
          await sleep(at);
          const zeroAtStart = inserted === done;
          const epoch = zeroEpoch;
          await q.join();
          if (!zeroAtStart && zeroEpoch === epoch) joinViolations++;
        }),
      );

      actors = [...producers, ...consumers, ...joiners];
      for (const c of program.cancels) {
        createTask(async () => {
          await sleep(c.at);
          actors[c.target % actors.length]?.cancel();
        });
      }
      if (program.shutdownAt !== undefined) {
        const at = program.shutdownAt;
        createTask(async () => {
          await sleep(at);
          q.shutdown();
        });
      }

      // Let the program run, then stop whatever still waits (blocked putters, idle getters).
      await sleep(0.1);
      // Quiescent now: nobody may be left waiting for something that is there (a lost wake-up).
      const [gettersWaiting, puttersWaiting] = q._waiterCounts();
      const lostWakeups = (q.qsize() > 0 && gettersWaiting > 0 ? 1 : 0) + (!q.full() && puttersWaiting > 0 ? 1 : 0);
      for (const t of actors) t.cancel();
      for (const t of actors) {
        try {
          await t;
        } catch (e) {
          if (!isCancelled(e) && !(e instanceof Error && e.name === "QueueShutDown")) throw e;
        }
      }

      // Liveness: a fresh join resolves now iff every item put was marked done.
      const finalJoin = createTask(() => q.join());
      for (let i = 0; i < 5; i++) await sleep(0);
      const finalJoinResolved = finalJoin.done();
      finalJoin.cancel();
      await finalJoin.catch(() => undefined);

      const remaining: number[] = [];
      while (!q.empty()) remaining.push(q.getNowait());
      return {
        putOk,
        received,
        remaining,
        inserted,
        done,
        joinViolations,
        finalJoinResolved,
        waiters: q._waiterCounts(),
        lostWakeups,
      };
    },
    {
      clock: "virtual",
      ...(program.shuffle === undefined ? {} : { shuffle: program.shuffle }),
      trace: {
        event: (e) => {
          if (e.type === "queue-put") inserted++;
        },
      },
    },
  );
  return outcome;
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

describe("Queue properties", () => {
  it("every item put is received exactly once or still queued; join resolves exactly when all are done", async () => {
    await fc.assert(
      fc.asyncProperty(queueProgramArb, async (program) => {
        const o = await runQueueProgram(program);
        // Nothing taken twice.
        expect(new Set(o.received).size).toBe(o.received.length);
        // Nothing lost, nothing invented: received + remaining == put.
        expect(sorted([...o.received, ...o.remaining])).toEqual(sorted(o.putOk));
        expect(o.inserted).toBe(o.putOk.length);
        // No cancelled or timed-out waiter left registered.
        expect(o.waiters).toEqual([0, 0]);
        // A woken getter or putter that was cancelled passed its turn on.
        expect(o.lostWakeups).toBe(0);
        // join never resolved while work was unfinished; it resolves iff everything was done.
        expect(o.joinViolations).toBe(0);
        expect(o.finalJoinResolved).toBe(o.done === o.inserted);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

const semaphoreProgramArb = fc.record({
  value: fc.integer({ min: 1, max: 3 }),
  bounded: fc.boolean(),
  tasks: fc.array(
    fc.record({
      start: fc.constantFrom(0, 0, 0.001, 0.002),
      hold: fc.constantFrom(0, 0.001, 0.003),
      rounds: fc.integer({ min: 1, max: 3 }),
      limit: fc.option(fc.constantFrom(0.0005, 0.002, 0.01), { nil: undefined }),
      viaHold: fc.boolean(),
      cancelAfter: cancelAfterArb,
    }),
    { minLength: 1, maxLength: 6 },
  ),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.0005, 0.001, 0.002, 0.004), target: fc.nat(9) }), {
    maxLength: 4,
  }),
  shuffle: fc.option(fc.nat(1_000_000), { nil: undefined }),
});

describe("Semaphore properties", () => {
  it("never has more holders than its value, and every permit comes back", async () => {
    await fc.assert(
      fc.asyncProperty(semaphoreProgramArb, async (program) => {
        const result = await run(
          async () => {
            const sem = program.bounded ? new BoundedSemaphore(program.value) : new Semaphore(program.value);
            let holders = 0;
            let most = 0;
            let passes = 0;
            const enter = (): void => {
              holders++;
              most = Math.max(most, holders);
              passes++;
            };
            let tasks: Task<void>[] = [];
            const maybeCancel = (plan: { op: number; target: number } | undefined, op: number): void => {
              if (plan !== undefined && plan.op === op) tasks[plan.target % tasks.length]?.cancel();
            };
            tasks = program.tasks.map((t) =>
              createTask(async () => {
                await sleep(t.start);
                for (let r = 0; r < t.rounds; r++) {
                  if (t.viaHold) {
                    const acquire = () => sem.hold();
                    const held =
                      t.limit === undefined ? await acquire() : await waitFor(acquire, t.limit).catch(() => null);
                    if (held === null) continue;
                    {
                      await using _ = held;
                      enter();
                      try {
                        await sleep(t.hold);
                      } finally {
                        holders--;
                      }
                    }
                    maybeCancel(t.cancelAfter, r);
                  } else {
                    try {
                      if (t.limit === undefined) await sem.acquire();
                      else await timeout(t.limit, () => sem.acquire());
                    } catch (e) {
                      if (e instanceof TimeoutError) continue;
                      throw e;
                    }
                    enter();
                    try {
                      await sleep(t.hold);
                    } finally {
                      holders--;
                      sem.release(); // hands the permit to the next waiter...
                      maybeCancel(t.cancelAfter, r); // ...which may be cancelled before it runs
                    }
                  }
                }
              }),
            );
            for (const c of program.cancels) {
              createTask(async () => {
                await sleep(c.at);
                tasks[c.target % tasks.length]?.cancel();
              });
            }
            for (const t of tasks) await t.catch((e: unknown) => (isCancelled(e) ? undefined : Promise.reject(e)));
            return { most, holders, passes, value: sem.value, waiters: sem._waiterCount(), locked: sem.locked() };
          },
          { clock: "virtual", ...(program.shuffle === undefined ? {} : { shuffle: program.shuffle }) },
        );
        expect(result.most).toBeLessThanOrEqual(program.value);
        expect(result.holders).toBe(0);
        expect(result.value).toBe(program.value);
        expect(result.waiters).toBe(0);
        expect(result.locked).toBe(false);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

const lockProgramArb = fc.record({
  tasks: fc.array(
    fc.record({
      start: fc.constantFrom(0, 0, 0.001),
      hold: fc.constantFrom(0, 0.001, 0.002),
      rounds: fc.integer({ min: 1, max: 3 }),
      limit: fc.option(fc.constantFrom(0.0005, 0.002), { nil: undefined }),
      cancelAfter: cancelAfterArb,
    }),
    { minLength: 1, maxLength: 6 },
  ),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.0005, 0.001, 0.003), target: fc.nat(9) }), { maxLength: 3 }),
  shuffle: fc.option(fc.nat(1_000_000), { nil: undefined }),
});

describe("Lock properties", () => {
  it("never has two holders, and ends unlocked with no waiter left", async () => {
    await fc.assert(
      fc.asyncProperty(lockProgramArb, async (program) => {
        const result = await run(
          async () => {
            const lock = new Lock();
            let holders = 0;
            let most = 0;
            let tasks: Task<void>[] = [];
            tasks = program.tasks.map((t) =>
              createTask(async () => {
                await sleep(t.start);
                for (let r = 0; r < t.rounds; r++) {
                  const acquire = () => lock.hold();
                  const held =
                    t.limit === undefined ? await acquire() : await waitFor(acquire, t.limit).catch(() => null);
                  if (held === null) continue;
                  try {
                    holders++;
                    most = Math.max(most, holders);
                    await sleep(t.hold);
                  } finally {
                    holders--;
                    held.release(); // wakes the next waiter...
                    const plan = t.cancelAfter; // ...which may be cancelled before it runs
                    if (plan !== undefined && plan.op === r) tasks[plan.target % tasks.length]?.cancel();
                  }
                }
              }),
            );
            for (const c of program.cancels) {
              createTask(async () => {
                await sleep(c.at);
                tasks[c.target % tasks.length]?.cancel();
              });
            }
            for (const t of tasks) await t.catch((e: unknown) => (isCancelled(e) ? undefined : Promise.reject(e)));
            return { most, locked: lock.locked(), waiters: lock._waiterCount() };
          },
          { clock: "virtual", ...(program.shuffle === undefined ? {} : { shuffle: program.shuffle }) },
        );
        expect(result.most).toBeLessThanOrEqual(1);
        expect(result.locked).toBe(false);
        expect(result.waiters).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

const conditionProgramArb = fc.record({
  producers: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
  consumers: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
  notifyAll: fc.boolean(),
  /** A producer cancels a consumer right after notifying: the notified one, maybe, before it runs. */
  cancelAfterNotify: fc.option(fc.record({ notify: fc.nat(2), consumer: fc.nat(2) }), { nil: undefined, freq: 2 }),
  cancels: fc.array(fc.record({ at: fc.constantFrom(0, 0.0005, 0.001, 0.002), target: fc.nat(7) }), { maxLength: 3 }),
  shuffle: fc.option(fc.nat(1_000_000), { nil: undefined }),
});

describe("Condition properties", () => {
  it("a buffer guarded by a condition loses no item and strands no consumer while items wait", async () => {
    await fc.assert(
      fc.asyncProperty(conditionProgramArb, async (program) => {
        const result = await run(
          async () => {
            const cond = new Condition();
            const buffer: number[] = [];
            const produced: number[] = [];
            const consumed: number[] = [];
            let notifies = 0;
            const producers = program.producers.map((count, pi) =>
              createTask(async () => {
                for (let i = 0; i < count; i++) {
                  await sleep(0.001);
                  await using _ = await cond.hold();
                  buffer.push(pi * 100 + i);
                  produced.push(pi * 100 + i);
                  if (program.notifyAll) cond.notifyAll();
                  else cond.notify();
                  const plan = program.cancelAfterNotify;
                  if (plan !== undefined && plan.notify === notifies++) {
                    consumers[plan.consumer % consumers.length]?.cancel();
                  }
                }
              }),
            );
            const consumers = program.consumers.map((count) =>
              createTask(async () => {
                for (let i = 0; i < count; i++) {
                  await using _ = await cond.hold();
                  await cond.waitFor(() => buffer.length > 0);
                  consumed.push(buffer.shift() as number);
                }
              }),
            );
            const all: Task<void>[] = [...producers, ...consumers];
            for (const c of program.cancels) {
              createTask(async () => {
                await sleep(c.at);
                all[c.target % all.length]?.cancel();
              });
            }
            for (const t of producers) await t.catch(() => undefined);
            await sleep(0.05);
            // Quiescent: a consumer still waiting while items sit in the buffer lost a notification.
            const stranded = buffer.length > 0 && consumers.some((t) => !t.done());
            for (const t of consumers) t.cancel();
            for (const t of consumers) await t.catch(() => undefined);
            return {
              produced,
              consumed,
              buffer,
              stranded,
              locked: cond.locked(),
              waiters: cond._waiterCount(),
            };
          },
          { clock: "virtual", ...(program.shuffle === undefined ? {} : { shuffle: program.shuffle }) },
        );
        expect([...result.consumed, ...result.buffer].sort((a, b) => a - b)).toEqual(
          [...result.produced].sort((a, b) => a - b),
        );
        expect(result.stranded).toBe(false);
        expect(result.locked).toBe(false);
        expect(result.waiters).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
