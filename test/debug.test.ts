import { afterEach, describe, expect, it, vi } from "vitest";
import { runningLoop } from "../src/core/loop.js";
import { formatTaskTree } from "../src/debug/index.js";
import { StepMonitor } from "../src/debug/step-monitor.js";
import { createTask, type ErrorContext, gather, Queue, run, sleep } from "../src/node.js";
import { Recorder } from "../src/trace/index.js";

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Holding the loop on purpose.
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("debug mode: slow steps", () => {
  it("reports a 200 ms blocking step naming the task, where it was created and how long it took", async () => {
    const reports: ErrorContext[] = [];
    await run(
      async () => {
        const culprit = createTask(
          async () => {
            await sleep(0);
            busy(200);
          },
          { name: "Busy" },
        );
        const innocent = createTask(() => sleep(0.001), { name: "Innocent" });
        await gather(culprit, innocent);
      },
      { debug: true, onError: (c) => reports.push(c), blockedThreshold: 0 },
    );
    const slow = reports.filter((r) => r.message.startsWith("Executing"));
    expect(slow).toHaveLength(1);
    const message = slow[0]?.message ?? "";
    expect(message).toMatch(
      /^Executing Task "Busy" \(id 2, created at .*debug\.test\.ts:\d+:\d+\) took (0\.[2-9]|[1-9]\.)\d+ seconds/,
    );
    expect(message).toContain("slowStepThreshold (100ms)");
    expect((slow[0]?.task as unknown as { name: string } | undefined)?.name).toBe("Busy");
  });

  it("reports nothing for steps under the threshold, and honours slowStepThreshold", async () => {
    const reports: ErrorContext[] = [];
    const program = async () => {
      await sleep(0);
      busy(20);
    };
    await run(program, { debug: true, onError: (c) => reports.push(c), blockedThreshold: 0 });
    expect(reports).toEqual([]);
    await run(program, { debug: true, onError: (c) => reports.push(c), slowStepThreshold: 0.01, blockedThreshold: 0 });
    expect(reports.map((r) => r.message)).toEqual([expect.stringMatching(/^Executing Task "main" \(id 1/)]);
  });

  it("times a task's first step too (it runs inside the loop's pass)", async () => {
    const reports: ErrorContext[] = [];
    await run(
      async () => {
        await createTask(() => busy(150), { name: "eager-worker" });
      },
      { debug: true, onError: (c) => reports.push(c), blockedThreshold: 0 },
    );
    expect(reports.map((r) => r.message)).toEqual([expect.stringMatching(/^Executing Task "eager-worker"/)]);
  });

  it("rejects a threshold that is not a non-negative number", async () => {
    await expect(run(async () => {}, { debug: true, slowStepThreshold: -1 })).rejects.toThrow(
      "Expected `slowStepThreshold` to be a non-negative number of seconds, got `-1` (number)",
    );
  });
});

describe("debug mode: the live watchdog", () => {
  it("names the task blocking the loop while it is still blocked", async () => {
    const stderr = vi.spyOn(process.stderr, "write");
    let blockEnded = 0;
    let monitor: StepMonitor | undefined;
    await run(
      async () => {
        monitor = runningLoop().steps as StepMonitor;
        const t = createTask(
          async () => {
            await sleep(0);
            busy(200);
            blockEnded = Date.now();
          },
          { name: "Hog" },
        );
        await t;
        // The worker's copy of the report reaches this thread once it runs again.
        for (let i = 0; i < 200 && monitor.blockedReports.length === 0; i++) await sleep(0.005);
      },
      { debug: true, blockedThreshold: 0.05, onError: () => {} },
    );
    expect(monitor).toBeInstanceOf(StepMonitor);
    const reports = monitor?.blockedReports ?? [];
    expect(reports).toHaveLength(1);
    const report = reports[0];
    expect(report?.name).toBe("Hog");
    expect(report?.site).toMatch(/debug\.test\.ts:\d+:\d+/);
    expect(report?.text).toMatch(
      /^awaitress: the event loop is blocked: task "Hog" \(id 2, created at .*\) has been running for 0\.\d+ s/,
    );
    // Written by the worker while the main thread was still inside the busy loop.
    expect(report?.at).toBeLessThan(blockEnded);
    expect(report?.blockedFor).toBeGreaterThanOrEqual(0.05);
    // Written straight to the file descriptor, not through this (blocked) thread's stream.
    expect(stderr.mock.calls.some((c) => String(c[0]).includes("event loop is blocked"))).toBe(false);
  });
});

describe("debug mode: what each pending task waits on", () => {
  it("formatTaskTree shows the tree, each wait with its duration, and creation sites", async () => {
    let text = "";
    await run(
      async () => {
        const q = new Queue<number>(0, { name: "jobs" });
        const consumer = createTask(() => q.get(), { name: "consumer" });
        const supervisor = createTask(
          async () => {
            const child = createTask(() => sleep(100), { name: "napper" });
            await child;
          },
          { name: "supervisor" },
        );
        await sleep(5);
        text = formatTaskTree();
        consumer.cancel();
        supervisor.cancel();
      },
      { clock: "virtual", debug: true, onError: () => {} },
    );
    const lines = text.split("\n");
    expect(lines[0]).toBe("4 pending tasks at 5s (loop time)");
    expect(lines[1]).toMatch(/^main \(id 1\) running \(it asked for this report\), created at /);
    expect(lines[2]).toMatch(
      /^├─ consumer \(id 2\) waiting on queue.get jobs for 5s, created at .*debug\.test\.ts:\d+/,
    );
    expect(lines[3]).toMatch(/^└─ supervisor \(id 3\) waiting on task "napper" for 5s, created at .*debug\.test\.ts/);
    expect(lines[4]).toMatch(/^ {3}└─ napper \(id 4\) waiting on sleep 100s for 5s, created at .*debug\.test\.ts/);
  });

  it("outside debug mode, on the virtual clock, still says what each task waits on and for how long", async () => {
    let text = "";
    await run(
      async () => {
        createTask(() => sleep(10), { name: "sleeper" });
        await sleep(3);
        text = formatTaskTree();
      },
      { clock: "virtual", onError: () => {} },
    );
    expect(text.split("\n")).toEqual([
      "2 pending tasks at 3s (loop time)",
      "main (id 1) running (it asked for this report)",
      "└─ sleeper (id 2) waiting on sleep 10s for 3s",
    ]);
  });

  it("says a task awaits a foreign promise, and for how long", async () => {
    let text = "";
    await run(
      async () => {
        let release: () => void = () => {};
        const gate = new Promise<void>((resolve) => (release = resolve));
        const t = createTask(() => gate, { name: "fetcher" });
        await new Promise((resolve) => setTimeout(resolve, 2));
        text = formatTaskTree();
        release();
        await t;
      },
      { debug: true, onError: () => {} },
    );
    expect(text).toMatch(/fetcher \(id 2\) waiting on a foreign promise for [\d.]+(?:µs|ms|s)/);
  });

  it("prints the tree on SIGINT under run in debug mode", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const other = () => {};
    process.on("SIGINT", other); // so the handler does not re-raise the signal and end the test
    try {
      await run(
        async () => {
          createTask(() => sleep(10), { name: "sleeper" });
          await sleep(1);
          process.emit("SIGINT");
        },
        { clock: "virtual", debug: true, onError: () => {} },
      );
    } finally {
      process.removeListener("SIGINT", other);
    }
    const printed = errors.mock.calls.map((c) => String(c[0])).join("\n");
    expect(printed).toContain("2 pending tasks at 1s");
    expect(printed).toContain("sleeper (id 2) waiting on sleep 10s for 1s");
    expect(process.listenerCount("SIGINT")).toBe(0);
  });
});

