import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  Event,
  getRunningLoop,
  InvalidStateError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  run,
  sleep,
  TimeoutError,
  type TraceEvent,
  waitFor,
} from "../src/node.js";
import { outcome, runVirtual, settle, tick } from "./support.js";

/** Runs `main` and lists what the main task suspended on (from the trace). */
async function countSuspensions(main: () => Promise<unknown>): Promise<string[]> {
  const on: string[] = [];
  await run(main, {
    clock: "virtual",
    trace: {
      event: (e) => {
        if (e.type === "task-suspended" && e.task === 1) on.push(e.on);
      },
    },
  });
  return on;
}

type AnyQueue = Queue<unknown>;
const queueKinds: Array<[string, (maxsize?: number) => AnyQueue]> = [
  ["Queue", (m) => new Queue(m)],
  ["LifoQueue", (m) => new LifoQueue(m)],
  ["PriorityQueue", (m) => new PriorityQueue(m)],
];

async function expectAllShutDown(q: AnyQueue, item: unknown): Promise<void> {
  await expect(q.put(item)).rejects.toBeInstanceOf(QueueShutDown);
  expect(() => q.putNowait(item)).toThrow(QueueShutDown);
  await expect(q.get()).rejects.toBeInstanceOf(QueueShutDown);
  expect(() => q.getNowait()).toThrow(QueueShutDown);
}

