/**
 * Issue 10: timers due at the same instant fire together, as in asyncio's loop, where one pass
 * moves every due timer to the ready queue before any task they wake runs. So `wait()` sees every
 * task that finished at that instant, two TaskGroup children failing at the same instant are
 * both in the ExceptionGroup, and the order stays deadline first, then scheduling order.
 */
import { describe, expect, it } from "vitest";
import {
  createTask,
  ExceptionGroup,
  FIRST_COMPLETED,
  gather,
  getRunningLoop,
  Queue,
  sleep,
  taskGroup,
  time,
  wait,
} from "../src/node.js";
import { runVirtual, thrown } from "./support.js";

class FirstError extends Error {}
class SecondError extends Error {}

describe("timers due at the same instant", () => {
  it("wait([a, b], { returnWhen: FIRST_COMPLETED }) where a and b both await sleep(0.1) returns both done (asyncio gives {a, b})", async () => {
    await runVirtual(async () => {
      const a = createTask(async () => {
        await sleep(0.1);
      });
      const b = createTask(async () => {
        await sleep(0.1);
      });
      const [done, pending] = await wait([a, b], { returnWhen: FIRST_COMPLETED });
      expect(time()).toBeCloseTo(0.1, 9);
      expect([done.has(a), done.has(b)]).toEqual([true, true]);
      expect(pending.size).toBe(0);
    });
  });

  it("the same with tasks whose functions return the sleep (createTask(() => sleep(0.1)))", async () => {
    await runVirtual(async () => {
      const a = createTask(() => sleep(0.1, "a"));
      const b = createTask(() => sleep(0.1, "b"));
      const c = createTask(() => sleep(0.2, "c"));
      const [done, pending] = await wait([a, b, c], { returnWhen: FIRST_COMPLETED });
      expect([done.has(a), done.has(b), done.has(c)]).toEqual([true, true, false]);
      expect([...pending]).toEqual([c]);
      c.cancel();
    });
  });

  it("two TaskGroup children failing at the same instant give an ExceptionGroup with both errors", async () => {
    await runVirtual(async () => {
      const first = new FirstError("first");
      const second = new SecondError("second");
      const error = await thrown(
        taskGroup((tg) => {
          tg.createTask(async () => {
            await sleep(0.1);
            throw first;
          });
          tg.createTask(async () => {
            await sleep(0.1);
            throw second;
          });
        }),
      );
      expect(error).toBeInstanceOf(ExceptionGroup);
      expect((error as ExceptionGroup).exceptions).toEqual([first, second]);
      expect(time()).toBeCloseTo(0.1, 9);
    });
  });

  it("callbacks due at the same instant run in deadline order, then in the order they were scheduled", async () => {
    await runVirtual(async () => {
      const loop = getRunningLoop();
      const order: string[] = [];
      const record = (name: string): void => {
        order.push(name);
      };
      loop.callLater(0.5, record, "A: 0.5, scheduled 1st");
      loop.callLater(0.25, record, "B: 0.25, scheduled 2nd");
      loop.callLater(0.5, record, "C: 0.5, scheduled 3rd");
      loop.callAt(0.25, record, "D: callAt 0.25, scheduled 4th");
      loop.callLater(0.25, record, "E: 0.25, scheduled 5th");
      await sleep(0.125);
      loop.callLater(0.375, record, "F: 0.5, scheduled 6th at t=0.125");
      loop.callLater(0.125, record, "G: 0.25, scheduled 7th at t=0.125");
      await sleep(1);
      expect(order).toEqual([
        "B: 0.25, scheduled 2nd",
        "D: callAt 0.25, scheduled 4th",
        "E: 0.25, scheduled 5th",
        "G: 0.25, scheduled 7th at t=0.125",
        "A: 0.5, scheduled 1st",
        "C: 0.5, scheduled 3rd",
        "F: 0.5, scheduled 6th at t=0.125",
      ]);
    });
  });

  it("tasks whose sleeps end at the same instant resume in deadline order, then in the order the sleeps began", async () => {
    await runVirtual(async () => {
      const order: string[] = [];
      const sleeper = (name: string, before: number, seconds: number) =>
        createTask(async () => {
          if (before > 0) await sleep(before);
          await sleep(seconds);
          order.push(`${name} at ${time()}`);
        });
      await gather(
        sleeper("x", 0, 0.5),
        sleeper("y", 0, 0.25),
        sleeper("z", 0.25, 0.25), // began after x and y, due with x
        sleeper("w", 0, 0.25),
        sleeper("v", 0.125, 0.125), // began after y and w, due with them
      );
      expect(order).toEqual(["y at 0.25", "w at 0.25", "v at 0.25", "x at 0.5", "z at 0.5"]);
    });
  });

  it("seed-like: at t=9 task One wakes, takes the last item without suspending, and only then Two wakes and finds the queue empty", async () => {
    await runVirtual(async () => {
      const lines: string[] = [];
      const q = new Queue<number>();
      for (const work of [9, 4, 5, 7]) q.putNowait(work);
      const worker = async (name: string): Promise<void> => {
        while (!q.empty()) {
          const delay = await q.get();
          lines.push(`${name} running at ${time()}`);
          const started = time();
          await sleep(delay);
          lines.push(`${name} elapsed ${time() - started}`);
        }
      };
      await gather(
        createTask(() => worker("One"), { name: "One" }),
        createTask(() => worker("Two"), { name: "Two" }),
      );
      expect(lines).toEqual([
        "One running at 0",
        "Two running at 0",
        "Two elapsed 4",
        "Two running at 4",
        // t=9: both sleeps end; One's timer was scheduled first.
        "One elapsed 9",
        "One running at 9",
        "Two elapsed 5",
        "One elapsed 7",
      ]);
      expect(time()).toBe(16);
    });
  });
});