describe("debug mode: leaks and lost errors", () => {
  it("reports tasks still pending when main returns, with where they were created", async () => {
    const reports: ErrorContext[] = [];
    await run(
      async () => {
        createTask(() => sleep(10), { name: "forgotten" });
        await sleep(1);
      },
      { clock: "virtual", debug: true, onError: (c) => reports.push(c) },
    );
    expect(reports).toHaveLength(1);
    expect(reports[0]?.message).toBe("Task was still pending when main returned; run() cancels it");
    const task = reports[0]?.task as unknown as { name: string; creationStack: string };
    expect(task.name).toBe("forgotten");
    expect(task.creationStack).toContain("debug.test.ts");
  });

  it("prints the creation stack with an error nobody retrieved", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await run(
      async () => {
        createTask(
          async () => {
            throw new Error("lost");
          },
          { name: "careless" },
        );
        await sleep(1);
      },
      { clock: "virtual", debug: true },
    );
    const call = errors.mock.calls.find((c) => String(c[0]).includes("never retrieved"));
    expect(String(call?.[0])).toContain('(task "careless")');
    expect(String(call?.[2])).toMatch(/^\nThe task was created here\n(\s+at .*\n)*\s+at .*debug\.test\.ts/);
  });

  it("never changes what the program computes", async () => {
    const program = async (): Promise<string[]> => {
      const log: string[] = [];
      const q = new Queue<number>(2);
      const producer = createTask(async () => {
        for (let i = 0; i < 8; i++) {
          await q.put(i);
          log.push(`put ${i}`);
        }
      });
      const consumers = ["a", "b"].map((n) =>
        createTask(async () => {
          for (;;) {
            const v = await q.get();
            await sleep(v % 3);
            log.push(`${n} got ${v}`);
            q.taskDone();
          }
        }),
      );
      await producer;
      await q.join();
      for (const c of consumers) c.cancel();
      return log;
    };
    const plain = await run(program, { clock: "virtual" });
    const debugged = await run(program, { clock: "virtual", debug: true, onError: () => {} });
    const traced = await run(program, { clock: "virtual", debug: true, trace: new Recorder(), onError: () => {} });
    expect(debugged).toEqual(plain);
    expect(traced).toEqual(plain);
  });
});
