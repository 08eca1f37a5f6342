import { describe, expect, it } from "vitest";
import { Barrier, BrokenBarrierError, CancelledError, createTask, run, type Task } from "../src/node.js";
import { runVirtual, settle, tick } from "./support.js";

/** Runs `n` copies of `fn` as tasks and waits for all (asyncio's gather). */
async function gatherN<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
  const tasks = Array.from({ length: n }, () => createTask(fn));
  const out: T[] = [];
  for (const t of tasks) out.push(await t);
  return out;
}

const N = 5;

describe("Barrier: conformance (spec section 4)", () => {
  it("BR-01 parties validation", () => {
    expect(() => new Barrier(0)).toThrow(RangeError);
    expect(() => new Barrier(-4)).toThrow(RangeError);
    expect(() => new Barrier(-4)).toThrow("Expected `parties` to be a positive integer, got `-4` (number)");
    expect(() => new Barrier(1.5)).toThrow(RangeError);
    expect(() => new Barrier("3" as unknown as number)).toThrow(TypeError);
    expect(new Barrier(5).parties).toBe(5);
  });

  it("BR-02 wait() returns distinct indices 0..N-1", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(3);
      const results = await gatherN(3, () => barrier.wait());
      expect([...results].sort()).toEqual([0, 1, 2]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    });
  });

  it("BR-03 Barrier(1) passes immediately", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(1);
      expect(await barrier.wait()).toBe(0);
      const t1 = createTask(() => barrier.wait());
      await settle(8);
      expect(barrier.nWaiting).toBe(0);
      const t2 = createTask(() => barrier.wait());
      await settle(8);
      expect(t1.done() && t2.done()).toBe(true);
      expect(t1.result()).toBe(t2.result());
      expect(t1.result()).toBe(0);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    });
  });

  it("BR-04 nWaiting counts while filling", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(3);
      const t1 = createTask(() => barrier.wait());
      await settle(8);
      expect(barrier.nWaiting).toBe(1);
      expect(barrier._state).toBe("filling");
      const t2 = createTask(() => barrier.wait());
      await settle(8);
      expect(barrier.nWaiting).toBe(2);
      expect(barrier._state).toBe("filling");
      const t3 = createTask(() => barrier.wait());
      await tick();
      for (const t of [t1, t2, t3]) await t;
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    });
  });

  it("BR-05 the barrier is reusable (cyclic)", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      await gatherN(N, async () => {
        await barrier.wait();
        results.push(true);
        await barrier.wait();
        results.push(false);
      });
      expect(results.length).toBe(2 * N);
      expect(results.filter((r) => r).length).toBe(N);
      expect(results.slice(0, N).every((r) => r)).toBe(true);
      expect(barrier.nWaiting).toBe(0);
    });
  });

  it("BR-06 indices are re-issued on every cycle", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const indices = await gatherN(N, async () => {
        await barrier.wait();
        return barrier.wait();
      });
      expect([...indices].sort()).toEqual([0, 1, 2, 3, 4]);
    });
  });

  it("BR-07 draining state is visible to released tasks until the last one leaves", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      await gatherN(N, async () => {
        await barrier.wait();
        results.push(barrier._state === "draining");
      });
      expect(results).toEqual([true, true, true, true, false]);
    });
  });

  it("BR-08 arrivals during draining block until draining ends", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const b2 = new Barrier(3);
      let count = 0;
      const done = await gatherN(N, async () => {
        await barrier.wait();
        count++;
        if (count <= 2) {
          await barrier.wait();
        } else {
          await b2.wait();
          await barrier.wait();
        }
        return true;
      });
      expect(done).toEqual([true, true, true, true, true]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    });
  });

  it("BR-09 a cancelled waiter leaves the count", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(3);
      const t1 = createTask(() => barrier.wait());
      await settle(8);
      expect(barrier.nWaiting).toBe(1);
      const t2 = createTask(() => barrier.wait());
      await settle(8);
      expect(barrier.nWaiting).toBe(2);
      t1.cancel();
      await settle(8);
      expect(barrier.nWaiting).toBe(1);
      await expect(t1).rejects.toBeInstanceOf(CancelledError);
      const t3 = createTask(() => barrier.wait());
      await settle(8);
      expect(barrier.nWaiting).toBe(2);
      const t4 = createTask(() => barrier.wait());
      const passed = [await t2, await t3, await t4];
      // Indices are arrival positions among the tasks inside: t1 left, so t3 took index 1 again.
      expect(passed).toEqual([1, 1, 2]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    });
  });

  it("BR-10 reset()/abort() with nobody waiting", async () => {
    await runVirtual(async () => {
      const b1 = new Barrier(1);
      await b1.reset();
      expect(b1.nWaiting).toBe(0);
      expect(b1.broken).toBe(false);
      const b2 = new Barrier(1);
      await b2.abort();
      expect(b2.broken).toBe(true);
      expect(b2.nWaiting).toBe(0);
      await expect(b2.wait()).rejects.toBeInstanceOf(BrokenBarrierError);
    });
  });

  it("BR-11 reset() while tasks wait: each gets BrokenBarrierError; the barrier is usable again", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const tasks = Array.from({ length: N - 1 }, () =>
        createTask(async () => {
          try {
            await barrier.wait();
            return "passed";
          } catch (e) {
            if (e instanceof BrokenBarrierError) return "broken";
            throw e;
          }
        }),
      );
      await settle(8);
      createTask(() => barrier.reset());
      const results: string[] = [];
      for (const t of tasks) results.push(await t);
      expect(results).toEqual(["broken", "broken", "broken", "broken"]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier._state).toBe("filling");
      expect(barrier.broken).toBe(false);
      expect(await gatherN(N, () => barrier.wait()).then((r) => r.sort())).toEqual([0, 1, 2, 3, 4]);
    });
  });

  it("BR-12 reset() while some released tasks are still draining (a)", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const rest = Math.floor(N / 2);
      await gatherN(N, async () => {
        try {
          await barrier.wait();
        } catch (e) {
          if (!(e instanceof BrokenBarrierError)) throw e;
          results1.push(true);
          return;
        }
        // Out of the barrier; `rest` tasks are still inside, draining.
        if (barrier._count === rest) await barrier.reset();
      });
      expect(results1).toEqual([true, true]);
      expect(barrier.nWaiting).toBe(0);
      expect(["draining", "resetting"]).not.toContain(barrier._state);
      expect(barrier.broken).toBe(false);
    });
  });

  it("BR-12 reset() while some released tasks are still draining, half blocking (b)", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blocking = Math.floor(N / 2);
      let count = 0;
      await gatherN(N, async () => {
        try {
          await barrier.wait();
        } catch (e) {
          if (!(e instanceof BrokenBarrierError)) throw e;
          results1.push(true); // caught while draining
          await barrier.wait();
          return;
        }
        count++;
        if (count > blocking) {
          await barrier.reset(); // tasks still draining get BrokenBarrierError
          await barrier.wait();
        } else {
          try {
            await barrier.wait(); // blocked until the reset completes: no error here
          } catch (e) {
            if (!(e instanceof BrokenBarrierError)) throw e;
            results2.push(true);
          }
        }
      });
      expect(results1).toEqual([true, true]);
      expect(results2).toEqual([]);
      expect(barrier.nWaiting).toBe(0);
      expect(["draining", "resetting"]).not.toContain(barrier._state);
      expect(barrier.broken).toBe(false);
    });
  });

  it("BR-13 reset() followed by everyone waiting again (a)", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const tasks: Task<void>[] = Array.from({ length: N - 1 }, () =>
        createTask(async () => {
          try {
            await barrier.wait();
          } catch (e) {
            if (!(e instanceof BrokenBarrierError)) throw e;
            results1.push(true);
          } finally {
            await barrier.wait();
            results2.push(true);
          }
        }),
      );
      await settle(8);
      createTask(() => barrier.reset());
      await tick();
      const last = createTask(async () => {
        await barrier.wait();
        results2.push(true);
      });
      for (const t of tasks) await t;
      await last;
      expect(barrier.broken).toBe(false);
      expect(results1.length).toBe(N - 1);
      expect(results2.length).toBe(N);
      expect(barrier.nWaiting).toBe(0);
    });
  });

  it("BR-13 reset() by the last task out, then everyone waits twice more (b)", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      let count = 0;
      await gatherN(N, async () => {
        await barrier.wait();
        count++;
        if (count === N) {
          await barrier.reset(); // nobody inside: straight back to filling
          await barrier.wait();
        } else {
          try {
            await barrier.wait();
            results1.push(true);
          } catch {
            results2.push(true);
          }
        }
        await barrier.wait();
        results3.push(true);
      });
      expect(barrier.broken).toBe(false);
      expect(results1.length).toBe(N - 1);
      expect(results2.length).toBe(0);
      expect(results3.length).toBe(N);
      expect(barrier.nWaiting).toBe(0);
    });
  });

  it("BR-14 abort() mid-cycle", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blocking = Math.floor(N / 2);
      let count = 0;
      await gatherN(N, async () => {
        try {
          await barrier.wait();
        } catch (e) {
          if (!(e instanceof BrokenBarrierError)) throw e;
          results1.push(true); // still inside the first wait
          return;
        }
        count++;
        if (count > blocking) {
          await barrier.abort();
        } else {
          try {
            await barrier.wait();
          } catch (e) {
            if (!(e instanceof BrokenBarrierError)) throw e;
            results2.push(true); // re-waiters
          }
        }
      });
      expect(barrier.broken).toBe(true);
      expect(results1).toEqual([true, true]);
      expect(results2).toEqual([true, true]);
      expect(barrier.nWaiting).toBe(0);
      expect(["draining", "resetting"]).not.toContain(barrier._state);
    });
  });

  it("BR-15 abort() on an error inside the barrier body", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      await gatherN(N, async () => {
        try {
          const i = await barrier.wait();
          if (i === Math.floor(N / 2)) throw new RangeError("boom");
          await barrier.wait();
          results1.push(true);
        } catch (e) {
          if (e instanceof BrokenBarrierError) results2.push(true);
          else if (e instanceof RangeError) await barrier.abort();
          else throw e;
        }
      });
      expect(barrier.broken).toBe(true);
      expect(results1.length).toBe(0);
      expect(results2.length).toBe(N - 1);
      expect(barrier.nWaiting).toBe(0);
    });
  });

  it("BR-16 abort() then reset() makes the barrier usable again", async () => {
    await runVirtual(async () => {
      const barrier1 = new Barrier(N);
      const barrier2 = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      await gatherN(N, async () => {
        try {
          const i = await barrier1.wait();
          if (i === Math.floor(N / 2)) throw new RangeError("boom");
          await barrier1.wait();
          results1.push(true);
        } catch (e) {
          if (e instanceof BrokenBarrierError) results2.push(true);
          else if (e instanceof RangeError) await barrier1.abort();
          else throw e;
        }
        // Everyone has left barrier1 before the reset, and nobody enters it before the reset ends.
        const i = await barrier2.wait();
        if (i === Math.floor(N / 2)) await barrier1.reset();
        await barrier2.wait();
        await barrier1.wait();
        results3.push(true);
      });
      expect(barrier1.broken).toBe(false);
      expect(results1.length).toBe(0);
      expect(results2.length).toBe(N - 1);
      expect(results3.length).toBe(N);
      expect(barrier1.nWaiting).toBe(0);
    });
  });
});

describe("Barrier: beyond asyncio", () => {
  it("labels waits 'barrier.wait <name>' and describes itself", async () => {
    const labels: string[] = [];
    await run(
      async () => {
        const barrier = new Barrier(2, { name: "start" });
        const t = createTask(() => barrier.wait());
        await settle(8);
        expect(String(barrier)).toBe("Barrier(filling, waiting=1/2)");
        await barrier.wait();
        await t;
      },
      {
        clock: "virtual",
        trace: {
          event: (e) => {
            if (e.type === "task-suspended") labels.push(e.on);
          },
        },
      },
    );
    expect(labels).toContain("barrier.wait start");
  });
});
