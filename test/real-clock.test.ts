import { describe, expect, it } from "vitest";
import { createTask, currentTask, gather, getRunningLoop, RealClock, run, sleep, time } from "../src/node.js";

/** Resolves after `ms` real milliseconds (a few at most). */
const realDelay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("RealClock: one heap, one native timer", () => {
  it("fires timers in deadline order, equal deadlines in scheduling order", async () => {
    const clock = new RealClock();
    const fired: string[] = [];
    const base = clock.now();
    clock.callAt(base + 0.004, (s: string) => fired.push(s), "c");
    clock.callAt(base + 0.002, (s: string) => fired.push(s), "a1");
    clock.callAt(base + 0.002, (s: string) => fired.push(s), "a2");
    clock.callAt(base + 0.003, (s: string) => fired.push(s), "b");
    clock.callAt(base + 0.002, (s: string) => fired.push(s), "a3");
    expect(clock.pendingTimers).toBe(5);
    await realDelay(12);
    expect(fired).toEqual(["a1", "a2", "a3", "b", "c"]);
    expect(clock.pendingTimers).toBe(0);
    clock.close();
  });

  it("timers due together fire one at a time: each woken task runs to its next await first", async () => {
    const log: string[] = [];
    await run(async () => {
      const worker = async (name: string): Promise<void> => {
        await sleep(0.003);
        log.push(`${name} woke`);
        await Promise.resolve(); // an await that does not wait: asyncio's step goes on
        await Promise.resolve();
        log.push(`${name} waits again`);
        await sleep(0.001);
      };
      const a = createTask(() => worker("A"));
      const b = createTask(() => worker("B"));
      await realDelay(8); // both deadlines pass while the loop is blocked here, in one batch
      await gather(a, b);
    });
    expect(log.slice(0, 4)).toEqual(["A woke", "A waits again", "B woke", "B waits again"]);
  });

  it("never fires a timer before its deadline", async () => {
    const clock = new RealClock();
    const lateness: number[] = [];
    for (let i = 0; i < 20; i++) {
      const when = clock.now() + (i % 5) / 1000;
      clock.callAt(when, (w: number) => lateness.push(clock.now() - w), when);
    }
    await realDelay(15);
    expect(lateness).toHaveLength(20);
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    clock.close();
  });

  it("re-arms for an earlier timer and after cancelling the earliest", async () => {
    const clock = new RealClock();
    const fired: string[] = [];
    const base = clock.now();
    const late = clock.callAt(base + 1, (s: string) => fired.push(s), "late");
    clock.callAt(base + 0.002, (s: string) => fired.push(s), "early"); // earlier than the armed one
    const cancelled = clock.callAt(base + 0.001, (s: string) => fired.push(s), "cancelled");
    clock.cancel(cancelled);
    expect(cancelled.pending).toBe(false);
    expect(late.pending).toBe(true);
    await realDelay(10);
    expect(fired).toEqual(["early"]);
    clock.cancel(late);
    expect(clock.pendingTimers).toBe(0);
    clock.close();
  });

  it("close() drops every timer", async () => {
    const clock = new RealClock();
    let fired = false;
    const handle = clock.callAt(
      clock.now() + 0.001,
      () => {
        fired = true;
      },
      undefined,
    );
    clock.close();
    await realDelay(5);
    expect(fired).toBe(false);
    expect(handle.pending).toBe(false);
  });

  it("sleeps under run() wake no earlier than asked, outside any task's context", async () => {
    const seen = await run(async () => {
      const t0 = time();
      const results = await gather(
        ...[3, 1, 2].map((ms) =>
          createTask(async () => {
            await sleep(ms / 1000);
            return time() - t0 >= ms / 1000;
          }),
        ),
      );
      let contextInCallback: unknown = "unset";
      getRunningLoop().callLater(
        0.001,
        () => {
          contextInCallback = currentTask();
        },
        undefined,
      );
      await sleep(0.003);
      return { results, contextInCallback };
    });
    expect(seen.results).toEqual([true, true, true]);
    expect(seen.contextInCallback).toBeUndefined();
  });

  it("reports an error thrown by a timer callback and still runs the other due timers", async () => {
    const errors: unknown[] = [];
    const fired = await run(
      async () => {
        const loop = getRunningLoop();
        const out: string[] = [];
        const when = time() + 0.001;
        loop.callAt(when, () => out.push("before"), undefined);
        loop.callAt(
          when,
          () => {
            throw new Error("boom");
          },
          undefined,
        );
        loop.callAt(when, () => out.push("after"), undefined);
        await sleep(0.004);
        return out;
      },
      { onError: (context) => errors.push(context.error) },
    );
    expect(fired).toEqual(["before", "after"]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["boom"]);
  });
});

describe("timer callbacks run as part of their loop", () => {
  for (const clock of ["real", "virtual"] as const) {
    it(`on the ${clock} clock, code in a callLater callback finds the run's loop and no current task`, async () => {
      let seen: { sameLoop: boolean; task: unknown; childLoopIsRuns: boolean } | undefined;
      let child: ReturnType<typeof createTask> | undefined;
      await run(
        async () => {
          const loop = getRunningLoop();
          loop.callLater(
            0.002,
            () => {
              child = createTask(() => sleep(60), { name: "from a timer" });
              seen = { sameLoop: getRunningLoop() === loop, task: currentTask(), childLoopIsRuns: child.loop === loop };
            },
            undefined,
          );
          await sleep(0.004);
        },
        { clock },
      );
      expect(seen).toEqual({ sameLoop: true, task: undefined, childLoopIsRuns: true });
      // A task of the run's loop: run() cancelled it on the way out.
      expect(child?.cancelled()).toBe(true);
    });
  }
});
