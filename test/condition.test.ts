import { describe, expect, it } from "vitest";
import {
  CancelledError,
  Condition,
  createTask,
  getRunningLoop,
  InvalidStateError,
  Lock,
  TimeoutError,
  timeout,
  waitFor,
} from "../src/node.js";
import { runVirtual, settle, tick } from "./support.js";

describe("Condition: conformance (spec section 4)", () => {
  it("CD-01 wait/notify hand-off through the underlying lock", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      const result: number[] = [];
      const c = (n: number) =>
        createTask(async () => {
          await cond.acquire();
          if (await cond.wait()) result.push(n); // keeps the lock
          return true;
        });
      const tasks = [c(1), c(2), c(3)];
      await settle(6);
      expect(result).toEqual([]);
      expect(cond.locked()).toBe(false); // the waiters released it

      expect(await cond.acquire()).toBe(true);
      cond.notify();
      await settle(6);
      expect(result).toEqual([]); // c1 woken but blocked re-acquiring
      expect(cond.locked()).toBe(true);

      cond.release();
      await settle(6);
      expect(result).toEqual([1]);
      expect(cond.locked()).toBe(true); // c1 holds it

      cond.notify(2); // legal: locked() is true, whoever holds it
      await settle(6);
      expect(result).toEqual([1]);

      cond.release();
      await settle(6);
      expect(result).toEqual([1, 2]);
      cond.release();
      await settle(6);
      expect(result).toEqual([1, 2, 3]);
      expect(cond.locked()).toBe(true);
      for (const t of tasks) expect(await t).toBe(true);
    });
  });

  it("CD-02 cancelled wait still re-acquires the lock", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      await cond.acquire();
      const w = createTask(() => cond.wait());
      getRunningLoop().callSoon(() => w.cancel(), undefined);
      await expect(w).rejects.toBeInstanceOf(CancelledError);
      expect(cond._waiterCount()).toBe(0);
      expect(cond.locked()).toBe(true);
    });
  });

  it("CD-03 notify + cancel + release racing: the waiter ends holding the lock", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      await cond.acquire();
      const w = createTask(() => cond.wait());
      await settle(6);
      expect(cond.locked()).toBe(false);
      await cond.acquire();
      cond.notify();
      const loop = getRunningLoop();
      loop.callSoon(() => w.cancel(), undefined);
      loop.callSoon(() => cond.release(), undefined);
      try {
        await w;
      } catch (e) {
        expect(e).toBeInstanceOf(CancelledError);
      }
      expect(cond.locked()).toBe(true);
    });
  });

  it("CD-04 cancel while re-acquiring after notify: the task ends cancelled, no deadlock", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      let waited = false;
      const w = createTask(async () => {
        await using _ = await cond.hold();
        waited = true;
        await cond.wait();
      });
      await settle(6);
      await cond.acquire();
      cond.notify();
      await settle(6); // w is blocked on the lock
      w.cancel();
      await tick();
      cond.release();
      await settle(6);
      expect(w.cancelled()).toBe(true);
      expect(waited).toBe(true);
      expect(cond.locked()).toBe(false); // w re-acquired, then its `await using` released
    });
  });

  it("CD-05 lock-ownership preconditions", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      await expect(cond.wait()).rejects.toBeInstanceOf(InvalidStateError);
      expect(await cond.waitFor(() => [1, 2, 3])).toEqual([1, 2, 3]);
      await expect(cond.waitFor(() => false)).rejects.toBeInstanceOf(InvalidStateError);
      expect(() => cond.notify()).toThrow(InvalidStateError);
      expect(() => cond.notifyAll()).toThrow(InvalidStateError);
      expect(() => cond.notify()).toThrow("Condition.notify() called without holding its lock");
    });
  });

  it("CD-06 waitFor re-checks the predicate after each notify", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      const result: number[] = [];
      let presult = false;
      const c1 = createTask(async () => {
        await cond.acquire();
        if (await cond.waitFor(() => presult)) result.push(1);
        cond.release();
        return true;
      });
      await settle(6);
      expect(result).toEqual([]);
      await cond.acquire();
      cond.notify();
      cond.release();
      await settle(6);
      expect(result).toEqual([]);
      presult = true;
      await cond.acquire();
      cond.notify();
      cond.release();
      await settle(6);
      expect(result).toEqual([1]);
      expect(await c1).toBe(true);
    });
  });

  it("CD-07 notify(n) wakes at most n, FIFO; counts only live waiters", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      const result: number[] = [];
      const c = (n: number) =>
        createTask(async () => {
          await cond.acquire();
          if (await cond.wait()) result.push(n);
          cond.release();
        });
      const tasks = [c(1), c(2), c(3)];
      await settle(6);
      await cond.acquire();
      cond.notify(1);
      cond.release();
      await settle(6);
      expect(result).toEqual([1]);
      await cond.acquire();
      cond.notify(1);
      cond.notify(2048);
      cond.release();
      await settle(6);
      expect(result).toEqual([1, 2, 3]);
      for (const t of tasks) await t;
    });
  });

  it("CD-08 notifyAll", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      const result: number[] = [];
      const c = (n: number) =>
        createTask(async () => {
          await cond.acquire();
          if (await cond.wait()) result.push(n);
          cond.release();
        });
      c(1);
      c(2);
      await settle(6);
      await cond.acquire();
      cond.notifyAll();
      cond.release();
      await settle(6);
      expect(result).toEqual([1, 2]);
    });
  });

  it("CD-09 await using, and a shared explicit lock", async () => {
    await runVirtual(async () => {
      const shared = new Lock();
      const cases: Array<[Condition, Lock]> = [];
      const own = new Condition();
      cases.push([own, own.lock]);
      const explicit = new Lock();
      cases.push([new Condition(explicit), explicit]);
      cases.push([new Condition(shared), shared]);
      cases.push([new Condition(shared), shared]);
      for (const [cond, lock] of cases) {
        expect(cond.locked()).toBe(false);
        {
          await using _ = await cond.hold();
          expect(cond.locked()).toBe(true);
          expect(lock.locked()).toBe(true);
        }
        expect(cond.locked()).toBe(false);
        {
          await using _ = await lock.hold();
          expect(cond.locked()).toBe(true);
        }
        expect(cond.locked()).toBe(lock.locked());
      }
      expect(() => new Condition({} as Lock)).toThrow(TypeError);
    });
  });

  it("CD-10 a timed-out wait inside the block leaves the lock held for the block's exit", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      {
        await using _ = await cond.hold();
        await expect(waitFor(() => cond.wait(), 0.5)).rejects.toBeInstanceOf(TimeoutError);
        expect(cond.locked()).toBe(true);
      } // releasing here must not throw
      expect(cond.locked()).toBe(false);
    });
  });

  for (const phase of ["wake-up", "re-acquire"] as const) {
    it(`CD-11 the same CancelledError instance propagates (${phase} phase)`, async () => {
      await runVirtual(async () => {
        const cond = new Condition();
        let wake = false;
        let raised: unknown;
        const f = createTask(async () => {
          await using _ = await cond.hold();
          try {
            await cond.waitFor(() => wake);
          } catch (e) {
            raised = e;
            throw e;
          }
        });
        await settle(6);
        if (phase === "wake-up") {
          f.cancel("foo");
        } else {
          await cond.acquire();
          wake = true;
          cond.notify();
          await settle(6); // f now waits to re-acquire the lock
          f.cancel("foo");
          cond.release();
        }
        let error: unknown;
        try {
          await f;
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(CancelledError);
        expect((error as CancelledError).reason).toBe("foo");
        expect(error).toBe(raised);
      });
    });
  }

  for (const relock of [false, true]) {
    it(`CD-12 a cancel racing with notify must not lose the notification${relock ? " (relock)" : ""}`, async () => {
      await runVirtual(async () => {
        const cond = new Condition();
        let state = 0;
        const consumer = () =>
          createTask(async () => {
            await using _ = await cond.hold();
            for (;;) {
              await cond.waitFor(() => state !== 0);
              if (state < 0) return "done";
              state -= 1;
            }
          });
        const c0 = consumer();
        const c1 = consumer();
        await settle(6);
        {
          await using _ = await cond.hold();
          state += 1;
          cond.notify(1); // wakes c0
          if (relock) await tick(); // c0 now blocks re-acquiring the lock
          c0.cancel();
          try {
            await timeout(0.01, () => cond.waitFor(() => state === 0));
          } catch (e) {
            if (!(e instanceof TimeoutError)) throw e;
          }
          expect(state).toBe(0); // c1 got the notification c0 passed on
          state = -1;
          cond.notifyAll();
        }
        expect(await c1).toBe("done");
        await expect(c0).rejects.toBeInstanceOf(CancelledError);
      });
    });
  }
});

describe("Condition: beyond asyncio", () => {
  it("validates notify's argument", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      await cond.acquire();
      expect(() => cond.notify("2" as unknown as number)).toThrow(TypeError);
      await expect(cond.waitFor(3 as unknown as () => boolean)).rejects.toBeInstanceOf(TypeError);
      cond.notify(0);
      cond.release();
    });
  });

  it("the condition itself is async-disposable after acquire()", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      {
        await cond.acquire();
        await using _ = cond;
        expect(cond.locked()).toBe(true);
      }
      expect(cond.locked()).toBe(false);
    });
  });
});
