import { describe, expect, it } from "vitest";
import { CancelledError, createTask, Event, getRunningLoop } from "../src/node.js";
import { runVirtual, settle, tick } from "./support.js";

describe("Event: conformance (spec section 4)", () => {
  it("EV-01 set() wakes every waiter; a waiter arriving after set() does not wait", async () => {
    await runVirtual(async () => {
      const ev = new Event();
      const result: number[] = [];
      const c = (n: number) =>
        createTask(async () => {
          if (await ev.wait()) result.push(n);
        });
      const c1 = c(1);
      const c2 = c(2);
      await tick();
      expect(result).toEqual([]);
      expect(ev._waiterCount()).toBe(2);
      const c3 = c(3); // not started yet
      ev.set();
      await settle();
      // asyncio's exact order is [3, 1, 2]; we guarantee: everyone woken, waiters in FIFO
      // order, and c3 never registered as a waiter.
      expect([...result].sort()).toEqual([1, 2, 3]);
      expect(result.indexOf(1)).toBeLessThan(result.indexOf(2));
      expect(ev._waiterCount()).toBe(0);
      expect([await c1, await c2, await c3]).toEqual([undefined, undefined, undefined]);
    });
  });

  it("EV-02 flag semantics", async () => {
    await runVirtual(async () => {
      const ev = new Event();
      expect(ev.isSet()).toBe(false);
      ev.set();
      expect(ev.isSet()).toBe(true);
      expect(await ev.wait()).toBe(true);
      ev.clear();
      expect(ev.isSet()).toBe(false);
    });
  });

  it("EV-03 cancelled wait leaves no waiter", async () => {
    await runVirtual(async () => {
      const ev = new Event();
      const w = createTask(() => ev.wait());
      getRunningLoop().callSoon(() => w.cancel(), undefined);
      await expect(w).rejects.toBeInstanceOf(CancelledError);
      expect(ev._waiterCount()).toBe(0);
    });
  });

  it("EV-04 set(); clear() before the waiter runs still wakes it", async () => {
    await runVirtual(async () => {
      const ev = new Event();
      const result: number[] = [];
      const c1 = createTask(async () => {
        if (await ev.wait()) result.push(1);
        return true;
      });
      await tick();
      ev.set();
      ev.clear();
      expect(ev.isSet()).toBe(false);
      ev.set();
      ev.set();
      expect(ev._waiterCount()).toBe(1);
      await settle();
      expect(result).toEqual([1]);
      expect(ev._waiterCount()).toBe(0);
      expect(await c1).toBe(true);
    });
  });
});

describe("Event: beyond asyncio", () => {
  it("a waiter woken and then cancelled before it runs ends cancelled", async () => {
    await runVirtual(async () => {
      const ev = new Event();
      const w = createTask(() => ev.wait());
      await tick();
      ev.set();
      w.cancel();
      await expect(w).rejects.toBeInstanceOf(CancelledError);
      expect(ev._waiterCount()).toBe(0);
    });
  });

  it("wait() after set() needs no suspension and many waiters are all released", async () => {
    await runVirtual(async () => {
      const ev = new Event();
      const tasks = Array.from({ length: 100 }, () => createTask(() => ev.wait()));
      await tick();
      ev.set();
      for (const t of tasks) expect(await t).toBe(true);
      expect(ev._waiterCount()).toBe(0);
    });
  });
});
