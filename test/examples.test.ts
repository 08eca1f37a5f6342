import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { format } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main as crawlerMain } from "../examples/crawler.js";
import { service } from "../examples/graceful-shutdown.js";
import { main as restaurantMain } from "../examples/restaurant.js";
import { main as seedMain, task as seedTask } from "../examples/seed.js";
import { main as testingTimeMain } from "../examples/testing-time.js";
import { cli } from "../src/cli/cli.js";
import { main as cliSeedMain } from "../src/cli/seed.js";
import { createTask, Event, Queue, run, sleep, Timer } from "../src/node.js";
import { runTsx } from "./child.js";

const ROOT = resolve(import.meta.dirname, "..");

/** ../shared/seed/expected-output.txt: what work_queue.py prints under asyncio. */
const SEED_OUTPUT = `Task One running
Task Two running
Task Two elapsed time: 10.0
Task Two running
Task One elapsed time: 15.0
Task One running
Task Two elapsed time: 5.0
Task One elapsed time: 2.0

Total elapsed time: 17.0
`;

/** Runs `fn` with console.log captured; resolves to what it printed. */
async function captureStdout(fn: () => Promise<unknown>): Promise<string> {
  let out = "";
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    out += `${format(...args)}\n`;
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
  Timer.timers.clear();
});

