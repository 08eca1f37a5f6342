import { describe, expect, it } from "vitest";
import { allTasks, createTask, ExceptionGroup, mapConcurrent, type Progress, run, sleep, time } from "../src/node.js";
import { escapeControl, formatProgress, ProgressBar } from "../src/toolkit/progress.js";

const virtual = { clock: "virtual" } as const;

describe("mapConcurrent", () => {
  it("p-map 'main': results in input order, at most `concurrency` at once", async () => {
    await run(async () => {
      let running = 0;
      let max = 0;
      const out = await mapConcurrent(
        [3, 1, 2, 1],
        async (n, i) => {
          running++;
          max = Math.max(max, running);
          await sleep(n);
          running--;
          return `${i}:${n}`;
        },
        { concurrency: 2 },
      );
      expect(out).toEqual(["0:3", "1:1", "2:2", "3:1"]);
      expect(max).toBe(2);
      expect(time()).toBe(4);
    }, virtual);
  });

  it("p-map 'async iterator': an endless async generator with concurrency 4 is read at most 4 ahead", async () => {
    await run(async () => {
      let pulled = 0;
      let finished = 0;
      let maxAhead = 0;
      let closed = false;
      async function* naturals() {
        try {
          for (let n = 0; ; n++) {
            pulled++;
            maxAhead = Math.max(maxAhead, pulled - finished);
            yield n;
          }
        } finally {
          closed = true;
        }
      }
      const error = await mapConcurrent(
        naturals(),
        async (n) => {
          await sleep(0.01 * (1 + (n % 3)));
          finished++;
          if (n === 500) throw new Error("enough");
          return n;
        },
        { concurrency: 4 },
      ).catch((e: unknown) => e);
      expect((error as Error).message).toBe("enough");
      expect(maxAhead).toBeLessThanOrEqual(4);
      expect(pulled).toBeLessThanOrEqual(finished + 4);
      expect(closed).toBe(true);
      expect(allTasks().size).toBe(1);
    }, virtual);
  });

  it("p-map 'immediately rejects when stopOnError is true': the first error cancels the rest", async () => {
    await run(async () => {
      const finished: number[] = [];
      const error = await mapConcurrent(
        [1, 2, 3, 4],
        async (n) => {
          await sleep(n);
          if (n === 2) throw new RangeError("two");
          finished.push(n);
        },
        { concurrency: 4 },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect(finished).toEqual([1]);
      expect(time()).toBe(2);
    }, virtual);
  });

  it("p-map 'aggregate errors when stopOnError is false': an ExceptionGroup of every error, in input order", async () => {
    await run(async () => {
      const error = await mapConcurrent(
        [3, 1, 2],
        async (n) => {
          await sleep(n);
          if (n !== 2) throw new Error(`e${n}`);
        },
        { stopOnError: false },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExceptionGroup);
      expect((error as ExceptionGroup).exceptions.map((e) => (e as Error).message)).toEqual(["e3", "e1"]);
      expect(time()).toBe(3);
    }, virtual);
  });

  it("p-map 'abort by AbortController': aborting cancels the calls and rejects with the reason", async () => {
    await run(async () => {
      const ac = new AbortController();
      createTask(async () => {
        await sleep(0.5);
        ac.abort(new Error("stop"));
      });
      const cancelled: number[] = [];
      const p = mapConcurrent(
        [1, 2, 3],
        async (n, _i, signal) => {
          signal.addEventListener("abort", () => cancelled.push(n));
          await sleep(n);
        },
        { signal: ac.signal },
      );
      await expect(p).rejects.toThrow("stop");
      expect(cancelled.sort()).toEqual([1, 2, 3]);
      expect(time()).toBe(0.5);
    }, virtual);
  });

  it("reports progress after each call, with the array's length as total", async () => {
    await run(async () => {
      const events: Progress[] = [];
      await mapConcurrent([1, 2, 3], (n) => sleep(n), { concurrency: 3, onProgress: (p) => events.push(p) });
      expect(events.map((e) => [e.done, e.total, e.finished])).toEqual([
        [1, 3, false],
        [2, 3, false],
        [3, 3, false],
        [3, 3, true],
      ]);
    }, virtual);
  });

  it("bad arguments are TypeError / RangeError (p-map validation)", async () => {
    await expect(mapConcurrent(5 as never, () => 1)).rejects.toThrow(TypeError);
    await expect(mapConcurrent([1], "f" as never)).rejects.toThrow(TypeError);
    await expect(mapConcurrent([1], () => 1, { concurrency: 0 })).rejects.toThrow(RangeError);
  });
});

describe("progress bar", () => {
  const p: Progress = {
    done: 40,
    failed: 2,
    inFlight: 8,
    queued: 50,
    retried: 3,
    total: 100,
    rate: 4,
    elapsed: 10.5,
    finished: false,
  };

  it("shows done/total, percent, rate, ETA, failures", () => {
    expect(formatProgress(p, "crawl", 100)).toBe(
      "crawl [#################-----------------------] 42/100  42%  4.0/s  ETA 00:15  2 failed  3 retried",
    );
  });

  it("draws on a TTY only, and escapes control characters in the label and logged lines", () => {
    let out = "";
    const stream = {
      isTTY: true,
      columns: 60,
      write: (s: string) => {
        out += s;
      },
    };
    const bar = new ProgressBar({ stream, label: "evil\x1b[2J", enabled: true, interval: 0 });
    bar.update(p);
    bar.log("GET /\x1b]0;pwned\x07");
    expect(out).toContain("evil\\x1b[2J");
    expect(out).toContain("GET /\\x1b]0;pwned\\x07\n");
    expect(out).not.toContain("\x1b[2J");
    let piped = "";
    const quiet = new ProgressBar({
      stream: {
        write: (s: string) => {
          piped += s;
        },
      },
    });
    quiet.update({ ...p, finished: true });
    quiet.log("x");
    expect(quiet.enabled).toBe(false);
    expect(piped).toBe("");
    expect(escapeControl("a\nb\u009b")).toBe("a\\nb\\x9b");
  });
});
