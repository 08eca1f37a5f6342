import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  Future,
  getRunningLoop,
  InvalidStateError,
  Lock,
  run,
  type TraceEvent,
} from "../src/node.js";
import { runVirtual, settle, tick } from "./support.js";

describe("Lock: conformance (spec section 4)", () => {
  it("LK-01 await using acquires and releases", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      expect(lock.locked()).toBe(false);
      {
        await using _ = await lock.hold();
        expect(lock.locked()).toBe(true);
      }
      expect(lock.locked()).toBe(false);
    });
  });

  it("LK-02 FIFO acquisition; late arrivals cannot barge", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      const result: number[] = [];
      expect(await lock.acquire()).toBe(true);
      const c = (n: number) =>
        createTask(async () => {
          if (await lock.acquire()) result.push(n);
          return true;
        });
      const c1 = c(1);
      const c2 = c(2);
      await tick();
      expect(result).toEqual([]);
      lock.release();
      await settle();
      expect(result).toEqual([1]);
      await settle();
      expect(result).toEqual([1]); // c1 never releases
      const c3 = c(3); // its first step runs while c2 is woken but has not run
      lock.release();
      await settle();
      expect(result).toEqual([1, 2]);
      lock.release();
      await settle();
      expect(result).toEqual([1, 2, 3]);
      expect([await c1, await c2, await c3]).toEqual([true, true, true]);
    });
  });

  it("LK-02 a task arriving between release and the woken waiter's turn queues behind it", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      const order: string[] = [];
      await lock.acquire();
      const waiter = createTask(async () => {
        await lock.acquire();
        order.push("waiter");
        lock.release();
      });
      await tick();
      lock.release(); // wakes `waiter`; the lock is free until it runs
      expect(lock.locked()).toBe(false);
      const late = createTask(async () => {
        await lock.acquire(); // must not take the free lock ahead of `waiter`
        order.push("late");
        lock.release();
      });
      await waiter;
      await late;
      expect(order).toEqual(["waiter", "late"]);
    });
  });

  it("LK-03 cancelled acquire leaves no waiter behind", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      const t = createTask(() => lock.acquire());
      getRunningLoop().callSoon(() => t.cancel(), undefined);
      await expect(t).rejects.toBeInstanceOf(CancelledError);
      expect(lock._waiterCount()).toBe(0);
      expect(lock.locked()).toBe(true);
    });
  });

  it("LK-04 cancel of the head waiter racing with release", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      const fa = new Future<void>();
      const a = createTask(async () => {
        await lock.acquire();
        try {
          await fa;
        } finally {
          lock.release();
        }
      });
      await tick();
      expect(lock.locked()).toBe(true);
      const user = () =>
        createTask(async () => {
          await lock.acquire();
          lock.release();
          return "ok";
        });
      const b = user();
      await tick();
      expect(lock._waiterCount()).toBe(1);
      const c = user();
      await tick();
      expect(lock._waiterCount()).toBe(2);
      fa.setResult(undefined);
      b.cancel();
      await settle();
      expect(a.done()).toBe(true);
      expect(b.cancelled()).toBe(true);
      expect(await c).toBe("ok");
      expect(lock.locked()).toBe(false);
      expect(lock._waiterCount()).toBe(0);
    });
  });

  it("LK-05 cancel + release in the same callback wakes exactly one task", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      let callCount = 0;
      let lockCount = 0;
      await lock.acquire();
      const make = () =>
        createTask(async () => {
          callCount++;
          await lock.acquire();
          lockCount++;
        });
      const t1 = make();
      const t2 = make();
      const t3 = make();
      await tick();
      getRunningLoop().callSoon(() => {
        t1.cancel();
        lock.release();
      }, undefined);
      await expect(t1).rejects.toBeInstanceOf(CancelledError);
      await settle();
      expect(lockCount).toBe(1);
      expect(callCount).toBe(3);
      expect(t1.cancelled()).toBe(true);
      expect(t2.done()).toBe(true);
      expect(lock.locked()).toBe(true);
      expect(t3.done()).toBe(false);
      t3.cancel();
      await expect(t3).rejects.toBeInstanceOf(CancelledError);
      expect(t3.cancelled()).toBe(true);
    });
  });

  it("LK-06 cancelled head waiter + new arrival: the lock is not left idle", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      const tb = createTask(() => lock.acquire());
      await tick();
      expect(lock._waiterCount()).toBe(1);
      const tc = createTask(() => lock.acquire());
      tb.cancel();
      lock.release();
      await settle();
      expect(lock.locked()).toBe(true);
      expect(tb.cancelled()).toBe(true);
      expect(await tc).toBe(true);
    });
  });

  it("LK-07 release() preconditions", async () => {
    await runVirtual(async () => {
      expect(() => new Lock().release()).toThrow(InvalidStateError);
      expect(() => new Lock().release()).toThrow("Lock.release() called on an unlocked lock");
      const lock = new Lock();
      await lock.acquire();
      expect(lock.locked()).toBe(true);
      lock.release();
      expect(lock.locked()).toBe(false);
    });
  });
});

describe("Lock: beyond asyncio", () => {
  it("a woken waiter cancelled before it runs hands the lock to the next waiter", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      const first = createTask(() => lock.acquire());
      const second = createTask(() => lock.acquire());
      await tick();
      lock.release(); // wakes `first`
      first.cancel(); // before it runs: it must not keep the lock
      await expect(first).rejects.toBeInstanceOf(CancelledError);
      expect(await second).toBe(true);
      expect(lock.locked()).toBe(true);
      expect(lock._waiterCount()).toBe(0);
    });
  });

  it("hold() releases when the block throws; disposing twice releases once", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await expect(
        (async () => {
          await using _ = await lock.hold();
          throw new Error("boom");
        })(),
      ).rejects.toThrow("boom");
      expect(lock.locked()).toBe(false);

      const held = await lock.hold();
      held.release();
      held[Symbol.dispose]();
      await held[Symbol.asyncDispose]();
      expect(lock.locked()).toBe(false);
      {
        using _sync = await lock.hold();
        expect(lock.locked()).toBe(true);
      }
      expect(lock.locked()).toBe(false);
    });
  });

  it("the lock itself is async-disposable: await using after acquire() releases", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      {
        await lock.acquire();
        await using _ = lock;
        expect(lock.locked()).toBe(true);
      }
      expect(lock.locked()).toBe(false);
    });
  });

  it("labels the wait 'lock.acquire <name>' in traces", async () => {
    const events: TraceEvent[] = [];
    await run(
      async () => {
        const lock = new Lock({ name: "db" });
        await lock.acquire();
        const t = createTask(() => lock.acquire());
        await tick();
        lock.release();
        await t;
      },
      { clock: "virtual", trace: { event: (e) => events.push(e) } },
    );
    expect(events.some((e) => e.type === "task-suspended" && e.on === "lock.acquire db")).toBe(true);
  });
});
