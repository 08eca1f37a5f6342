/**
 * The core's contracts that no single primitive owns: the Clock interface as run() uses it, and
 * failures on the default loop.
 */
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type Clock,
  createTask,
  Future,
  getRunningLoop,
  run,
  sleep,
  type TimerHandle,
  VirtualClock,
} from "../src/node.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A clock of the user's own: no `attach`, driven by its own `advance`. */
class ManualClock implements Clock {
  readonly kind = "manual";
  private current = 0;
  private timers: { when: number; callback: (arg: unknown) => void; arg: unknown; pending: boolean }[] = [];
  now(): number {
    return this.current;
  }
  get pendingTimers(): number {
    return this.timers.filter((t) => t.pending).length;
  }
  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle {
    const timer = { when, callback: callback as (arg: unknown) => void, arg: arg as unknown, pending: true };
    this.timers.push(timer);
    return timer;
  }
  cancel(handle: TimerHandle): void {
    (handle as { pending: boolean }).pending = false;
  }
  close(): void {
    this.timers = [];
  }
  advance(to: number): void {
    this.current = to;
    for (const t of this.timers) {
      if (t.pending && t.when <= to) {
        t.pending = false;
        t.callback(t.arg);
      }
    }
  }
}

describe("the Clock contract", () => {
  it("a custom clock without attach(): its timer callbacks run as part of the run's loop", async () => {
    const clock = new ManualClock();
    const seen: boolean[] = [];
    await run(
      async () => {
        const loop = getRunningLoop();
        loop.callLater(1, () => seen.push(getRunningLoop() === loop), undefined);
        const slept = sleep(2, "woke");
        setTimeout(() => clock.advance(5), 1);
        expect(await slept).toBe("woke");
      },
      { clock },
    );
    expect(seen).toEqual([true]);
  });

  it("a VirtualClock passed as an instance attaches through the same interface", async () => {
    const clock = new VirtualClock();
    expect(typeof clock.attach).toBe("function");
    await run(
      async () => {
        await sleep(10);
        expect(clock.now()).toBe(10);
      },
      { clock },
    );
  });
});

describe("failures on the default loop", () => {
  it("a task that fails outside run() with nobody awaiting is reported through the default loop's handler by the time the process exits", () => {
    const script = `
      import { createTask } from "./src/index.ts";
      createTask(async () => { throw new Error("lost outside run"); });
    `;
    const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(out.stderr).toContain("exception was never retrieved");
    expect(out.stderr).toContain("lost outside run");
  });
});

describe("one task step at a time", () => {
  it("a task that calls then() itself runs the rest of its synchronous code before another task's step", async () => {
    const log: string[] = [];
    await run(async () => {
      await Promise.resolve(); // the step goes on in a microtask, the loop waiting for it
      createTask(async () => {
        log.push("other task's step");
      });
      const never = new Future<void>();
      void never.then(
        () => undefined,
        () => undefined,
      ); // suspends this task on `never`: its step is over...
      log.push("rest of the synchronous code"); // ...but this still runs first
      await sleep(0);
      never.cancel();
    });
    expect(log).toEqual(["rest of the synchronous code", "other task's step"]);
  });
});

describe("allTasks()", () => {
  it("lists the user's tasks, not the tasks that carry a Condition or Barrier wait (asyncio: part of the caller's coroutine)", async () => {
    const { allTasks, Barrier, Condition, currentTask } = await import("../src/node.js");
    await run(
      async () => {
        const cond = new Condition();
        const barrier = new Barrier(2);
        const waiter = createTask(async () => {
          await cond.acquire();
          try {
            await cond.wait();
          } finally {
            cond.release();
          }
        });
        const arriving = createTask(() => barrier.wait());
        await sleep(1);
        expect(new Set(allTasks())).toEqual(new Set([currentTask(), waiter, arriving]));
        await cond.acquire();
        cond.notifyAll();
        cond.release();
        await barrier.wait();
        await waiter;
        await arriving;
      },
      { clock: "virtual" },
    );
  });
});