describe("Queue: conformance (spec section 3)", () => {
  it("Q-01 empty()/full() flags", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      expect(q.empty()).toBe(true);
      await q.put(1);
      expect(q.empty()).toBe(false);
      expect(await q.get()).toBe(1);
      expect(q.empty()).toBe(true);
      expect(new Queue().full()).toBe(false);
      const q1 = new Queue<number>(1);
      await q1.put(1);
      expect(q1.full()).toBe(true);
    });
  });

  it("Q-02 FIFO order", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      for (const i of [1, 3, 2]) await q.put(i);
      expect([await q.get(), await q.get(), await q.get()]).toEqual([1, 3, 2]);
    });
  });

  it("Q-03 maxsize blocks the putter after exactly maxsize items", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(2);
      expect(q.maxsize).toBe(2);
      const have: number[] = [];
      const putter = createTask(async () => {
        for (let i = 0; i < 3; i++) {
          await q.put(i);
          have.push(i);
        }
        return true;
      });
      await tick();
      await tick();
      expect(have).toEqual([0, 1]);
      expect(await q.get()).toBe(0);
      await settle();
      expect(have).toEqual([0, 1, 2]);
      expect(await q.get()).toBe(1);
      expect(await q.get()).toBe(2);
      expect(await putter).toBe(true);
    });
  });

  it("Q-04 non-blocking paths", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      q.putNowait(1);
      expect(await q.get()).toBe(1);
      q.putNowait(1);
      expect(q.getNowait()).toBe(1);
      await q.put(1);
      expect(await q.get()).toBe(1);
    });
  });

  it("Q-04 put on an unbounded queue and get on a non-empty one complete without suspending", async () => {
    const suspensions = await countSuspensions(async () => {
      const q = new Queue<number>();
      await q.put(1);
      await q.get();
      q.taskDone();
      q.putNowait(2);
      getRunningLoop().callLater(
        1,
        () => {
          q.getNowait();
          q.taskDone();
        },
        undefined,
      );
      await q.join(); // pending work: join does wait...
    });
    // ...so exactly one suspension: the join, none for put or get.
    expect(suspensions).toEqual(["queue.join"]);
  });

  it("Q-05 getNowait on empty throws QueueEmpty", async () => {
    await runVirtual(async () => {
      expect(() => new Queue().getNowait()).toThrow(QueueEmpty);
    });
  });

  it("Q-06 get() frees a slot and wakes a blocked putter", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(1);
      await q.put(1);
      const p = createTask(() => q.put(2));
      await tick();
      expect(q._waiterCounts()[1]).toBe(1);
      expect(await q.get()).toBe(1);
      // The get handed the slot to the putter at once.
      expect(q._waiterCounts()[1]).toBe(0);
      await settle();
      expect(p.done()).toBe(true);
      expect(q.qsize()).toBe(1);
    });
  });

  it("Q-07 blocked get resumes when an item arrives later", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      const started = new Event();
      let finished = false;
      const g = createTask(async () => {
        started.set();
        const res = await q.get();
        finished = true;
        return res;
      });
      await started.wait();
      expect(finished).toBe(false);
      getRunningLoop().callLater(0.01, () => q.putNowait(1), undefined);
      expect(await g).toBe(1);
      expect(finished).toBe(true);
    });
  });

  it("Q-08 cancelled getter does not steal the next item", async () => {
    await runVirtual(async () => {
      const q = new Queue<string>();
      const t1 = createTask(() => q.get());
      const t2 = createTask(() => q.get());
      await tick();
      t1.cancel();
      await tick();
      expect(t1.done()).toBe(true);
      expect(t1.cancelled()).toBe(true);
      await q.put("a");
      await tick();
      expect(await t2).toBe("a");
    });
  });

  it("Q-09 getter drains a queue that has blocked putters, in FIFO order", async () => {
    await runVirtual(async () => {
      const q = new Queue<string>(1);
      createTask(() => q.put("a"));
      createTask(() => q.put("b"));
      expect(await q.get()).toBe("a");
      expect(await q.get()).toBe("b");
    });
  });

  it("Q-10 producer/consumer through a size-1 queue terminates", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(1);
      const got: number[] = [];
      const producer = createTask(async () => {
        for (let i = 0; i < 5; i++) await q.put(i);
      });
      const consumer = createTask(async () => {
        for (let i = 0; i < 5; i++) got.push(await q.get());
      });
      await producer;
      await consumer;
      expect(got).toEqual([0, 1, 2, 3, 4]);
    });
  });

  it("Q-11 a timed-out getter is deregistered", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(5);
      await expect(waitFor(() => q.get(), 0.1)).rejects.toBeInstanceOf(TimeoutError);
      expect(q._waiterCounts()).toEqual([0, 0]);
    });
  });

  it("Q-12 blocked put resumes after a later get", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(1);
      const started = new Event();
      let finished = false;
      const loop = getRunningLoop();
      loop.callLater(0.01, () => q.getNowait(), undefined);
      const p = createTask(async () => {
        started.set();
        await q.put(1);
        await q.put(2);
        finished = true;
      });
      await started.wait();
      expect(finished).toBe(false);
      await p;
      expect(finished).toBe(true);
      expect(loop.time()).toBe(0.01);
      expect(q.getNowait()).toBe(2);
    });
  });

  it("Q-13 woken-then-cancelled reader must not lose an item", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      let reader = createTask(() => q.get());
      await tick();
      q.putNowait(1); // wakes the reader
      q.putNowait(2);
      reader.cancel(); // before it runs
      try {
        await reader;
      } catch (e) {
        expect(e).toBeInstanceOf(CancelledError);
        reader = createTask(() => q.get());
        await reader;
      }
      expect(reader.result()).toBe(1);
      expect(q.getNowait()).toBe(2);
    });
  });

  it("Q-14 several pending readers; one woken reader cancelled", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      const r1 = createTask(() => q.get());
      const r2 = createTask(() => q.get());
      const r3 = createTask(() => q.get());
      await tick();
      q.putNowait(1); // wakes r1
      q.putNowait(2); // wakes r2
      r1.cancel();
      await expect(r1).rejects.toBeInstanceOf(CancelledError);
      const results = new Set([await r2, await r3]);
      expect(results).toEqual(new Set([1, 2]));
      expect(q.qsize()).toBe(0);
    });
  });

  it("Q-15 woken-then-cancelled writer: no loss, no duplication", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(1);
      q.putNowait(1);
      let writer = createTask(() => q.put(2));
      await tick();
      expect(q.getNowait()).toBe(1); // wakes the writer
      writer.cancel();
      try {
        await writer;
      } catch (e) {
        expect(e).toBeInstanceOf(CancelledError);
        writer = createTask(() => q.put(2));
        await writer;
      }
      expect(q.getNowait()).toBe(2);
      expect(q.qsize()).toBe(0);
    });
  });

  it("Q-16 putNowait on a full queue; non-integer maxsize", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(1);
      q.putNowait(1);
      let error: unknown;
      try {
        q.putNowait(2);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(QueueFull);
      expect((error as QueueFull).maxsize).toBe(1);
      expect((error as Error).message).toContain("maxsize 1");

      const q2 = new Queue<number>(1.3);
      q2.putNowait(1);
      q2.putNowait(2);
      expect(q2.full()).toBe(true);
      expect(() => q2.putNowait(3)).toThrow(QueueFull);

      const q3 = new Queue<number>(1.3);
      await q3.put(1);
      await q3.put(2);
      expect(q3.full()).toBe(true);
    });
  });

  it("Q-17 put in one task, get in another; put wakes a waiting getter", async () => {
    await runVirtual(async () => {
      const q = new Queue<number | string>();
      const t = createTask(async () => {
        await q.put(1);
        return true;
      });
      expect(await q.get()).toBe(1);
      expect(await t).toBe(true);

      const g = createTask(() => q.get());
      await tick();
      await q.put("a");
      expect(await g).toBe("a");
    });
  });

  it("Q-18 cancelling a blocked putter does not disturb FIFO for the others", async () => {
    await runVirtual(async () => {
      const q = new Queue<string>(1);
      const putA = createTask(() => q.put("a"));
      const putB = createTask(() => q.put("b"));
      const putC = createTask(() => q.put("X"));
      await tick();
      expect(putA.done()).toBe(true);
      expect(putB.done()).toBe(false);
      putC.cancel();
      await tick();
      expect(putC.cancelled()).toBe(true);
      expect(q.getNowait()).toBe("a");
      await settle();
      expect(q.getNowait()).toBe("b");
      await putB;
      await settle();
      expect(q.qsize()).toBe(0); // "X" never entered
    });
  });

  it("Q-19 putters wait until a getter drains", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(2);
      let n = -1;
      const taken: number[] = [];
      const getter = createTask(async () => {
        await sleep(0);
        n = q.qsize();
        for (let i = 0; i < n; i++) taken.push(q.getNowait());
      });
      const putters = [0, 1, 2, 3].map((i) => createTask(() => q.put(i)));
      await getter;
      for (const p of putters) await p;
      expect(n).toBe(2);
      expect(taken).toEqual([0, 1]);
      expect([q.getNowait(), q.getNowait()]).toEqual([2, 3]);
    });
  });

  it("Q-20 cancelled putter is deregistered; cancelling an already-woken putter is clean", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(1);
      q.putNowait(1);
      const p = createTask(() => q.put(1));
      await tick();
      expect(q._waiterCounts()[1]).toBe(1);
      p.cancel();
      await expect(p).rejects.toBeInstanceOf(CancelledError);
      expect(q._waiterCounts()[1]).toBe(0);

      const p2 = createTask(() => q.put(2));
      await tick();
      q.getNowait(); // dequeues p2's waiter and wakes it
      p2.cancel();
      await expect(p2).rejects.toBeInstanceOf(CancelledError);
      expect(q.qsize()).toBe(0);
      expect(q._waiterCounts()).toEqual([0, 0]);
    });
  });

  it("Q-21 LIFO and priority ordering", async () => {
    await runVirtual(async () => {
      const lifo = new LifoQueue<number>();
      const pq = new PriorityQueue<number>();
      for (const i of [1, 3, 2]) {
        await lifo.put(i);
        await pq.put(i);
      }
      expect([await lifo.get(), await lifo.get(), await lifo.get()]).toEqual([2, 3, 1]);
      expect([await pq.get(), await pq.get(), await pq.get()]).toEqual([1, 2, 3]);
    });
  });

  for (const [kind, make] of queueKinds) {
    it(`Q-22 taskDone() without pending work throws (${kind})`, async () => {
      await runVirtual(async () => {
        const q = make();
        expect(() => q.taskDone()).toThrow(InvalidStateError);
        expect(() => q.taskDone()).toThrow("called more times than items were taken (0 taken, 1 done)");
      });
    });

    it(`Q-23 join() waits for taskDone() of every item (${kind})`, async () => {
      await runVirtual(async () => {
        const q = make();
        for (let i = 0; i < 100; i++) q.putNowait(i);
        let acc = 0;
        const worker = async () => {
          for (;;) {
            const item = (await q.get()) as number;
            acc += item;
            await sleep(0.001 * (item % 3));
            q.taskDone();
          }
        };
        const workers = [createTask(worker), createTask(worker)];
        await q.join();
        expect(acc).toBe(4950);
        expect(q.qsize()).toBe(0);
        for (const w of workers) w.cancel();
      });
    });

    it(`Q-24 join() on a queue with no unfinished work returns at once (${kind})`, async () => {
      await runVirtual(async () => {
        const q = make();
        await q.join();
        await q.join();
      });
      expect(await countSuspensions(async () => await make().join())).toEqual([]);
    });

    it(`Q-25 shutdown() on an empty queue with a blocked getter (${kind})`, async () => {
      await runVirtual(async () => {
        const q = make();
        const g = createTask(() => q.get());
        await tick();
        q.shutdown(false);
        expect(q.qsize()).toBe(0);
        await q.join();
        await tick();
        expect(await outcome(g)).toBeInstanceOf(QueueShutDown);
        await expectAllShutDown(q, "x");
      });
    });

    it(`Q-26 shutdown() (non-immediate) on a full queue (${kind})`, async () => {
      await runVirtual(async () => {
        const q = make(1);
        q.putNowait("data");
        const j = createTask(() => q.join());
        const p = createTask(() => q.put("data2"));
        await tick();
        expect(p.done()).toBe(false);
        q.shutdown(false);
        expect(q.qsize()).toBe(1);
        await settle();
        expect(p.done()).toBe(true);
        expect(await outcome(p)).toBeInstanceOf(QueueShutDown);
        expect(await q.get()).toBe("data");
        await settle();
        expect(j.done()).toBe(false);
        await expectAllShutDown(q, "x");
        q.taskDone();
        await settle();
        expect(j.done()).toBe(true);
        expect(await outcome(j)).toBeUndefined();
        expect(() => q.taskDone()).toThrow(InvalidStateError);
      });
    });

    it(`Q-27 shutdown(immediate) drains and releases join() (${kind})`, async () => {
      await runVirtual(async () => {
        const q = make();
        q.putNowait("data");
        const j = createTask(() => q.join());
        await tick();
        q.shutdown(true);
        expect(q.qsize()).toBe(0);
        await tick();
        await j;
        await expectAllShutDown(q, "x");
        expect(() => q.taskDone()).toThrow(InvalidStateError);
      });
    });

    it(`Q-28 immediate shutdown with an item taken but not marked done (${kind})`, async () => {
      await runVirtual(async () => {
        const q = make();
        q.putNowait("data");
        q.putNowait("data");
        const j = createTask(() => q.join());
        expect(await q.get()).toBe("data");
        q.shutdown(true);
        expect(q.qsize()).toBe(0);
        await settle();
        expect(j.done()).toBe(false);
        await expectAllShutDown(q, "x");
        q.taskDone();
        expect(() => q.taskDone()).toThrow(InvalidStateError);
        await settle();
        expect(j.done()).toBe(true);
      });
    });
  }
});

