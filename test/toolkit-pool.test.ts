import { describe, expect, it } from "vitest";
import { seededRandom } from "../src/internal/prng.js";
import {
  allTasks,
  createTask,
  currentTask,
  PriorityQueue,
  Queue,
  QueueShutDown,
  RateLimiter,
  RetryError,
  run,
  sleep,
  TimeoutError,
  time,
  type WorkQueue,
  workerPool,
} from "../src/node.js";

const virtual = { clock: "virtual" } as const;

function filled<T>(items: T[], shutdown = true): Queue<T> {
  const q = new Queue<T>();
  for (const item of items) q.putNowait(item);
  if (shutdown) q.shutdown();
  return q;
}

function drain<T>(q: Queue<T>): T[] {
  const out: T[] = [];
  while (!q.empty()) out.push(q.getNowait());
  return out;
}

describe("workerPool: 8 workers over 10,000 items with failures, retries, timeouts and a rate limit", () => {
  for (const seed of [1, 2024]) {
    it(`every item ends exactly once; in flight ≤ 8; ignored signals still stop at the timeout; the limiter's budget holds (seed ${seed})`, async () => {
      const N = 10_000;
      const TIMEOUT = 0.15;
      const random = seededRandom(seed);
      // Each item's fate per attempt, drawn up front so the run is reproducible.
      const plan = Array.from({ length: N }, () => Array.from({ length: 3 }, () => random()));
      const result = await run(async () => {
        const limiter = new RateLimiter({ rate: 40, window: 0.1 });
        const succeeded = new Map<number, number>();
        const starts: number[] = [];
        const overruns: string[] = [];
        let running = 0;
        let maxRunning = 0;
        let maxInFlight = 0;
        const pool = workerPool(
          filled(Array.from({ length: N }, (_, i) => i)),
          async (item, { attempt }) => {
            const start = time();
            starts.push(start);
            running++;
            maxRunning = Math.max(maxRunning, running);
            try {
              const r = plan[item]?.[attempt - 1] ?? 0;
              if (r < 0.1) throw new Error(`item ${item} failed`);
              if (r < 0.2)
                await sleep(1); // too slow, and ignores its signal
              else await sleep(r * 0.1);
              succeeded.set(item, (succeeded.get(item) ?? 0) + 1);
            } finally {
              running--;
              if (time() - start > TIMEOUT + 1e-9) overruns.push(`${item}#${attempt} ran ${time() - start}s`);
            }
          },
          {
            workers: 8,
            timeout: TIMEOUT,
            retry: { attempts: 3, backoff: { initial: 0.01, factor: 2 } },
            rateLimit: limiter,
            onProgress: (p) => {
              maxInFlight = Math.max(maxInFlight, p.inFlight);
            },
          },
        );
        const summary = await pool;
        return { summary, succeeded, starts, overruns, maxRunning, maxInFlight, alive: allTasks().size };
      }, virtual);
      const { summary, succeeded, starts, overruns } = result;
      expect(summary.outcome).toBe("drained");
      expect(summary.done + summary.failed.length).toBe(N);
      expect(summary.done).toBe(succeeded.size);
      for (const count of succeeded.values()) expect(count).toBe(1);
      const failedItems = summary.failed.map((f) => f.item);
      expect(new Set(failedItems).size).toBe(failedItems.length);
      for (const item of failedItems) expect(succeeded.has(item)).toBe(false);
      for (const f of summary.failed) expect(f.error).toBeInstanceOf(RetryError);
      expect(
        summary.failed.some((f) => (f.error as RetryError).exceptions.some((e) => e instanceof TimeoutError)),
      ).toBe(true);
      expect(summary.retried).toBeGreaterThan(0);
      expect(result.maxRunning).toBeLessThanOrEqual(8);
      expect(result.maxInFlight).toBeLessThanOrEqual(8);
      expect(overruns).toEqual([]);
      expect(result.alive).toBe(1); // main only
      // The window: at most 40 attempts start in any 0.1 s (two pointers over sorted starts).
      const sorted = [...starts].sort((a, b) => a - b);
      let lo = 0;
      for (let hi = 0; hi < sorted.length; hi++) {
        while ((sorted[lo] as number) + 0.1 <= (sorted[hi] as number)) lo++;
        expect(hi - lo + 1).toBeLessThanOrEqual(40);
      }
    });
  }
});

