import { describe, expect, it } from "vitest";
import { CancelledError, createTask, Future, gather, shield, sleep, Task, time } from "../src/node.js";
import { runVirtualCollectingErrors, thrown, tick } from "./support.js";

describe("shield (spec §5)", () => {
  it("SH-01 passes the inner result through", async () => {
    await runVirtualCollectingErrors(async () => {
      const inner = new Future<number>();
      const outer = shield(inner);
      expect(outer).not.toBe(inner);
      await tick();
      inner.setResult(42);
      await tick();
      expect(outer.result()).toBe(42);
      expect(await outer).toBe(42);
    });
  });

  it("SH-01 passes the inner error through, as the same object, retrieved once", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const inner = new Future<number>();
      const outer = shield(inner);
      await tick();
      const exc = new Error("inner failed");
      inner.setException(exc);
      await tick();
      expect(outer.exception()).toBe(exc);
    });
    expect(reported).toEqual([]);
  });

  it("SH-01 shield of a future already done returns it as it is", async () => {
    await runVirtualCollectingErrors(async () => {
      const f = new Future<number>();
      f.setResult(42);
      const outer = shield(f);
      expect(outer).toBe(f);
      expect(await outer).toBe(42);
    });
  });

  it("SH-02 cancelling the inner cancels the outer", async () => {
    await runVirtualCollectingErrors(async () => {
      const inner = new Future<number>();
      const outer = shield(inner);
      await tick();
      inner.cancel("inner stop");
      await tick();
      expect(outer.cancelled()).toBe(true);
      expect(((await thrown(outer)) as CancelledError).reason).toBe("inner stop");
    });
  });

  it("SH-03 cancelling the outer leaves the inner alone, and the outer stops listening", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const inner = new Future<number>();
      const outer = shield(inner);
      await tick();
      expect(outer.cancel()).toBe(true);
      await tick();
      expect(outer.cancelled()).toBe(true);
      expect(inner.cancelled()).toBe(false);
      expect(inner.done()).toBe(false);
      // White-box, as upstream: the inner keeps no listener of the cancelled outer.
      const slots = inner as unknown as { listener: unknown; listeners: unknown[] | undefined };
      expect(slots.listener).toBeUndefined();
      expect(slots.listeners ?? []).toHaveLength(0);
      // Completing the inner changes nothing for the outer.
      inner.setResult(1);
      await tick();
      expect(outer.cancelled()).toBe(true);
      expect(inner.result()).toBe(1);
    });
    expect(reported).toEqual([]);
  });

  it("SH-04 an inner result after the outer was cancelled is not reported", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const inner = new Future<number>();
      const outer = shield(inner);
      await tick();
      outer.cancel();
      inner.setResult(1);
      await tick();
    });
    expect(reported).toEqual([]);
  });

  it("SH-04 an inner error after the outer was cancelled is reported exactly once", async () => {
    const exc = new Error("foo");
    const reported = await runVirtualCollectingErrors(async () => {
      const inner = new Future<number>();
      const outer = shield(inner);
      await tick();
      outer.cancel();
      inner.setException(exc);
      await tick();
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.error).toBe(exc);
  });

  it("SH-04 two cancelled shields over the same failing inner: still reported exactly once", async () => {
    const exc = new Error("foo");
    const reported = await runVirtualCollectingErrors(async () => {
      const inner = new Future<number>();
      const outer1 = shield(inner);
      const outer2 = shield(inner);
      await tick();
      outer1.cancel();
      outer2.cancel();
      inner.setException(exc);
      await tick();
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.error).toBe(exc);
  });

  it("SH-04 a shielded task failing after its awaiter was cancelled is reported once, naming the task", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const outer = createTask(async () => {
        await shield(async () => {
          await sleep(1);
          throw new RangeError("late failure");
        });
      });
      await tick();
      outer.cancel();
      await thrown(outer);
      await sleep(2);
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.error).toBeInstanceOf(RangeError);
    expect(reported[0]?.task).toBeInstanceOf(Task);
  });

  it("SH-05 cancelling a task that awaits shield(fn) does not cancel fn's task", async () => {
    await runVirtualCollectingErrors(async () => {
      let proof = 0;
      const waiter = new Future<void>();
      const inner = async () => {
        await waiter;
        proof += 1;
      };
      const outer = createTask(async () => {
        await shield(inner);
        proof += 100;
      });
      await tick();
      outer.cancel();
      expect(await thrown(outer)).toBeInstanceOf(CancelledError);
      expect(outer.cancelled()).toBe(true);
      waiter.setResult();
      await tick();
      await tick();
      expect(proof).toBe(1);
    });
  });

  it("SH-05 the awaiting task gets CancelledError at once while the shielded sleep runs on", async () => {
    await runVirtualCollectingErrors(async () => {
      const inner = createTask(() => sleep(5, "done"));
      const outer = createTask(() => shield(inner));
      await sleep(1);
      outer.cancel();
      expect(await thrown(outer)).toBeInstanceOf(CancelledError);
      expect(time()).toBe(1);
      expect(await inner).toBe("done");
      expect(time()).toBe(5);
    });
  });

  it("SH-06 shield(gather(...)): cancelling the shield leaves the gather running", async () => {
    await runVirtualCollectingErrors(async () => {
      const child1 = new Future<number>();
      const child2 = new Future<number>();
      const parent = gather(child1, child2);
      const outer = shield(parent);
      await tick();
      outer.cancel();
      await tick();
      expect(outer.cancelled()).toBe(true);
      child1.setResult(1);
      child2.setResult(2);
      await tick();
      expect(parent.result()).toEqual([1, 2]);
    });
  });

  it("SH-07 gather(shield(a), shield(b)) cancelled: the shields are cancelled, the children are not", async () => {
    await runVirtualCollectingErrors(async () => {
      const child1 = new Future<number>();
      const child2 = new Future<number>();
      const shield1 = shield(child1);
      const shield2 = shield(child2);
      const parent = gather(shield1, shield2);
      await tick();
      expect(parent.cancel()).toBe(true);
      await tick();
      expect(parent.exception()).toBeInstanceOf(CancelledError);
      expect(shield1.cancelled()).toBe(true);
      expect(shield2.cancelled()).toBe(true);
      expect(child1.cancelled()).toBe(false);
      expect(child2.cancelled()).toBe(false);
      child1.setResult(1);
      child2.setResult(2);
      expect(child1.result()).toBe(1);
      expect(child2.result()).toBe(2);
    });
  });
});

describe("shield: arguments", () => {
  it("runs a function as a task and follows a promise", async () => {
    await runVirtualCollectingErrors(async () => {
      expect(await shield(() => sleep(1, "fn"))).toBe("fn");
      expect(await shield(Promise.resolve("promise"))).toBe("promise");
    });
  });

  it("throws TypeError for something that is not awaitable", async () => {
    await runVirtualCollectingErrors(async () => {
      expect(() => shield(42 as never)).toThrow(
        new TypeError(
          "Expected shield's argument to be a Task, a Future, a promise or a function that starts the work, got `42` (number)",
        ),
      );
    });
  });

  it("labels what the awaiting task waits on", async () => {
    await runVirtualCollectingErrors(async () => {
      const inner = createTask(() => sleep(1), { name: "save" });
      const outer = shield(inner);
      expect(outer._waitLabel()).toBe('shield(task "save")');
      await outer;
    });
  });
});
