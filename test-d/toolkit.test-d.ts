import { describe, expectTypeOf, test } from "vitest";
import {
  type JobInfo,
  mapConcurrent,
  type PoolSummary,
  type Queue,
  RateLimiter,
  retry,
  type WorkerPool,
  workerPool,
} from "../src/index.js";

declare const urls: Queue<string>;
declare const numbers: () => AsyncGenerator<number>;

describe("work-queue toolkit types", () => {
  test("workerPool is typed by the queue's items, and awaits to a PoolSummary of them", () => {
    const pool = workerPool(urls, (url, info) => {
      expectTypeOf(url).toEqualTypeOf<string>();
      expectTypeOf(info).toEqualTypeOf<JobInfo>();
    });
    expectTypeOf(pool).toEqualTypeOf<WorkerPool<string>>();
    expectTypeOf<Awaited<typeof pool>>().toEqualTypeOf<PoolSummary<string>>();
  });

  test("mapConcurrent resolves to the mapped values, from arrays and async iterables", () => {
    expectTypeOf(mapConcurrent([1, 2], async (n) => String(n))).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(mapConcurrent(numbers(), (n) => n > 1)).toEqualTypeOf<Promise<boolean[]>>();
  });

  test("retry resolves to what the function returns", () => {
    expectTypeOf(retry(async ({ attempt }) => attempt)).toEqualTypeOf<Promise<number>>();
  });

  test("RateLimiter takes a bucket or a window, not both", () => {
    new RateLimiter({ rate: 1, per: 2, burst: 3 });
    new RateLimiter({ rate: 1, window: 2 });
    // @ts-expect-error: a sliding window has no burst
    new RateLimiter({ rate: 1, window: 2, burst: 3 });
  });
});
