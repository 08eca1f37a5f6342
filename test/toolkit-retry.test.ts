import { describe, expect, it } from "vitest";
import { CancelledError, createTask, RetryError, retry, run, sleep, TimeoutError, time } from "../src/node.js";

const virtual = { clock: "virtual" } as const;

describe("retry", () => {
  it("p-retry 'retries': succeeds on the third attempt after backoff waits of 1 s and 2 s", async () => {
    const out = await run(async () => {
      const seen: number[] = [];
      const value = await retry(
        ({ attempt }) => {
          seen.push(time());
          if (attempt < 3) throw new Error("503");
          return "ok";
        },
        { attempts: 5, backoff: { initial: 1, factor: 2 } },
      );
      return { value, seen };
    }, virtual);
    expect(out).toEqual({ value: "ok", seen: [0, 1, 3] });
  });

  it("p-retry 'no retry on success' / 'retries' exhausted: a RetryError holding every attempt's error", async () => {
    await run(async () => {
      let n = 0;
      const error = await retry(
        () => {
          throw new Error(`fail ${++n}`);
        },
        { attempts: 3, backoff: { initial: 0.5, max: 0.5 } },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RetryError);
      const r = error as RetryError;
      expect(r.attempts).toBe(3);
      expect(r.exceptions.map((e) => (e as Error).message)).toEqual(["fail 1", "fail 2", "fail 3"]);
      expect((r.cause as Error).message).toBe("fail 3");
      expect(time()).toBe(1); // two capped waits of 0.5 s
    }, virtual);
  });

  it("p-retry 'shouldRetry': retryIf false stops at once", async () => {
    await run(async () => {
      let calls = 0;
      const error = await retry(
        () => {
          calls++;
          throw new TypeError("bad input");
        },
        { attempts: 5, retryIf: ({ error }) => !(error instanceof TypeError) },
      ).catch((e: unknown) => e);
      expect(calls).toBe(1);
      expect((error as RetryError).message).toMatch(/retryIf declined/);
    }, virtual);
  });

  it("retryIf never sees a CancelledError, and cancelling during the backoff sleep stops at once (p-retry 'abort')", async () => {
    await run(async () => {
      const seen: unknown[] = [];
      const t = createTask(() =>
        retry(
          () => {
            throw new Error("x");
          },
          { attempts: 10, backoff: { initial: 5 }, retryIf: ({ error }) => seen.push(error) > 0 },
        ),
      );
      await sleep(1); // in the first backoff wait
      t.cancel();
      await expect(t).rejects.toBeInstanceOf(CancelledError);
      expect(time()).toBe(1);
      expect(seen.every((e) => !(e instanceof CancelledError))).toBe(true);
    }, virtual);
  });

  it("aborting `signal` during the backoff sleep rejects with signal.reason", async () => {
    await run(async () => {
      const ac = new AbortController();
      const p = createTask(() =>
        retry(
          () => {
            throw new Error("x");
          },
          { attempts: 10, backoff: { initial: 5 }, signal: ac.signal },
        ),
      );
      await sleep(1);
      ac.abort(new Error("user stop"));
      await expect(p).rejects.toThrow("user stop");
      expect(time()).toBe(1);
    }, virtual);
  });

  it("timeout bounds each attempt: an attempt ignoring its signal is cancelled at the deadline and retried", async () => {
    await run(async () => {
      const ends: number[] = [];
      let aborted = 0;
      const value = await retry(
        async ({ attempt, signal }) => {
          signal.addEventListener("abort", () => aborted++);
          try {
            if (attempt < 3) await sleep(10); // ignores the signal
            return attempt;
          } finally {
            ends.push(time());
          }
        },
        { attempts: 3, timeout: 1, backoff: { initial: 0 } },
      );
      expect(value).toBe(3);
      expect(ends).toEqual([1, 2, 2]);
      expect(aborted).toBe(2);
    }, virtual);
  });

  it("a timed-out final attempt gives a RetryError of TimeoutErrors", async () => {
    await run(async () => {
      const e = await retry(() => sleep(5), { attempts: 2, timeout: 1, backoff: { initial: 0 } }).catch(
        (x: unknown) => x,
      );
      expect((e as RetryError).exceptions.every((x) => x instanceof TimeoutError)).toBe(true);
    }, virtual);
  });

  it("jitter shortens each wait by up to its fraction, with the given random source", async () => {
    await run(async () => {
      const delays: number[] = [];
      await retry(
        ({ attempt }) => {
          if (attempt < 4) throw new Error("x");
        },
        {
          attempts: 4,
          backoff: { initial: 1, factor: 2, jitter: 0.5 },
          random: () => 0.5,
          onRetry: ({ delay }) => delays.push(delay),
        },
      );
      expect(delays).toEqual([0.75, 1.5, 3]);
    }, virtual);
  });

  it("bad options are TypeError / RangeError before the first attempt (p-retry validation)", async () => {
    let calls = 0;
    const fn = () => void calls++;
    await expect(retry(fn, { attempts: 0 })).rejects.toThrow(RangeError);
    await expect(retry(fn, { attempts: 1.5 })).rejects.toThrow(RangeError);
    await expect(retry(fn, { backoff: { jitter: 2 } })).rejects.toThrow(RangeError);
    await expect(retry(fn, { retryIf: 1 as never })).rejects.toThrow(TypeError);
    await expect(retry(1 as never)).rejects.toThrow(TypeError);
    expect(calls).toBe(0);
  });
});