describe("workerPool: stopping", () => {
  it("cancelling mid-run leaves no task alive, and every item done or back in the queue", async () => {
    await run(async () => {
      const N = 200;
      const queue = filled(
        Array.from({ length: N }, (_, i) => i),
        false,
      );
      const done = new Set<number>();
      const pool = workerPool(
        queue,
        async (item) => {
          await sleep(0.1 + (item % 7) / 10);
          done.add(item);
        },
        { workers: 8 },
      );
      await sleep(3);
      expect(pool.stats().inFlight).toBe(8);
      pool.cancel();
      const summary = await pool;
      expect(summary.outcome).toBe("cancelled");
      expect(summary.cancelled).toHaveLength(8);
      expect(allTasks().size).toBe(1);
      const left = drain(queue);
      expect(new Set([...done, ...left]).size).toBe(N);
      expect(done.size + left.length).toBe(N);
      for (const item of summary.cancelled) expect(left).toContain(item);
    }, virtual);
  });

  it("cancelling the task that awaits the pool cancels the pool too", async () => {
    await run(async () => {
      const queue = filled([1, 2, 3], false);
      let pool: ReturnType<typeof workerPool<number>> | undefined;
      const t = createTask(async () => {
        pool = workerPool(queue, () => sleep(10), { workers: 2 });
        return await pool;
      });
      await sleep(1);
      t.cancel();
      await expect(t).rejects.toThrow();
      expect(allTasks().size).toBe(1);
      expect(pool?.summary?.cancelled).toHaveLength(2);
      expect(queue.qsize()).toBe(3);
    }, virtual);
  });

  it("shutdown(grace): in-flight jobs finishing within the grace period finish; the rest stays queued", async () => {
    await run(async () => {
      const queue = filled(
        Array.from({ length: 20 }, (_, i) => i),
        false,
      );
      const pool = workerPool(queue, () => sleep(1), { workers: 4 });
      await sleep(1.5);
      pool.shutdown(5);
      const summary = await pool;
      expect(summary.outcome).toBe("stopped");
      expect(summary.done).toBe(8);
      expect(time()).toBe(2);
      expect(queue.qsize()).toBe(12);
    }, virtual);
  });

  it("shutdown(grace): jobs still running when the grace period ends are cancelled and put back", async () => {
    await run(async () => {
      const queue = filled(
        Array.from({ length: 20 }, (_, i) => i),
        false,
      );
      const pool = workerPool(queue, () => sleep(10), { workers: 4 });
      await sleep(1);
      pool.shutdown(2);
      const summary = await pool;
      expect(summary.outcome).toBe("cancelled");
      expect(time()).toBe(3);
      expect(summary.cancelled).toEqual([0, 1, 2, 3]);
      expect(queue.qsize()).toBe(20);
    }, virtual);
  });

  it("fail-fast: the first error cancels the pool and is raised", async () => {
    await run(async () => {
      const queue = filled(Array.from({ length: 50 }, (_, i) => i));
      const pool = workerPool(
        queue,
        async (item) => {
          await sleep(1);
          if (item === 5) throw new RangeError("bad item 5");
        },
        { workers: 3, onError: "fail-fast" },
      );
      await expect(pool).rejects.toThrow("bad item 5");
      expect(pool.summary?.outcome).toBe("failed");
      expect(allTasks().size).toBe(1);
    }, virtual);
  });

  it("continue: failures are collected with their items and the workers go on", async () => {
    await run(async () => {
      const summary = await workerPool(
        filled([1, 2, 3, 4, 5, 6]),
        (n) => {
          if (n % 2 === 0) throw new Error(`even ${n}`);
        },
        { workers: 2 },
      );
      expect(summary.done).toBe(3);
      expect(summary.failed.map((f) => [f.item, (f.error as Error).message])).toEqual([
        [2, "even 2"],
        [4, "even 4"],
        [6, "even 6"],
      ]);
    }, virtual);
  });

  it("stopWhenIdle: work that puts more work ends when everything put is done", async () => {
    await run(async () => {
      const queue = new Queue<number>();
      queue.putNowait(1);
      const summary = await workerPool(
        queue,
        async (n) => {
          await sleep(0.1);
          if (n < 64) {
            queue.putNowait(2 * n);
            queue.putNowait(2 * n + 1);
          }
        },
        { workers: 4, stopWhenIdle: true },
      );
      expect(summary.outcome).toBe("drained");
      expect(summary.done).toBe(127);
    }, virtual);
  });
});

