import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  currentTask,
  ExceptionGroup,
  Future,
  InvalidStateError,
  isCancelled,
  run,
  sleep,
  Task,
  TaskGroup,
  Timeout,
  TimeoutError,
  time,
  timeout,
  timeoutAt,
  VirtualClock,
} from "../src/node.js";
import { thrown, virtualClock, ZeroDivisionError } from "./support.js";

class KeyError extends Error {}

describe("timeout / timeoutAt (spec §7)", () => {
  it("TO-01 basic expiry raises TimeoutError at the deadline; when() reports it", async () => {
    await run(async () => {
      let cm1: Timeout | undefined;
      const t0 = time();
      const e1 = await thrown(() =>
        timeout(0.01, async (cm) => {
          cm1 = cm;
          await sleep(10);
        }),
      );
      expect(e1).toBeInstanceOf(TimeoutError);
      expect(time() - t0).toBeCloseTo(0.01, 9);
      expect(cm1?.expired()).toBe(true);

      const deadline = time() + 0.01;
      let cm2: Timeout | undefined;
      const e2 = await thrown(() =>
        timeoutAt(deadline, async (cm) => {
          cm2 = cm;
          await sleep(10);
        }),
      );
      expect(e2).toBeInstanceOf(TimeoutError);
      expect(cm2?.expired()).toBe(true);
      expect(cm2?.when()).toBe(deadline);
      expect(time()).toBe(deadline);
    }, virtualClock);
  });

  it("TO-02 nested timeouts with the same deadline: only the outermost raises TimeoutError", async () => {
    await run(async () => {
      const task = currentTask() as Task;
      const d = time() + 0.1;
      let cancelled = false;
      let cm2: Timeout | undefined;
      const counts: number[] = [];
      const cm1 = new Timeout(d);
      const e = await thrown(() =>
        cm1.run(async () => {
          try {
            await timeoutAt(d, async (cm) => {
              cm2 = cm;
              await sleep(10);
            });
          } catch (err) {
            if (isCancelled(err)) {
              cancelled = true;
              counts.push(task.cancelling()); // inner uncancel() left 1: the outer's request
            }
            throw err;
          }
        }),
      );
      expect(cancelled).toBe(true);
      expect(counts).toEqual([1]);
      expect(e).toBeInstanceOf(TimeoutError);
      expect(cm1.expired()).toBe(true);
      expect(cm2?.expired()).toBe(true);
      expect(task.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("TO-03 the body sees CancelledError at its await", async () => {
    await run(async () => {
      let flag = false;
      const e = await thrown(() =>
        timeout(0.01, async () => {
          try {
            await sleep(10);
          } catch (err) {
            if (isCancelled(err)) flag = true;
            throw err;
          }
        }),
      );
      expect(flag).toBe(true);
      expect(e).toBeInstanceOf(TimeoutError);
    }, virtualClock);
  });

  it("TO-04 a deadline not reached, or disabled, raises nothing", async () => {
    await run(async () => {
      const a = new Timeout(time() + 10);
      await a.run(() => sleep(0.01));
      expect(a.expired()).toBe(false);
      expect(a.when()).toBeGreaterThan(time());

      let b: Timeout | undefined;
      const ok = await timeout(null, async (cm) => {
        b = cm;
        return await sleep(0.01, "ok");
      });
      expect(ok).toBe("ok");
      expect(b?.expired()).toBe(false);
      expect(b?.when()).toBeNull();

      let c: Timeout | undefined;
      await timeoutAt(null, async (cm) => {
        c = cm;
        await sleep(0.01);
      });
      expect(c?.expired()).toBe(false);
      expect(c?.when()).toBeNull();
    }, virtualClock);
  });

  it("TO-05 zero and past deadlines fire even around sleep(0)", async () => {
    await run(async () => {
      for (const [delay, nap] of [
        [0, 10],
        [0, 0],
        [-11, 0],
      ] as const) {
        const t0 = time();
        let cm: Timeout | undefined;
        const e = await thrown(() =>
          timeout(delay, async (c) => {
            cm = c;
            await sleep(nap);
          }),
        );
        const t1 = time();
        expect(e).toBeInstanceOf(TimeoutError);
        expect(cm?.expired()).toBe(true);
        if (delay === 0) {
          expect(cm?.when()).toBeGreaterThanOrEqual(t0);
          expect(cm?.when()).toBeLessThanOrEqual(t1);
        } else {
          expect(cm?.when()).toBeLessThanOrEqual(t0);
        }
      }
    }, virtualClock);
  });

  it("TO-05 (real clock) a zero timeout fires at the next await without waiting for a timer", async () => {
    await run(async () => {
      const e = await thrown(() => timeout(0, () => sleep(0)));
      expect(e).toBeInstanceOf(TimeoutError);
    });
  });

  it("TO-06 without expiry, errors and foreign cancels pass through unchanged", async () => {
    await run(async () => {
      const boom = new KeyError("k");
      let cm1: Timeout | undefined;
      const e1 = await thrown(() =>
        timeout(0.01, (cm) => {
          cm1 = cm;
          throw boom;
        }),
      );
      expect(e1).toBe(boom);
      expect(cm1?.expired()).toBe(false);

      const inner = new Timeout(time() + 10);
      const child = new Task(async () => {
        await inner.run(async () => {
          currentTask()?.cancel();
          await sleep(10);
        });
      });
      const e2 = await thrown(() => child.then());
      expect(e2).toBeInstanceOf(CancelledError);
      expect(e2).not.toBeInstanceOf(TimeoutError);
      expect(inner.expired()).toBe(false);
    }, virtualClock);
  });

  it("TO-07 the TimeoutError's cause is the CancelledError", async () => {
    await run(async () => {
      const e1 = await thrown(() => timeout(0, () => sleep(1)));
      expect(e1).toBeInstanceOf(TimeoutError);
      expect((e1 as Error).cause).toBeInstanceOf(CancelledError);

      // 2: try { 1/0 } finally { await sleep(1) } — the CancelledError replaces the error
      // thrown before it; JavaScript has no implicit context chain to link them.
      const e2 = await thrown(() =>
        timeout(0.01, async () => {
          try {
            throw new ZeroDivisionError();
          } finally {
            await sleep(1);
          }
        }),
      );
      expect(e2).toBeInstanceOf(TimeoutError);
      expect((e2 as Error).cause).toBeInstanceOf(CancelledError);
    }, virtualClock);
  });

  it("TO-08 another error raised during the timeout's cancellation wins", async () => {
    await run(async () => {
      const crash = async () => {
        try {
          await sleep(1);
        } finally {
          // biome-ignore lint/correctness/noUnsafeFinally: the case under test
          throw new ZeroDivisionError();
        }
      };
      const e1 = await thrown(() => timeout(0.01, () => crash()));
      expect(e1).toBeInstanceOf(ZeroDivisionError);
      // asyncio inserts a TimeoutError into the context chain; awaitress sets `context`.
      expect((e1 as { context?: unknown }).context).toBeInstanceOf(TimeoutError);
      expect(Object.keys(e1 as object)).not.toContain("context");

      const e2 = await thrown(() =>
        timeout(0.01, async () => {
          try {
            try {
              throw new RangeError("value");
            } finally {
              await sleep(1);
            }
          } finally {
            try {
              // biome-ignore lint/correctness/noUnsafeFinally: the case under test
              throw new KeyError();
            } finally {
              // biome-ignore lint/correctness/noUnsafeFinally: the case under test
              throw new ZeroDivisionError();
            }
          }
        }),
      );
      expect(e2).toBeInstanceOf(ZeroDivisionError);
      expect((e2 as { context?: unknown }).context).toBeInstanceOf(TimeoutError);
    }, virtualClock);
  });

  it("TO-09 the enclosing task finishes normally, not cancelled", async () => {
    await run(async () => {
      const task = new Task(async () => {
        try {
          await timeout(0.001, () => sleep(10));
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
        }
      });
      await task;
      expect(task.done()).toBe(true);
      expect(task.cancelled()).toBe(false);
      expect(task.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("TO-10 the outer deadline passes during a blocking section: the inner lets CancelledError through", async () => {
    const clock = new VirtualClock();
    await run(
      async () => {
        let innerSaw: unknown;
        const outer = await thrown(() =>
          timeout(0.002, async () => {
            try {
              await timeout(0.1, async () => {
                clock.advance(0.01); // a busy section: the loop cannot run meanwhile
                await sleep(1);
              });
            } catch (e) {
              innerSaw = e;
              throw e;
            }
          }),
        );
        expect(innerSaw).toBeInstanceOf(CancelledError);
        expect(innerSaw).not.toBeInstanceOf(TimeoutError);
        expect(outer).toBeInstanceOf(TimeoutError);
        expect(currentTask()?.cancelling()).toBe(0);
      },
      { clock },
    );
  });

  it("TO-11 both deadlines overdue after a busy loop: the outer raises TimeoutError", async () => {
    const clock = new VirtualClock();
    await run(
      async () => {
        const t0 = time();
        let innerSaw: unknown;
        const e = await thrown(() =>
          timeout(0.1, async () => {
            try {
              await timeout(0.01, async () => {
                clock.advance(0.1);
                await sleep(1);
              });
            } catch (err) {
              innerSaw = err;
              throw err;
            }
            await sleep(10);
          }),
        );
        expect(e).toBeInstanceOf(TimeoutError);
        // Two requests were pending (2 > 0 at the inner's exit): the inner propagates.
        expect(innerSaw).toBeInstanceOf(CancelledError);
        expect(time()).toBeLessThanOrEqual(t0 + 1);
        expect(currentTask()?.cancelling()).toBe(0);
      },
      { clock },
    );
  });

  it("TO-12 reschedule() moves or disables the deadline; an outside cancel stays CancelledError", async () => {
    await run(async () => {
      const ready = new Future<Timeout>();
      const d1 = time() + 10;
      const task = new Task(async () => {
        await timeoutAt(d1, async (cm) => {
          ready.setResult(cm);
          await sleep(50);
        });
      });
      const cm = await ready;
      expect(cm.when()).toBe(d1);
      cm.reschedule(d1 + 20);
      expect(cm.when()).toBe(d1 + 20);
      cm.reschedule(null);
      expect(cm.when()).toBeNull();
      await sleep(40); // past both earlier deadlines: nothing fires
      expect(task.done()).toBe(false);
      task.cancel();
      expect(await thrown(() => task.then())).toBeInstanceOf(CancelledError);
      expect(cm.expired()).toBe(false);
    }, virtualClock);
  });

  it("TO-13 a timeout inside the finally of an expired timeout", async () => {
    await run(async () => {
      let innerError: unknown;
      const outer = await thrown(() =>
        timeout(0.01, async () => {
          try {
            await sleep(1);
          } finally {
            try {
              await timeout(0.01, () => sleep(10));
            } catch (e) {
              innerError = e;
            }
          }
        }),
      );
      expect(innerError).toBeInstanceOf(TimeoutError);
      expect((innerError as Error).cause).toBeInstanceOf(CancelledError);
      expect(outer).toBeInstanceOf(TimeoutError);
      expect((outer as Error).cause).toBeInstanceOf(CancelledError);
      expect((outer as Error).cause).not.toBe((innerError as Error).cause);
      expect(time()).toBeCloseTo(0.02, 9);
    }, virtualClock);
  });

  it("TO-14 a timeout after a swallowed cancellation still works", async () => {
    await run(async () => {
      const task = currentTask() as Task;
      const e = await thrown(async () => {
        try {
          task.cancel();
          await sleep(1);
        } catch (err) {
          if (!isCancelled(err)) throw err;
        } finally {
          expect(task.cancelling()).toBe(1);
          await timeout(0, () => sleep(1));
        }
      });
      expect(e).toBeInstanceOf(TimeoutError);
      expect(task.cancelling()).toBe(1);
      task.uncancel();
    }, virtualClock);
  });

  it("TO-15 a real cancel inside that timeout is not converted", async () => {
    await run(async () => {
      const task = currentTask() as Task;
      const e = await thrown(async () => {
        try {
          task.cancel();
          await sleep(1);
        } catch (err) {
          if (!isCancelled(err)) throw err;
        } finally {
          await timeout(1, async () => {
            task.cancel();
            await sleep(2);
          });
        }
      });
      expect(e).toBeInstanceOf(CancelledError);
      expect(e).not.toBeInstanceOf(TimeoutError);
      task.uncancel();
      task.uncancel();
    }, virtualClock);
  });

  it("TO-16 a Timeout can be entered only once", async () => {
    await run(async () => {
      const cm = new Timeout(time() + 10);
      let nested: unknown;
      await cm.run(async () => {
        nested = await thrown(() => cm.run(() => 1));
      });
      expect(nested).toBeInstanceOf(InvalidStateError);
      expect((nested as Error).message).toMatch(/has already been entered/);
      const again = await thrown(() => cm.run(() => 1));
      expect(again).toBeInstanceOf(InvalidStateError);
      expect((again as Error).message).toMatch(/has already been entered/);
    }, virtualClock);
  });

  it("TO-17 reschedule() checks the state; a swallowed expiry does not raise", async () => {
    await run(async () => {
      const finished = new Timeout(time() + 10);
      await finished.run(() => sleep(0));
      expect(() => finished.reschedule(0.02)).toThrow(InvalidStateError);
      expect(() => finished.reschedule(0.02)).toThrow(/finished/);

      const expired = new Timeout(time() + 0.01);
      expect(await thrown(() => expired.run(() => sleep(10)))).toBeInstanceOf(TimeoutError);
      expect(() => expired.reschedule(0.02)).toThrow(/expired/);

      const expiring = new Timeout(time() + 0.01);
      let inside: unknown;
      const value = await expiring.run(async (cm) => {
        try {
          await sleep(10);
        } catch (e) {
          if (!isCancelled(e)) throw e;
        }
        try {
          cm.reschedule(0.02);
        } catch (e) {
          inside = e;
        }
        return "swallowed";
      });
      expect(inside).toBeInstanceOf(InvalidStateError);
      expect((inside as Error).message).toMatch(/expiring/);
      expect(value).toBe("swallowed");
      expect(expiring.expired()).toBe(true);
      expect(currentTask()?.cancelling()).toBe(0);

      expect(() => new Timeout(time() + 0.01).reschedule(0.02)).toThrow(/has not been entered/);
    }, virtualClock);
  });

  it("TO-17 (departs, issue 11) entered outside a task, the block runs as a task of the default loop; then the Timeout is finished", async () => {
    // asyncio raises RuntimeError: there, no async code runs outside a task. Plain async code
    // (an HTTP handler) is common in JavaScript, so the block gets a task of its own.
    const cm = new Timeout(null);
    let inside: string | undefined;
    expect(
      await cm.run(() => {
        inside = currentTask()?.getName();
        return 1;
      }),
    ).toBe(1);
    expect(inside).toBe("timeout block");
    expect(() => cm.reschedule(0.02)).toThrow(/finished/);
    const e = await thrown(() => cm.run(() => 1));
    expect(e).toBeInstanceOf(InvalidStateError);
    expect((e as Error).message).toMatch(/has already been entered/);
  });

  it("TO-18 a timeout around a TaskGroup whose child fails during cancellation keeps the group", async () => {
    await run(async () => {
      const zde = new ZeroDivisionError();
      const e = await thrown(() =>
        timeout(0.01, () =>
          new TaskGroup().run(async (tg) => {
            tg.createTask(async () => {
              try {
                await sleep(2);
              } finally {
                // biome-ignore lint/correctness/noUnsafeFinally: the case under test
                throw zde;
              }
            });
            try {
              throw new RangeError("superseded by the cancellation");
            } finally {
              await sleep(1);
            }
          }),
        ),
      );
      expect(e).toBeInstanceOf(ExceptionGroup);
      expect((e as ExceptionGroup).exceptions).toEqual([zde]);
      expect((e as { context?: unknown }).context).toBeInstanceOf(TimeoutError);
      expect((zde as { context?: unknown }).context).toBeInstanceOf(TimeoutError);
      expect(currentTask()?.cancelling()).toBe(0);
      await sleep(0); // nothing left pending
    }, virtualClock);
  });
});

describe("timeout: beyond the spec", () => {
  it("rejects bad delays and deadlines with TypeError / RangeError", async () => {
    await run(async () => {
      await expect(timeout(Number.NaN, () => 1)).rejects.toThrow(RangeError);
      await expect(timeout("1" as unknown as number, () => 1)).rejects.toThrow(TypeError);
      await expect(timeoutAt(Number.NaN, () => 1)).rejects.toThrow(RangeError);
      await expect(timeoutAt(undefined as unknown as number, () => 1)).rejects.toThrow(TypeError);
      await expect(timeout(1, "body" as unknown as () => number)).rejects.toThrow(TypeError);
      expect(() => new Timeout(Number.NaN)).toThrow(RangeError);
      expect(() => new Timeout("soon" as unknown as number)).toThrow(/Expected `when`/);
    }, virtualClock);
  });

  it("reschedule() validates its argument and can bring the deadline forward", async () => {
    await run(async () => {
      const e = await thrown(() =>
        timeout(100, async (cm) => {
          expect(() => cm.reschedule(Number.NaN)).toThrow(RangeError);
          await sleep(1);
          cm.reschedule(time() + 0.5);
          await sleep(10);
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(time()).toBe(1.5);
    }, virtualClock);
  });

  it("reschedule() to a time already past fires at the next await", async () => {
    await run(async () => {
      const e = await thrown(() =>
        timeout(100, async (cm) => {
          await sleep(1);
          cm.reschedule(0);
          await sleep(0);
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(time()).toBe(1);
    }, virtualClock);
  });

  it("returns the block's value and leaves no timer behind", async () => {
    const clock = new VirtualClock();
    await run(
      async () => {
        expect(await timeout(5, () => sleep(1, "v"))).toBe("v");
        expect(await timeout(5, () => 7)).toBe(7);
        expect(clock.pendingTimers).toBe(0);
      },
      { clock },
    );
  });

  it("a block whose result arrives at the instant of its deadline times out, as asyncio's _run_once fires both timers in one pass", async () => {
    await run(async () => {
      const done = sleep(1, "done"); // its timer comes before the timeout's
      const cm = new Timeout(time() + 1);
      // Both timers fire in one pass: the sleep completes, then the timeout cancels the task
      // before it resumes, so its resumption throws (asyncio's must-cancel) and becomes the
      // TimeoutError. The sleep's own result is still there.
      expect(await thrown(() => cm.run(() => done))).toBeInstanceOf(TimeoutError);
      expect(done.result()).toBe("done");
      expect(time()).toBe(1);
      expect(currentTask()?.cancelling()).toBe(0);
      expect(await sleep(1, "no cancellation left behind")).toBe("no cancellation left behind");
    }, virtualClock);
  });

  it("an Infinity deadline never fires", async () => {
    const clock = new VirtualClock();
    await run(
      async () => {
        const cm = new Timeout(Number.POSITIVE_INFINITY);
        expect(await cm.run(() => sleep(1e6, "ok"))).toBe("ok");
        expect(cm.expired()).toBe(false);
      },
      { clock },
    );
  });

  it("nested timeouts: the inner, shorter one converts; the outer is untouched", async () => {
    await run(async () => {
      let outer: Timeout | undefined;
      const result = await timeout(10, async (cm) => {
        outer = cm;
        try {
          await timeout(1, () => sleep(5));
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
        }
        return time();
      });
      expect(result).toBe(1);
      expect(outer?.expired()).toBe(false);
    }, virtualClock);
  });

  it("nested timeouts: the outer, shorter one fires through the inner", async () => {
    await run(async () => {
      let inner: Timeout | undefined;
      const e = await thrown(() =>
        timeout(1, () =>
          timeout(10, (cm) => {
            inner = cm;
            return sleep(5);
          }),
        ),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(inner?.expired()).toBe(false);
      expect(time()).toBe(1);
    }, virtualClock);
  });

  it("a block awaiting a foreign promise is interrupted at its next awaitress await", async () => {
    await run(async () => {
      const steps: string[] = [];
      const e = await thrown(() =>
        timeout(0.01, async () => {
          await new Promise<void>((resolve) => setTimeout(resolve, 5)); // real 5 ms
          steps.push("foreign promise settled");
          await sleep(0);
          steps.push("not reached");
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(steps).toEqual(["foreign promise settled"]);
    }, virtualClock);
  });

  it("the task's signal aborts on expiry, and a fresh one is handed out once the timeout is handled", async () => {
    await run(async () => {
      const task = currentTask() as Task;
      let during: AbortSignal | undefined;
      const e = await thrown(() =>
        timeout(1, async () => {
          during = task.signal;
          await sleep(10);
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(during?.aborted).toBe(true);
      expect(isCancelled(during?.reason)).toBe(true);
      // The cancellation was taken back: later foreign calls get a live signal.
      expect(task.cancelling()).toBe(0);
      expect(task.signal.aborted).toBe(false);
      expect(task.signal).not.toBe(during);
    }, virtualClock);
  });

  it("a timeout in a child task does not touch the parent", async () => {
    await run(async () => {
      const child = new Task(() => timeout(0.5, () => sleep(1)));
      const e = await thrown(() => child.then());
      expect(e).toBeInstanceOf(TimeoutError);
      expect(currentTask()?.cancelling()).toBe(0);
      expect(await sleep(1, "parent fine")).toBe("parent fine");
    }, virtualClock);
  });
});

describe("timeout: properties", () => {
  it("nested timeouts: the outermost of the earliest deadlines converts, deeper ones let CancelledError through", async () => {
    const arb = fc.record({
      delays: fc.array(fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }), { minLength: 1, maxLength: 5 }),
      work: fc.integer({ min: 1, max: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ delays, work }) => {
        await run(async () => {
          const rejected: unknown[] = delays.map(() => undefined);
          const level = async (i: number): Promise<string> => {
            if (i === delays.length) return sleep(work, "done");
            try {
              return await timeout(delays[i] ?? null, () => level(i + 1));
            } catch (e) {
              rejected[i] = e;
              throw e;
            }
          };
          let outcome: unknown;
          try {
            outcome = await level(0);
          } catch (e) {
            outcome = e;
          }
          const set = delays.filter((d): d is number => d !== null);
          const m = set.length > 0 ? Math.min(...set) : Number.POSITIVE_INFINITY;
          if (m > work) {
            expect(outcome).toBe("done");
            expect(time()).toBe(work);
          } else {
            const k = delays.indexOf(m);
            expect(outcome).toBeInstanceOf(TimeoutError);
            expect(time()).toBe(m);
            expect(rejected[k]).toBe(outcome);
            for (let i = k + 1; i < delays.length; i++) {
              expect(rejected[i]).toBeInstanceOf(CancelledError);
              expect(rejected[i]).not.toBeInstanceOf(TimeoutError);
            }
            for (let i = 0; i < k; i++) expect(rejected[i]).toBe(outcome);
          }
          expect(currentTask()?.cancelling()).toBe(0);
        }, virtualClock);
      }),
      { numRuns: 200 },
    );
  });
});
