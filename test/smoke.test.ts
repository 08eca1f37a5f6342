import { describe, expect, it } from "vitest";
import { createTask, currentTask, isCancelled, run, sleep, time } from "../src/node.js";

describe("run", () => {
  it("runs main as a task and returns its result", async () => {
    const result = await run(async () => {
      expect(currentTask()?.name).toBe("main");
      return 42;
    });
    expect(result).toBe(42);
  });

  it("cancels tasks still alive when main returns", async () => {
    let leftover: ReturnType<typeof createTask> | undefined;
    await run(
      async () => {
        leftover = createTask(() => sleep(100));
        await sleep(0);
      },
      { clock: "virtual" },
    );
    expect(leftover?.cancelled()).toBe(true);
  });

  it("sleeps on the virtual clock without real time passing", async () => {
    const started = performance.now();
    const elapsed = await run(
      async () => {
        const t0 = time();
        await sleep(3600);
        return time() - t0;
      },
      { clock: "virtual" },
    );
    expect(elapsed).toBe(3600);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("delivers cancellation at the awaited sleep", async () => {
    await run(
      async () => {
        const t = createTask(async () => {
          try {
            await sleep(10);
            return "slept";
          } catch (e) {
            return isCancelled(e) ? "cancelled" : "other";
          }
        });
        await sleep(1);
        t.cancel();
        expect(await t).toBe("cancelled");
        expect(time()).toBe(1);
      },
      { clock: "virtual" },
    );
  });
});
