import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import * as awaitress from "../src/node.js";

// The public surface, listed on purpose (Trio's rule): adding or removing an export is a
// decision, so it changes this list in the same commit.
const EXPORTS = [
  "ALL_COMPLETED",
  "AwaitressError",
  "Barrier",
  "BoundedSemaphore",
  "BrokenBarrierError",
  "CancelledError",
  "Condition",
  "DeadlockError",
  "Event",
  "ExceptionGroup",
  "FIRST_COMPLETED",
  "FIRST_EXCEPTION",
  "Future",
  "Held",
  "Interrupted",
  "InvalidStateError",
  "LifoQueue",
  "Lock",
  "PriorityQueue",
  "Queue",
  "QueueEmpty",
  "QueueFull",
  "QueueShutDown",
  "RealClock",
  "Semaphore",
  "Task",
  "TaskGroup",
  "Timeout",
  "TimeoutError",
  "Timer",
  "TimerError",
  "Timers",
  "VirtualClock",
  "allTasks",
  "asCompleted",
  "createTask",
  "currentTask",
  "ensureFuture",
  "formatTemplate",
  "formatValue",
  "gather",
  "getRunningLoop",
  "isCancelled",
  "rethrowIfCancelled",
  "run",
  "shield",
  "sleep",
  "taskGroup",
  "time",
  "timeout",
  "timeoutAt",
  "wait",
  "waitFor",
  // the work-queue toolkit
  "ProgressBar",
  "RateLimiter",
  "RetryError",
  "WorkerPool",
  "mapConcurrent",
  "progressBar",
  "retry",
  "shutdownOn",
  "workerPool",
].sort();

// The other entry points, by concern (issue 15).
const TRACE_EXPORTS = [
  "JsonlWriter",
  "Recorder",
  "buildTimeline",
  "htmlTimeline",
  "installProcessTrace",
  "parseJsonl",
  "perfettoJson",
  "perfettoTrace",
  "readJsonl",
  "shouldColor",
  "terminalTimeline",
].sort();
const DEBUG_EXPORTS = ["dumpTasks", "formatTaskTree"].sort();

describe("the public surface", () => {
  it("exports exactly the listed names from src/node.ts (Node's awaitress) and src/index.ts", async () => {
    expect(Object.keys(awaitress).sort()).toEqual(EXPORTS);
    expect(Object.keys(await import("../src/index.js")).sort()).toEqual(EXPORTS);
  });

  it("awaitress/trace and awaitress/debug export exactly their listed names", async () => {
    expect(Object.keys(await import("../src/trace/index.js")).sort()).toEqual(TRACE_EXPORTS);
    expect(Object.keys(await import("../src/debug/index.js")).sort()).toEqual(DEBUG_EXPORTS);
  });

  it("every error class derives from AwaitressError, except ExceptionGroup (an AggregateError)", () => {
    const errors = [
      awaitress.BrokenBarrierError,
      awaitress.CancelledError,
      awaitress.InvalidStateError,
      awaitress.QueueEmpty,
      awaitress.QueueShutDown,
      awaitress.TimeoutError,
      awaitress.TimerError,
    ];
    for (const E of errors) expect(new E("x")).toBeInstanceOf(awaitress.AwaitressError);
    expect(new awaitress.QueueFull("full", 1)).toBeInstanceOf(awaitress.AwaitressError);
    expect(new awaitress.DeadlockError([], 0)).toBeInstanceOf(awaitress.AwaitressError);
    expect(new awaitress.Interrupted("SIGINT", 130)).toBeInstanceOf(awaitress.AwaitressError);
    expect(new awaitress.ExceptionGroup("g", [new Error("a")])).toBeInstanceOf(AggregateError);
  });

  // `npm test` builds before running vitest; the built entry points must state the same surface.
  // The CommonJS entry is a shim that require()s the ESM build (test/dual-package.test.ts checks
  // from the packed tarball that both load one runtime).
  it.runIf(existsSync("dist/esm/index.js") && existsSync("dist/cjs/index.js"))(
    "the ESM and CommonJS entry points export the same names",
    async () => {
      const load = createRequire(import.meta.url);
      const entries: [string, string[]][] = [
        ["index", EXPORTS],
        ["node", EXPORTS],
        ["trace/index", TRACE_EXPORTS],
        ["debug/index", DEBUG_EXPORTS],
      ];
      for (const [module, names] of entries) {
        const esm = await import(/* @vite-ignore */ pathToFileURL(resolve(`dist/esm/${module}.js`)).href);
        const cjs = load(`../dist/cjs/${module}.js`) as Record<string, unknown>;
        expect(Object.keys(esm).sort()).toEqual(names);
        expect(Object.keys(cjs).sort()).toEqual(names);
      }
    },
  );
});

describe("describe(): how error messages name what they got", () => {
  it("names a task and a future as such, not as a promise", async () => {
    const { run, createTask, Future } = awaitress;
    const messages: string[] = [];
    await run(async () => {
      const t = createTask(() => 1);
      await t;
      for (const bad of [t, new Future<number>(), Promise.resolve(1)]) {
        try {
          createTask(bad as never);
        } catch (e) {
          messages.push((e as Error).message);
        }
      }
    });
    expect(messages[0]).toMatch(/got a Task$/);
    expect(messages[1]).toMatch(/got a Future$/);
    expect(messages[2]).toMatch(/got a Promise \(an already started operation\)$/);
  });
});