describe("examples/seed.ts: work_queue.py, ported", () => {
  it("prints exactly the seed's expected output on the virtual clock", async () => {
    const out = await captureStdout(() => run(() => seedMain(), { clock: "virtual" }));
    expect(out).toBe(SEED_OUTPUT);
  });

  it("the copy the CLI runs (src/cli/seed.ts) prints the same", async () => {
    const out = await captureStdout(() => run(() => cliSeedMain(), { clock: "virtual" }));
    expect(out).toBe(SEED_OUTPUT);
  });

  it("takes 17 virtual seconds and no real time", async () => {
    const started = performance.now();
    const elapsed = await captureStdout(() =>
      run(
        async () => {
          await seedMain();
        },
        { clock: "virtual" },
      ),
    );
    expect(elapsed).toContain("Total elapsed time: 17.0");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("on the real clock (scaled to 1/50: 340 ms) prints the same lines in the same order", async () => {
    const started = performance.now();
    const out = await captureStdout(() => run(() => seedMain(0.02), { clock: "real" }));
    const took = performance.now() - started;
    const shape = (text: string): string[] => text.split("\n").map((l) => l.replace(/: \d+\.\d$/, ": N"));
    const expected = shape(SEED_OUTPUT);
    // At 15 s two timers are due within a millisecond: the real clock fires them one at a time,
    // each after the task the previous one woke has run to its next await, so the order is exact.
    expect(shape(out)).toEqual(expected);
    // 17 × 0.02 = 0.34 s at least; more on a loaded machine.
    const total = Number(/Total elapsed time: (\d+\.\d)/.exec(out)?.[1]);
    expect(total).toBeGreaterThanOrEqual(0.3);
    expect(took).toBeGreaterThanOrEqual(330);
  });

  it("the task function works on any queue: one worker alone takes every job in order", async () => {
    const out = await captureStdout(() =>
      run(
        async () => {
          const queue = new Queue<number>();
          for (const delay of [3, 1]) await queue.put(delay);
          await seedTask("Solo", queue);
        },
        { clock: "virtual" },
      ),
    );
    expect(out).toBe(
      "Task Solo running\nTask Solo elapsed time: 3.0\nTask Solo running\nTask Solo elapsed time: 1.0\n",
    );
  });
});

describe("examples/restaurant.ts: the waiter analogy", () => {
  it("prints where each waiter was", async () => {
    const lines: string[] = [];
    await restaurantMain({ log: (line) => lines.push(line) });
    expect(lines).toEqual([
      "A waiter who waits at every table until it has decided:",
      "[ 0 min] goes to table 1 and waits there",
      "[ 0 min] at table 1: ready, order taken on the spot (soup)",
      "[ 0 min] goes to table 2 and waits there",
      "[ 0 min] at table 2: needs 5 min, leaves an order sheet",
      "[ 5 min] back at table 2: picks up the sheet (steak and salad)",
      "[ 5 min] goes to table 3 and waits there",
      "[ 5 min] at table 3: ready, order taken on the spot (pasta)",
      "[ 5 min] goes to table 4 and waits there",
      "[ 5 min] at table 4: needs 2 min, leaves an order sheet",
      "[ 7 min] back at table 4: picks up the sheet (fish)",
      "[ 7 min] goes to table 5 and waits there",
      "[ 7 min] at table 5: needs 8 min, leaves an order sheet",
      "[15 min] back at table 5: picks up the sheet (curry, rice and tea)",
      "  5 orders in 15 minutes\n",
      "One waiter for all the tables, leaving order sheets (the event loop):",
      "[ 0 min] at table 1: ready, order taken on the spot (soup)",
      "[ 0 min] at table 2: needs 5 min, leaves an order sheet",
      "[ 0 min] at table 3: ready, order taken on the spot (pasta)",
      "[ 0 min] at table 4: needs 2 min, leaves an order sheet",
      "[ 0 min] at table 5: needs 8 min, leaves an order sheet",
      "[ 2 min] back at table 4: picks up the sheet (fish)",
      "[ 5 min] back at table 2: picks up the sheet (steak and salad)",
      "[ 8 min] back at table 5: picks up the sheet (curry, rice and tea)",
      "  5 orders in 8 minutes: never idle while a table was ready",
    ]);
  });

  it("--timeline draws a lane per table", async () => {
    const lines: string[] = [];
    await restaurantMain({ log: (line) => lines.push(line), timeline: true });
    const timeline = lines.at(-1) as string;
    for (const table of ["table 1", "table 2", "table 3", "table 4", "table 5"]) expect(timeline).toContain(table);
    expect(timeline).toContain("sleep 8s");
  });
});

describe("examples/crawler.ts: workerPool + RateLimiter + retry against a local site", () => {
  // Real HTTP on 127.0.0.1 with the site's timing scaled down: slow pages take 0.8 s against a
  // 0.25 s timeout, ordinary pages a few ms, 400 requests per second.
  const crawlQuickly = () =>
    crawlerMain({
      pages: 120,
      slowSeconds: 0.8,
      pageSeconds: 0.004,
      timeout: 0.25,
      rate: 400,
      workers: 8,
      progress: false,
      log: () => {},
    });

  it("crawls every reachable page; slow pages time out, dead links are 404s, flaky 503s are retried", async () => {
    const { summary, site, lines } = await crawlQuickly();
    const slowReached = [...site.slow].filter((p) => site.hits.some((h) => h.path === p)).length;
    const flakyReached = [...site.flaky].filter((p) => site.hits.some((h) => h.path === p)).length;
    const dead = new Set(site.hits.filter((h) => h.path.startsWith("/gone/")).map((h) => h.path)).size;
    expect(summary.outcome).toBe("drained");
    expect(slowReached).toBeGreaterThan(0);
    expect(summary.failed.length).toBe(slowReached + dead);
    expect(summary.retried).toBe(flakyReached);
    expect(lines[1]).toBe(`${slowReached + dead} failed: ${slowReached} timed out, ${dead} not found`);
  }, 30_000);

  it("no request outlives its timeout, and the limiter spaces requests as the server sees them", async () => {
    const { site, slowest } = await crawlQuickly();
    // A request left running would last the slow page's 0.8 s; the margin is for a loaded machine
    // (the server shares the process and its event loop with the crawler).
    expect(slowest).toBeLessThan(0.25 + 0.2);
    for (const h of site.hits) expect(h.ended - h.arrived).toBeLessThan(0.25 + 0.2);
    const arrivals = site.hits.map((h) => h.arrived).sort((a, b) => a - b);
    // 400/s, burst 1: no more than 40 (+ 20 for arrival jitter on a loaded machine) in any 0.1 s.
    let lo = 0;
    for (let hi = 0; hi < arrivals.length; hi++) {
      while ((arrivals[lo] as number) + 0.1 <= (arrivals[hi] as number)) lo++;
      expect(hi - lo + 1).toBeLessThanOrEqual(60);
    }
  }, 30_000);
});

describe("examples/graceful-shutdown.ts", () => {
  async function stopAt(seconds: number, now?: number) {
    const lines: string[] = [];
    const report = await run(
      async () => {
        const stop = new Event();
        const stopNow = new Event();
        createTask(async () => {
          await sleep(seconds);
          stop.set();
          if (now !== undefined) {
            await sleep(now);
            stopNow.set();
          }
        });
        return service({ stop, stopNow, log: (line) => lines.push(line) });
      },
      { clock: "virtual" },
    );
    return { report, lines };
  }

  it("a graceful stop finishes every job that was put: nothing lost", async () => {
    const { report, lines } = await stopAt(2.5);
    expect(report.finished).toEqual(report.put);
    expect(report.put).toHaveLength(9);
    expect(report.dropped).toBe(0);
    expect(lines).toContain("[ 2.50s] stop: no new jobs; finishing the 3 queued and the ones in hand");
    expect(lines).toContain("[ 2.70s] producer: queue shut down, no more jobs");
    expect(lines.at(-1)).toBe("[ 5.00s] stopped cleanly: 9 jobs done, 0 dropped");
  });

  it("a second stop drops the queued jobs; the ones in hand still finish", async () => {
    const { report, lines } = await stopAt(2.5, 0.1);
    expect(report.dropped).toBe(3);
    expect(report.finished).toEqual(report.put.slice(0, 6));
    expect(lines.at(-1)).toBe("[ 3.30s] stopped cleanly: 6 jobs done, 3 dropped");
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "stops cleanly on a real %s: every job taken is finished, the report printed, exit code 0",
    async (signal) => {
      let sent = false;
      const result = await runTsx(["examples/graceful-shutdown.ts", "--job-seconds", "0.05"], {
        onStdout(text, child) {
          if (!sent && text.includes("finished job 2")) {
            sent = true;
            child.kill(signal);
          }
        },
      });
      expect(result.stderr).toBe("");
      expect(result.signal).toBe(null);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/stop: no new jobs/);
      expect(result.stdout).toMatch(/stopped cleanly: \d+ jobs done, 0 dropped/);
      // Every job started was finished, and the report counts them all.
      const started = [...result.stdout.matchAll(/started (job \d+)/g)].map((m) => m[1]).sort();
      const finished = [...result.stdout.matchAll(/finished (job \d+)/g)].map((m) => m[1]).sort();
      expect(finished).toEqual(started);
      const done = Number(/stopped cleanly: (\d+) jobs done/.exec(result.stdout)?.[1]);
      expect(done).toBe(finished.length);
    },
  );
});

describe("examples/testing-time.ts", () => {
  it("its tests pass on the virtual clock, minutes of backoff in no real time", async () => {
    const lines: string[] = [];
    const failed = await testingTimeMain((line) => lines.push(line));
    expect(failed).toBe(0);
    expect(lines.filter((l) => l.startsWith("ok - "))).toHaveLength(4);
    expect(lines.at(-1)).toMatch(/^all passed: 3615 s of virtual time in \d+ ms$/);
  });
});

describe("the awaitress command", () => {
  function output() {
    const out = { stdout: "", stderr: "" };
    return {
      out,
      io: {
        stdout: (t: string) => {
          out.stdout += t;
        },
        stderr: (t: string) => {
          out.stderr += t;
        },
      },
    };
  }

  it("awaitress demo prints the seed's output (virtual clock by default)", async () => {
    const { out, io } = output();
    let code = -1;
    const printed = await captureStdout(async () => {
      code = await cli(["demo"], io);
    });
    expect(code).toBe(0);
    expect(printed).toBe(SEED_OUTPUT);
    expect(out.stderr).toBe("");
  });

  it.each([
    [["--help"], "Usage: awaitress <command>"],
    [["-h"], "Usage: awaitress <command>"],
    [["help"], "Usage: awaitress <command>"],
    [["demo", "--help"], "Usage: awaitress demo [--real]"],
    [["demo", "-h"], "Usage: awaitress demo [--real]"],
    [["help", "demo"], "Usage: awaitress demo [--real]"],
  ])("%j prints help on stdout, exit code 0", async (args, text) => {
    const { out, io } = output();
    expect(await cli(args, io)).toBe(0);
    expect(out.stdout).toContain(text);
    expect(out.stderr).toBe("");
  });

  it.each([
    [["demo", "--fast"], "awaitress demo: unknown option '--fast'", "awaitress demo --help"],
    [["demo", "extra"], "awaitress demo: unexpected argument 'extra'", "awaitress demo --help"],
    [["serve"], "awaitress: unknown command 'serve'", "awaitress --help"],
    [["--real"], "awaitress: unknown option '--real' (expected a command first)", "awaitress --help"],
    [["help", "serve"], "awaitress help: unknown command 'serve'", "awaitress --help"],
  ])("%j is a usage error on stderr, exit code 2", async (args, message, hint) => {
    const { out, io } = output();
    expect(await cli(args, io)).toBe(2);
    expect(out.stderr).toContain(message);
    expect(out.stderr).toContain(`Run '${hint}'`);
    expect(out.stdout).toBe("");
  });

  it("no command at all: the help on stderr, exit code 2", async () => {
    const { out, io } = output();
    expect(await cli([], io)).toBe(2);
    expect(out.stderr).toContain("Usage: awaitress <command>");
  });

  it("the entry point sets the process exit code", async () => {
    const ok = await runTsx(["src/cli/main.ts", "demo"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe(SEED_OUTPUT);
    const bad = await runTsx(["src/cli/main.ts", "demo", "--nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("awaitress demo: unknown option '--nope'");
  });
});

describe("README.md", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  // A ```ts block, and the ```text block right after it (a short line may sit between): what it prints.
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```(?:(?:(?!```)[\s\S]){0,200}?```text\n([\s\S]*?)```)?/g)];
  const index = pathToFileURL(join(ROOT, "src", "index.ts")).href;

  it("has a runnable snippet for the seed and for each stop of the tour", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    expect(blocks.every((b) => b[2] !== undefined)).toBe(true);
  });

  it.each(blocks.map((b, i) => [i + 1, (b[1] as string).split("\n")[0], b[1] as string, b[2] as string]))(
    "snippet %i (%s) runs and prints what the README shows",
    async (_n, _first, code, expected) => {
      const dir = mkdtempSync(join(tmpdir(), "awaitress-readme-"));
      const file = join(dir, "snippet.ts");
      writeFileSync(file, code.replaceAll('from "awaitress"', `from ${JSON.stringify(index)}`));
      try {
        const out = await captureStdout(() => import(pathToFileURL(file).href));
        expect(out).toBe(expected);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