describe("Queue: beyond asyncio", () => {
  it("a woken putter cancelled before it runs passes the free slot to the next putter", async () => {
    await runVirtual(async () => {
      const q = new Queue<string>(1);
      q.putNowait("first");
      const p1 = createTask(() => q.put("a"));
      const p2 = createTask(() => q.put("b"));
      await tick();
      expect(q.getNowait()).toBe("first"); // wakes p1
      p1.cancel();
      await expect(p1).rejects.toBeInstanceOf(CancelledError);
      await p2;
      expect(q.getNowait()).toBe("b");
      expect(q._waiterCounts()).toEqual([0, 0]);
    });
  });

  // A task settles one microtask after its body's promise resolves. A cancellation arriving in
  // that gap came too late to reach any await: the task keeps the value its body produced (here,
  // the item), so nothing is lost. asyncio cannot see this gap: there the get and the return are
  // one step. Expected: either the reader got item 0, or item 0 is still queued.
  it("a task whose whole body is get() and is cancelled right after the get returned keeps the item", async () => {
    // The cancel lands 0..5 microtasks after the put that wakes the reader; one of them falls
    // between the reader's get returning and its task settling.
    const lost = await runVirtual(async () => {
      const lostAt: number[] = [];
      for (let hops = 0; hops <= 5; hops++) {
        const q = new Queue<number>();
        const reader = createTask(() => q.get());
        const consumer = createTask(async () => await reader);
        await tick();
        const producer = createTask(async () => {
          q.putNowait(0); // wakes the reader
          for (let i = 0; i < hops; i++) await Promise.resolve();
          consumer.cancel(); // cancels the reader too
        });
        await producer;
        await outcome(consumer);
        const kept = reader.cancelled() ? q.qsize() === 1 : reader.result() === 0;
        if (!kept) lostAt.push(hops);
      }
      return lostAt;
    });
    expect(lost).toEqual([]);
  });

  it("for await ends when the queue is shut down and drained, without calling taskDone", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(2);
      const seen: number[] = [];
      const consumer = createTask(async () => {
        for await (const item of q) seen.push(item);
        return "ended";
      });
      for (let i = 0; i < 5; i++) await q.put(i);
      q.shutdown();
      expect(await consumer).toBe("ended");
      expect(seen).toEqual([0, 1, 2, 3, 4]);
      // Iteration did not mark items done: join still waits for five taskDone() calls.
      const j = createTask(() => q.join());
      await settle();
      expect(j.done()).toBe(false);
      for (let i = 0; i < 5; i++) q.taskDone();
      await j;
    });
  });

  it("leaving a for await early takes nothing more from the queue", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      for (let i = 0; i < 5; i++) q.putNowait(i);
      for await (const item of q) {
        if (item === 1) break;
      }
      expect(q.qsize()).toBe(3);
      expect(q.getNowait()).toBe(2);
    });
  });

  it("cancelling a task iterating a queue cancels its get and loses no item", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      const seen: number[] = [];
      const consumer = createTask(async () => {
        for await (const item of q) seen.push(item);
      });
      await tick();
      consumer.cancel();
      q.putNowait(7);
      await expect(consumer).rejects.toBeInstanceOf(CancelledError);
      expect(seen).toEqual([]);
      expect(q.getNowait()).toBe(7);
    });
  });

  it("taskDone() called too often names both counts", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      for (let i = 0; i < 3; i++) q.putNowait(i);
      for (let i = 0; i < 3; i++) {
        q.getNowait();
        q.taskDone();
      }
      expect(() => q.taskDone()).toThrow("Queue.taskDone() called more times than items were taken (3 taken, 4 done)");
    });
  });

  it("validates maxsize and options", () => {
    expect(() => new Queue("3" as unknown as number)).toThrow(TypeError);
    expect(() => new Queue("3" as unknown as number)).toThrow(
      'Expected `maxsize` to be a number (0 for unbounded), got "3" (string)',
    );
    expect(() => new Queue(Number.NaN)).toThrow(RangeError);
    expect(() => new Queue(0, { name: 3 as unknown as string })).toThrow(TypeError);
    expect(() => new PriorityQueue(0, "x" as unknown as () => number)).toThrow(TypeError);
    // asyncio: maxsize <= 0 is unbounded
    const q = new Queue<number>(-1);
    for (let i = 0; i < 100; i++) q.putNowait(i);
    expect(q.full()).toBe(false);
  });

  it("emits queue-put / queue-get trace events with the size after the operation", async () => {
    const events: TraceEvent[] = [];
    await run(
      async () => {
        const q = new Queue<number>(0, { name: "jobs" });
        const g = createTask(() => q.get());
        await tick();
        q.putNowait(1);
        q.putNowait(2);
        await g;
        q.getNowait();
      },
      { clock: "virtual", trace: { event: (e) => events.push(e) } },
    );
    const queueEvents = events.filter((e) => e.type === "queue-put" || e.type === "queue-get");
    expect(queueEvents.map((e) => [e.type, "size" in e ? e.size : -1, "queue" in e ? e.queue : ""])).toEqual([
      ["queue-put", 1, "jobs"],
      ["queue-put", 2, "jobs"],
      ["queue-get", 1, "jobs"],
      ["queue-get", 0, "jobs"],
    ]);
    const suspended = events.find((e) => e.type === "task-suspended" && e.task === 2);
    expect(suspended && "on" in suspended ? suspended.on : "").toBe("queue.get jobs");
  });

  it("a queue created outside run() works in successive runs, tracing to the running loop", async () => {
    const q = new Queue<number>(1, { name: "shared" });
    const first = await runVirtual(async () => {
      const g = createTask(() => q.get());
      await tick();
      await q.put(1);
      return await g;
    });
    const events: TraceEvent[] = [];
    const second = await run(
      async () => {
        const g = createTask(() => q.get());
        await tick();
        await q.put(2);
        return await g;
      },
      { clock: "virtual", trace: { event: (e) => events.push(e) } },
    );
    expect([first, second]).toEqual([1, 2]);
    expect(events.filter((e) => e.type === "queue-put" || e.type === "queue-get").map((e) => e.type)).toEqual([
      "queue-put",
      "queue-get",
    ]);
  });

  it("toString() summarises the queue", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>(2, { name: "jobs" });
      q.putNowait(1);
      expect(String(q)).toBe('Queue("jobs", maxsize=2, size=1, getters=0, putters=0, unfinished=1)');
    });
  });
});

