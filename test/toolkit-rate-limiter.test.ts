import { describe, expect, it } from "vitest";
import { createTask, gather, RateLimiter, run, sleep, time } from "../src/node.js";

const virtual = { clock: "virtual" } as const;

describe("RateLimiter: token bucket", () => {
  it("burst: 1 spaces acquisitions exactly per / rate apart", async () => {
    const at = await run(async () => {
      const limiter = new RateLimiter({ rate: 4, burst: 1 });
      const at: number[] = [];
      const call = async () => {
        await limiter.acquire();
        at.push(time());
      };
      await gather(...Array.from({ length: 5 }, () => createTask(call)));
      return at;
    }, virtual);
    expect(at).toEqual([0, 0.25, 0.5, 0.75, 1]);
  });

  it("a full bucket lets `burst` through at once, then refills at `rate`", async () => {
    const at = await run(async () => {
      const limiter = new RateLimiter({ rate: 2, per: 1, burst: 3 });
      const at: number[] = [];
      for (let i = 0; i < 6; i++) {
        await limiter.acquire();
        at.push(time());
      }
      return at;
    }, virtual);
    expect(at).toEqual([0, 0, 0, 0.5, 1, 1.5]);
  });

  it("is FIFO-fair: a light request queued behind a heavy one does not overtake it", async () => {
    const order = await run(async () => {
      const limiter = new RateLimiter({ rate: 1, burst: 3 });
      await limiter.acquire(3); // empty now
      const order: string[] = [];
      const heavy = createTask(async () => {
        await limiter.acquire(3);
        order.push(`heavy ${time()}`);
      });
      await sleep(0);
      const light = createTask(async () => {
        await limiter.acquire(1);
        order.push(`light ${time()}`);
      });
      await gather(heavy, light);
      return order;
    }, virtual);
    expect(order).toEqual(["heavy 3", "light 4"]);
  });

  it("a cancelled waiter takes nothing and does not hold up those behind it (p-queue: abort a queued job)", async () => {
    const order = await run(async () => {
      const limiter = new RateLimiter({ rate: 1, burst: 3 });
      await limiter.acquire(3);
      const order: string[] = [];
      const heavy = createTask(() => limiter.acquire(3));
      await sleep(0);
      const light = createTask(async () => {
        await limiter.acquire(1);
        order.push(`light ${time()}`);
      });
      await sleep(0.5);
      heavy.cancel();
      await light;
      return order;
    }, virtual);
    expect(order).toEqual(["light 1"]);
  });

  it("aborting the signal withdraws the request with signal.reason", async () => {
    await run(async () => {
      const limiter = new RateLimiter({ rate: 1, burst: 1 });
      await limiter.acquire();
      const ac = new AbortController();
      const pending = limiter.acquire(1, { signal: ac.signal });
      // Aborted from another task at once: a real timer would race the virtual clock's jump to
      // the next token (under load the jump comes first and the request is granted).
      createTask(async () => ac.abort(new Error("stop")));
      await expect(pending).rejects.toThrow("stop");
      expect(limiter.waiting).toBe(0);
      expect(limiter.tryAcquire()).toBe(false);
      await sleep(1);
      expect(limiter.tryAcquire()).toBe(true); // the aborted request took nothing
    }, virtual);
  });
});

describe("RateLimiter: sliding window", () => {
  it("lets `rate` through per window, counting from each grant's instant", async () => {
    const at = await run(async () => {
      const limiter = new RateLimiter({ rate: 3, window: 1 });
      const at: number[] = [];
      await sleep(0.2);
      for (let i = 0; i < 7; i++) {
        await limiter.acquire();
        at.push(Math.round(time() * 1000) / 1000);
      }
      return at;
    }, virtual);
    expect(at).toEqual([0.2, 0.2, 0.2, 1.2, 1.2, 1.2, 2.2]);
  });

  it("never lets more than `rate` through in any window (checked on recorded times)", async () => {
    const at = await run(async () => {
      const limiter = new RateLimiter({ rate: 5, window: 0.5 });
      const at: number[] = [];
      const worker = async (k: number) => {
        for (let i = 0; i < 20; i++) {
          await sleep(((k * 7 + i * 3) % 5) / 40);
          await limiter.acquire();
          at.push(time());
        }
      };
      await gather(...Array.from({ length: 6 }, (_, k) => createTask(() => worker(k))));
      return at;
    }, virtual);
    expect(at).toHaveLength(120);
    for (const start of at) expect(at.filter((t) => t >= start && t < start + 0.5).length).toBeLessThanOrEqual(5);
  });
});

describe("RateLimiter: bad options (p-queue test/validation)", () => {
  it("names the bad option", () => {
    expect(() => new RateLimiter({ rate: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ rate: Number.NaN })).toThrow(RangeError);
    expect(() => new RateLimiter({ rate: "5" as unknown as number })).toThrow(TypeError);
    expect(() => new RateLimiter({ rate: 5, per: -1 })).toThrow(/`per`/);
    expect(() => new RateLimiter({ rate: 5, window: 1, burst: 2 } as never)).toThrow(TypeError);
    expect(() => new RateLimiter(undefined as never)).toThrow(TypeError);
  });

  it("a weight above burst is a RangeError (it could never be granted)", async () => {
    await run(async () => {
      const limiter = new RateLimiter({ rate: 10, burst: 2 });
      expect(() => limiter.acquire(3)).toThrow(/exceeds `burst`/);
      expect(() => limiter.acquire(0)).toThrow(RangeError);
      expect(() => limiter.acquire("1" as unknown as number)).toThrow(TypeError);
    }, virtual);
  });
});
