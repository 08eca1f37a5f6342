/**
 * Issue 11, "nothing lost outside run()": plain async code (an HTTP handler, a script) can use
 * `timeout()`, `Timeout`, `waitFor()` and `taskGroup()`: their work runs as a task of the default
 * loop (real clock; the sleeps here are a few milliseconds). A task that fails outside run()
 * with nobody awaiting is reported through the default loop's handler.
 */
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  currentTask,
  ExceptionGroup,
  Queue,
  sleep,
  TaskGroup,
  Timeout,
  TimeoutError,
  taskGroup,
  time,
  timeout,
  waitFor,
} from "../src/node.js";
import { thrown } from "./support.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

describe("structured constructs from plain async code (no run, no task)", () => {
  it("timeout() runs its block as a task of the default loop and raises TimeoutError at the deadline", async () => {
    expect(currentTask()).toBeUndefined();
    let name: string | undefined;
    const e = await thrown(() =>
      timeout(0.002, async () => {
        name = currentTask()?.getName();
        await sleep(10);
      }),
    );
    expect(e).toBeInstanceOf(TimeoutError);
    expect(name).toBe("timeout block");
    expect(await timeout(1, () => sleep(0.001, "in time"))).toBe("in time");
  });

  it("new Timeout(...).run() from plain code works the same, and its signal aborts at the deadline", async () => {
    const cm = new Timeout(time() + 0.002);
    const e = await thrown(() => cm.run(() => sleep(10)));
    expect(e).toBeInstanceOf(TimeoutError);
    expect(cm.expired()).toBe(true);
    expect(cm.signal.aborted).toBe(true);
  });

  it("waitFor(q.get(), t) from plain code times out without losing the next item", async () => {
    const q = new Queue<string>();
    const e = await thrown(() => waitFor(q.get(), 0.002));
    expect(e).toBeInstanceOf(TimeoutError);
    q.putNowait("kept");
    expect(q.qsize()).toBe(1);
    expect(await waitFor(q.get(), 1)).toBe("kept");
  });

  it("waitFor(fn, t) from plain code cancels the work at the deadline", async () => {
    let cleanedUp = false;
    const e = await thrown(() =>
      waitFor(async () => {
        try {
          await sleep(10);
        } finally {
          cleanedUp = true;
        }
      }, 0.002),
    );
    expect(e).toBeInstanceOf(TimeoutError);
    expect(cleanedUp).toBe(true);
  });

  it("taskGroup() from plain code waits for its tasks and groups their errors", async () => {
    expect(
      await taskGroup(async (tg) => {
        const a = tg.createTask(() => sleep(0.001, "a"));
        const b = tg.createTask(() => sleep(0.002, "b"));
        return [await a, await b];
      }),
    ).toEqual(["a", "b"]);
    let siblingCancelled = false;
    const e = await thrown(() =>
      new TaskGroup().run(async (tg) => {
        tg.createTask(async () => {
          await sleep(0.001);
          throw new RangeError("bad page");
        });
        tg.createTask(async () => {
          try {
            await sleep(10);
          } finally {
            siblingCancelled = true;
          }
        });
      }),
    );
    expect(e).toBeInstanceOf(ExceptionGroup);
    expect((e as ExceptionGroup).exceptions[0]).toBeInstanceOf(RangeError);
    expect(siblingCancelled).toBe(true);
  });
});

describe("failures on the default loop reach its handler", () => {
  it("a handler set on the default loop receives the failure of a task nobody awaited", () => {
    const script = `
      import { createTask, getRunningLoop } from "./src/index.ts";
      getRunningLoop().onError = (c) => console.log("handled:", c.message, "-", c.error.message, "-", c.task?.name);
      createTask(async () => { throw new Error("lost outside run"); }, { name: "orphan" });
    `;
    const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(out.stdout.trim()).toBe("handled: Task exception was never retrieved - lost outside run - orphan");
    expect(out.stderr).toBe("");
  });

  it("with AWAITRESS_DEBUG=1, a task failing outside run() is reported with where it was created", () => {
    const script = `
      import { createTask } from "./src/index.ts";
      createTask(async () => { throw new Error("lost outside run"); }, { name: "orphan" });
    `;
    const out = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, AWAITRESS_DEBUG: "1" },
    });
    expect(out.stderr).toContain("Task exception was never retrieved");
    expect(out.stderr).toContain("lost outside run");
    expect(out.stderr).toContain('"orphan"');
    expect(out.stderr).toContain("created here");
  });
});