describe("PriorityQueue ordering", () => {
  it("orders [priority, item] pairs like Python tuples", async () => {
    await runVirtual(async () => {
      const pq = new PriorityQueue<[number, string]>();
      for (const item of [
        [2, "b"],
        [1, "z"],
        [1, "a"],
        [0, "q"],
      ] as [number, string][]) {
        pq.putNowait(item);
      }
      const out: [number, string][] = [];
      while (!pq.empty()) out.push(pq.getNowait());
      expect(out).toEqual([
        [0, "q"],
        [1, "a"],
        [1, "z"],
        [2, "b"],
      ]);
    });
  });

  it("puts a shorter prefix first, orders strings by code point, mixes numbers and bigints", async () => {
    await runVirtual(async () => {
      const arrays = new PriorityQueue<number[]>();
      for (const a of [[1, 0], [1], [0, 5, 5]]) arrays.putNowait(a);
      expect([arrays.getNowait(), arrays.getNowait(), arrays.getNowait()]).toEqual([[0, 5, 5], [1], [1, 0]]);

      const strings = new PriorityQueue<string>();
      // Python: "\uffff" < "😀" (U+FFFF < U+1F600); JavaScript's `<` on UTF-16 says the opposite.
      for (const s of ["😀", "\uffff", "b", "a"]) strings.putNowait(s);
      expect([strings.getNowait(), strings.getNowait(), strings.getNowait(), strings.getNowait()]).toEqual([
        "a",
        "b",
        "\uffff",
        "😀",
      ]);

      const numbers = new PriorityQueue<number | bigint>();
      for (const n of [3n, 1, 2.5, 0n]) numbers.putNowait(n);
      expect([numbers.getNowait(), numbers.getNowait(), numbers.getNowait(), numbers.getNowait()]).toEqual([
        0n,
        1,
        2.5,
        3n,
      ]);
    });
  });

  it("throws TypeError for items Python cannot order, leaving the queue unchanged", async () => {
    await runVirtual(async () => {
      const pq = new PriorityQueue<unknown>();
      pq.putNowait(1);
      expect(() => pq.putNowait("a")).toThrow(TypeError);
      expect(() => pq.putNowait("a")).toThrow("PriorityQueue cannot order a string and a number");
      expect(pq.qsize()).toBe(1);
      const jobs = new PriorityQueue<[number, object]>();
      jobs.putNowait([1, { a: 1 }]);
      expect(() => jobs.putNowait([1, { b: 2 }])).toThrow(TypeError);
      const same = { c: 3 };
      const ok = new PriorityQueue<[number, object]>();
      ok.putNowait([1, same]);
      ok.putNowait([1, same]); // identical objects are equal, as in Python
      expect(ok.qsize()).toBe(2);
    });
  });

  it("keeps every item when two unorderable items meet only at get time", async () => {
    await runVirtual(async () => {
      const pq = new PriorityQueue<[number, unknown]>();
      pq.putNowait([0, "x"]);
      pq.putNowait([1, "a"]); // compared with [0, "x"] only
      pq.putNowait([1, 2]); // a sibling of [1, "a"]: never compared with it
      // Taking the top sifts the last item down past the two siblings: Python's heappop raises
      // TypeError there and drops the top item; we raise and keep all three.
      expect(() => pq.getNowait()).toThrow(TypeError);
      expect(pq.qsize()).toBe(3);
      const left = [pq.getNowait(), pq.getNowait()];
      expect(left).toContainEqual([0, "x"]);
      expect(pq.qsize()).toBe(1);
    });
  });

  it("uses a compare function when given", async () => {
    await runVirtual(async () => {
      const pq = new PriorityQueue<{ deadline: number }>(0, (a, b) => b.deadline - a.deadline);
      for (const d of [1, 5, 3]) pq.putNowait({ deadline: d });
      expect([pq.getNowait(), pq.getNowait(), pq.getNowait()].map((j) => j.deadline)).toEqual([5, 3, 1]);
    });
  });

  it("keeps heap order over many random items", async () => {
    await runVirtual(async () => {
      const pq = new PriorityQueue<number>();
      const items = Array.from({ length: 500 }, (_, i) => (i * 7919) % 503);
      for (const i of items) pq.putNowait(i);
      const out: number[] = [];
      while (!pq.empty()) out.push(pq.getNowait());
      expect(out).toEqual([...items].sort((a, b) => a - b));
    });
  });
});