describe("workerPool: timeouts and signals", () => {
  it("the handler's signal aborts at the job's timeout, and the job fails with TimeoutError (p-queue 'timeout')", async () => {
    await run(async () => {
      const aborted: number[] = [];
      const summary = await workerPool(
        filled([1]),
        async (_item, { signal }) => {
          signal.addEventListener("abort", () => aborted.push(time()));
          await sleep(5);
        },
        { timeout: 2 },
      );
      expect(aborted).toEqual([2]);
      expect(summary.failed[0]?.error).toBeInstanceOf(TimeoutError);
      expect(time()).toBe(2);
    }, virtual);
  });

  it("a handler stuck in a foreign promise that ignores its signal holds its worker until the promise settles", async () => {
    await run(async () => {
      let ended = -1;
      const summary = await workerPool(
        filled([1]),
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 30)); // real time, not the loop's
          ended = time();
          await sleep(0); // its next awaitress await: cancelled here
          ended = -2;
        },
        { timeout: 0.001 },
      );
      expect(ended).toBeGreaterThanOrEqual(0);
      expect(summary.failed[0]?.error).toBeInstanceOf(TimeoutError);
    }); // real clock
  });

  it("info.worker and info.attempt say who runs which attempt; workers are named tasks", async () => {
    await run(async () => {
      const seen: string[] = [];
      await workerPool(
        filled(["a", "b"]),
        async (item, { worker, attempt }) => {
          seen.push(`${item}:${worker}:${attempt}:${currentTask()?.name}`);
          await sleep(1);
        },
        { workers: 2, name: "crawl" },
      );
      expect(seen).toEqual(["a:1:1:crawl worker 1", "b:2:1:crawl worker 2"]);
    }, virtual);
  });

  it("stats(): done / failed / inFlight / queued / rate at any moment", async () => {
    await run(async () => {
      const pool = workerPool(filled(Array.from({ length: 10 }, (_, i) => i)), () => sleep(1), { workers: 2 });
      await sleep(2.5);
      expect(pool.stats()).toMatchObject({ done: 4, failed: 0, inFlight: 2, queued: 4, rate: 4 / 2.5 });
      await pool;
    }, virtual);
  });

  it("drains any queue kind (a PriorityQueue here) and stops at QueueShutDown", async () => {
    await run(async () => {
      const q = new PriorityQueue<number>();
      for (const n of [5, 1, 3]) q.putNowait(n);
      q.shutdown();
      const order: number[] = [];
      await workerPool(q, (n) => void order.push(n));
      expect(order).toEqual([1, 3, 5]);
      await expect(q.get()).rejects.toBeInstanceOf(QueueShutDown);
    }, virtual);
  });

  it("drains a queue whose answers are round trips (RedisQueue's shape): taskDone, shutdown and qsize as promises", async () => {
    /** A Queue behind a 10 ms "network": what workerPool sees of a RedisQueue. */
    class Remote<T> implements WorkQueue<T> {
      readonly inner = new Queue<T>();
      asked = 0;
      answering = 0;
      mostAnswering = 0;
      acked = 0;
      shutDown = false;
      get(): Promise<T> {
        return this.inner.get();
      }
      put(item: T): Promise<void> {
        return this.inner.put(item);
      }
      async taskDone(): Promise<void> {
        await sleep(0.01);
        this.inner.taskDone();
        this.acked++;
      }
      join(): Promise<void> {
        return this.inner.join();
      }
      async shutdown(immediate?: boolean): Promise<void> {
        await sleep(0.01);
        this.inner.shutdown(immediate);
        this.shutDown = true;
      }
      async qsize(): Promise<number> {
        this.asked++;
        this.mostAnswering = Math.max(this.mostAnswering, ++this.answering);
        await sleep(0.01);
        this.answering--;
        return this.inner.qsize();
      }
    }
    await run(async () => {
      const q = new Remote<number>();
      for (let i = 0; i < 40; i++) q.inner.putNowait(i);
      const queued: number[] = [];
      const summary = await workerPool(q, () => sleep(0.05), {
        workers: 4,
        stopWhenIdle: true,
        onProgress: (p) => queued.push(p.queued),
      });
      expect(summary).toMatchObject({ outcome: "drained", done: 40, failed: [] });
      expect(q.acked).toBe(40); // every taskDone's promise awaited before the pool ended
      expect(q.shutDown).toBe(true); // stopWhenIdle awaited the shutdown's promise
      // The stats show the last answer (0 until the first arrives): numbers, falling as the queue
      // drains, one question at a time.
      expect(queued.every((n) => Number.isInteger(n) && n >= 0 && n <= 40)).toBe(true);
      const answered = queued.slice(queued.findIndex((n) => n > 0));
      expect(answered.length).toBeGreaterThan(queued.length / 2);
      expect(answered).toEqual([...answered].sort((a, b) => b - a));
      expect(answered.at(-1)).toBe(0);
      expect(q.mostAnswering).toBe(1);
      expect(q.asked).toBeLessThan(queued.length);
    }, virtual);
  });

  it("bad options are TypeError / RangeError (p-queue test/validation)", async () => {
    await run(async () => {
      const q = filled([1]);
      expect(() => workerPool(q, () => {}, { workers: 0 })).toThrow(RangeError);
      expect(() => workerPool(q, () => {}, { workers: 1.5 })).toThrow(RangeError);
      expect(() => workerPool(q, () => {}, { timeout: -1 })).toThrow(RangeError);
      expect(() => workerPool(q, "x" as never)).toThrow(TypeError);
      expect(() => workerPool({} as never, () => {})).toThrow(TypeError);
      expect(() => workerPool(q, () => {}, { onError: "stop" as never })).toThrow(TypeError);
      expect(() => workerPool(q, () => {}, { rateLimit: {} as never })).toThrow(TypeError);
    }, virtual);
  });
});
