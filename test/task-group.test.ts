import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  currentTask,
  ExceptionGroup,
  Future,
  InvalidStateError,
  isCancelled,
  run,
  sleep,
  type Task,
  TaskGroup,
  TimeoutError,
  taskGroup,
  time,
  timeout,
} from "../src/node.js";
import { thrown, virtualClock, ZeroDivisionError } from "./support.js";

class MyExc extends Error {}
class CustomException extends Error {}

/** The set of error classes in a group, as upstream's get_error_types. */
function errorTypes(e: unknown): Set<unknown> {
  expect(e).toBeInstanceOf(ExceptionGroup);
  return new Set((e as ExceptionGroup).exceptions.map((x) => (x as object).constructor));
}

function zeroDivision(): never {
  throw new ZeroDivisionError("division by zero");
}

describe("TaskGroup (spec §6)", () => {
  it("TG-01 exit waits for all children", async () => {
    await run(async () => {
      let t1: Task<number> | undefined;
      let t2: Task<number> | undefined;
      await taskGroup((g) => {
        t1 = g.createTask(() => sleep(0.1, 42));
        t2 = g.createTask(() => sleep(0.2, 11));
      });
      expect(t1?.result()).toBe(42);
      expect(t2?.result()).toBe(11);
      expect(time()).toBeCloseTo(0.2, 9);
    }, virtualClock);
  });

  it("TG-02 children created later in the body", async () => {
    await run(async () => {
      let t1: Task<number> | undefined;
      let t2: Task<number> | undefined;
      await taskGroup(async (g) => {
        t1 = g.createTask(() => sleep(0.1, 42));
        await sleep(0.15);
        t2 = g.createTask(() => sleep(0.2, 11));
      });
      expect(t1?.result()).toBe(42);
      expect(t2?.result()).toBe(11);
    }, virtualClock);
  });

  it("TG-03 an explicitly cancelled child is not an error", async () => {
    await run(async () => {
      let t1: Task<number> | undefined;
      let t2: Task<number> | undefined;
      await taskGroup(async (g) => {
        t1 = g.createTask(() => sleep(1, 42));
        await sleep(0.15);
        t1.cancel();
        t2 = g.createTask(() => sleep(0.2, 11));
      });
      expect(t1?.cancelled()).toBe(true);
      expect(t2?.result()).toBe(11);
    }, virtualClock);
  });

  it("TG-04 a child error gives an ExceptionGroup, cancels siblings and skips the code after the block", async () => {
    await run(async () => {
      let NUM = 0;
      let t2Cancel = false;
      let t2: Task<void> | undefined;
      const runner = createTask(async () => {
        await taskGroup((g) => {
          g.createTask(async () => {
            await sleep(0.1);
            zeroDivision();
          });
          t2 = g.createTask(async () => {
            try {
              await sleep(1);
            } catch (e) {
              if (isCancelled(e)) t2Cancel = true;
              throw e;
            }
            NUM += 1;
          });
        });
        NUM += 10;
      });
      const e = await thrown(() => runner);
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
      expect(NUM).toBe(0);
      expect(t2Cancel).toBe(true);
      expect(t2?.cancelled()).toBe(true);
    }, virtualClock);
  });

  it("TG-05 a child error also cancels the body's pending await", async () => {
    await run(async () => {
      let NUM = 0;
      let t2Cancel = false;
      let runnerCancel = false;
      const foo1 = async () => {
        await sleep(0.1);
        zeroDivision();
      };
      const runner = createTask(async () => {
        await taskGroup(async (g) => {
          g.createTask(foo1);
          g.createTask(foo1);
          g.createTask(foo1);
          g.createTask(async () => {
            try {
              await sleep(5);
            } catch (e) {
              if (isCancelled(e)) t2Cancel = true;
              throw e;
            }
            NUM += 1;
          });
          try {
            await sleep(10);
          } catch (e) {
            if (isCancelled(e)) runnerCancel = true;
            throw e;
          }
        });
        NUM += 10;
      });
      const e = await thrown(() => runner);
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
      const n = (e as ExceptionGroup).exceptions.length;
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(3);
      expect(NUM).toBe(0);
      expect(t2Cancel).toBe(true);
      expect(runnerCancel).toBe(true);
      expect(runner.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("TG-06 external cancel while the group waits at exit propagates CancelledError", async () => {
    await run(async () => {
      let NUM = 0;
      const foo = async () => {
        try {
          await sleep(5);
        } catch (e) {
          if (isCancelled(e)) NUM += 1;
          throw e;
        }
      };
      const r = createTask(() =>
        taskGroup((g) => {
          for (let i = 0; i < 5; i++) g.createTask(foo);
        }),
      );
      await sleep(0.1);
      expect(r.done()).toBe(false);
      r.cancel();
      const e = await thrown(() => r);
      expect(e).toBeInstanceOf(CancelledError);
      expect(e).not.toBeInstanceOf(ExceptionGroup);
      expect(NUM).toBe(5);

      // test_taskgroup_22: children of 1 s and 2 s, cancelled at 0.05
      const r2 = createTask(() =>
        taskGroup((g) => {
          g.createTask(() => sleep(1, 42));
          g.createTask(() => sleep(2, 11));
        }),
      );
      await sleep(0.05);
      r2.cancel();
      expect(await thrown(() => r2)).toBeInstanceOf(CancelledError);
      expect(r2.cancelled()).toBe(true);
    }, virtualClock);
  });

  it("TG-07 external cancel while the body is awaiting propagates CancelledError", async () => {
    await run(async () => {
      for (const children of [5, 0]) {
        let NUM = 0;
        const r = createTask(() =>
          taskGroup(async (g) => {
            for (let i = 0; i < children; i++) {
              g.createTask(async () => {
                try {
                  await sleep(5);
                } catch (e) {
                  if (isCancelled(e)) NUM += 1;
                  throw e;
                }
              });
            }
            try {
              await sleep(10);
            } catch (e) {
              if (isCancelled(e)) NUM += 10;
              throw e;
            }
          }),
        );
        await sleep(0.1);
        expect(r.done()).toBe(false);
        r.cancel();
        expect(await thrown(() => r)).toBeInstanceOf(CancelledError);
        expect(NUM).toBe(10 + children);
      }
    }, virtualClock);
  });

  it("TG-08 external cancel while children raise during their cancellation: errors win", async () => {
    await run(async () => {
      const r = createTask(() =>
        taskGroup(async (g) => {
          for (let i = 0; i < 5; i++) {
            g.createTask(async () => {
              try {
                await sleep(10);
              } finally {
                zeroDivision();
              }
            });
          }
          await sleep(10);
        }),
      );
      await sleep(0.1);
      expect(r.done()).toBe(false);
      r.cancel();
      const e = await thrown(() => r);
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
      expect((e as ExceptionGroup).exceptions).toHaveLength(5);
      // The group's error ends the task, and the outside cancel request is still counted.
      expect(r.cancelling()).toBe(1);
    }, virtualClock);
  });

  it("TG-09 a body error after an await cancels the children", async () => {
    await run(async () => {
      let t1: Task<number> | undefined;
      let t2: Task<number> | undefined;
      const e = await thrown(() =>
        taskGroup(async (g) => {
          t1 = g.createTask(() => sleep(1, 42));
          t2 = g.createTask(() => sleep(2, 11));
          await sleep(0.1);
          zeroDivision();
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
      expect(t1?.cancelled()).toBe(true);
      expect(t2?.cancelled()).toBe(true);
    }, virtualClock);
  });

  it("TG-10 a body error before the children ever ran: they never start", async () => {
    await run(async () => {
      let started = 0;
      let t1: Task<number> | undefined;
      let t2: Task<number> | undefined;
      const e = await thrown(() =>
        taskGroup((g) => {
          t1 = g.createTask(() => {
            started++;
            return sleep(1, 42);
          });
          t2 = g.createTask(() => {
            started++;
            return sleep(2, 11);
          });
          zeroDivision();
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
      expect(t1?.cancelled()).toBe(true);
      expect(t2?.cancelled()).toBe(true);
      expect(started).toBe(0);
    }, virtualClock);
  });

  it("TG-11 nested groups under external cancel, inner children raising on cancel", async () => {
    await run(async () => {
      for (const outerChild of [false, true]) {
        const r = createTask(() =>
          taskGroup(async (g1) => {
            if (outerChild) g1.createTask(() => sleep(10)); // test_taskgroup_12
            await taskGroup(async (g2) => {
              for (let i = 0; i < 5; i++) {
                g2.createTask(async () => {
                  try {
                    await sleep(10);
                  } finally {
                    zeroDivision();
                  }
                });
              }
              await sleep(10);
            });
          }),
        );
        await sleep(0.1);
        expect(r.done()).toBe(false);
        r.cancel();
        const e = await thrown(() => r);
        expect(errorTypes(e)).toEqual(new Set([ExceptionGroup]));
        expect(errorTypes((e as ExceptionGroup).exceptions[0])).toEqual(new Set([ZeroDivisionError]));
      }
    }, virtualClock);
  });

  it("TG-12 an outer child crashing while an inner group runs gives a flat group", async () => {
    await run(async () => {
      const crashAfter = async (t: number) => {
        await sleep(t);
        throw new RangeError(String(t));
      };
      const e = await thrown(() =>
        taskGroup(async (g1) => {
          g1.createTask(() => crashAfter(0.1));
          await taskGroup((g2) => {
            g2.createTask(() => crashAfter(10));
          });
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([RangeError]));
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("TG-13 an inner child crashing gives a nested group; the outer child is cancelled", async () => {
    await run(async () => {
      const crashAfter = async (t: number) => {
        await sleep(t);
        throw new RangeError(String(t));
      };
      let outerChild: Task<never> | undefined;
      const e = await thrown(() =>
        taskGroup(async (g1) => {
          outerChild = g1.createTask(() => crashAfter(10));
          await taskGroup((g2) => {
            g2.createTask(() => crashAfter(0.1));
          });
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([ExceptionGroup]));
      expect(errorTypes((e as ExceptionGroup).exceptions[0])).toEqual(new Set([RangeError]));
      expect(outerChild?.cancelled()).toBe(true);
    }, virtualClock);
  });

  it("TG-14 external cancel, then a child crashes during the body's cleanup: the error wins", async () => {
    await run(async () => {
      const nested = () =>
        taskGroup(async (g1) => {
          g1.createTask(async () => {
            await sleep(0.3);
            zeroDivision();
          });
          try {
            await sleep(10);
          } catch (e) {
            if (isCancelled(e)) await sleep(0.5);
            throw e;
          }
        });
      // test_taskgroup_15: the group in the cancelled task
      const r1 = createTask(nested);
      await sleep(0.1);
      expect(r1.done()).toBe(false);
      r1.cancel();
      expect(errorTypes(await thrown(() => r1))).toEqual(new Set([ZeroDivisionError]));

      // test_taskgroup_16: the group in a task the cancelled task awaits
      const r2 = createTask(async () => {
        const t = createTask(nested);
        await t;
      });
      await sleep(0.1);
      expect(r2.done()).toBe(false);
      r2.cancel();
      expect(errorTypes(await thrown(() => r2))).toEqual(new Set([ZeroDivisionError]));
    }, virtualClock);
  });

  it("TG-15 a body turning its cancellation into another error", async () => {
    await run(async () => {
      let NUM = 0;
      const r = createTask(() =>
        taskGroup(async () => {
          try {
            await sleep(10);
          } catch (e) {
            if (!isCancelled(e)) throw e;
            NUM += 10;
            throw new MyExc();
          }
        }),
      );
      await sleep(0.1);
      expect(r.done()).toBe(false);
      r.cancel();
      expect(errorTypes(await thrown(() => r))).toEqual(new Set([MyExc]));
      expect(NUM).toBe(10);
    }, virtualClock);
  });

  it("TG-16 a body error raised in finally plus a child error", async () => {
    await run(async () => {
      const e = await thrown(() =>
        taskGroup(async (g) => {
          g.createTask(async () => {
            await sleep(0.1);
            zeroDivision();
          });
          try {
            await sleep(10);
          } finally {
            // biome-ignore lint/correctness/noUnsafeFinally: the case under test
            throw new MyExc();
          }
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([MyExc, ZeroDivisionError]));
    }, virtualClock);
  });

  it("TG-17/TG-18 (no KeyboardInterrupt/BaseException in JS): every thrown value is grouped, none bypasses", async () => {
    await run(async () => {
      const e = await thrown(() =>
        taskGroup(async (g) => {
          g.createTask(async () => {
            await sleep(0.1);
            zeroDivision();
          });
          try {
            await sleep(10);
          } finally {
            // biome-ignore lint/correctness/noUnsafeFinally: the case under test
            throw "interrupt"; // not even an Error
          }
        }),
      );
      expect(e).toBeInstanceOf(ExceptionGroup);
      const members = (e as ExceptionGroup).exceptions;
      expect(members).toContain("interrupt");
      expect(members.some((m) => m instanceof ZeroDivisionError)).toBe(true);
    }, virtualClock);
  });

  it("TG-19 dynamic membership: finished children leave, late children are awaited, spawning terminates", async () => {
    await run(async () => {
      // test_taskgroup_23
      const children: Task<void>[] = [];
      const live = () => children.filter((t) => !t.done()).length;
      await taskGroup(async (g) => {
        for (let count = 0; count < 10; count++) {
          await sleep(0.1);
          children.push(g.createTask(() => sleep(0.3)));
          if (count === 5) expect(live()).toBeLessThan(5);
        }
        await sleep(1.35);
        expect(live()).toBe(0);
      });

      // test_taskgroup_24: a child adds children while the group waits at exit
      const late: Task<void>[] = [];
      await taskGroup((g) => {
        g.createTask(async () => {
          await sleep(0.1);
          late.push(g.createTask(() => sleep(0.1)));
          late.push(g.createTask(() => sleep(0.2)));
        });
      });
      expect(late).toHaveLength(2);
      expect(late.every((t) => t.done() && !t.cancelled())).toBe(true);

      // test_taskgroup_25: hydras keep spawning; hercules ends it
      let nhydras = 0;
      const hydra = async (g: TaskGroup): Promise<void> => {
        nhydras += 1;
        await sleep(0.01);
        g.createTask(() => hydra(g));
        g.createTask(() => hydra(g));
      };
      const e = await thrown(() =>
        taskGroup((g) => {
          g.createTask(() => hydra(g));
          g.createTask(async () => {
            while (nhydras < 10) await sleep(0.015);
            zeroDivision();
          });
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
      expect(nhydras).toBeGreaterThanOrEqual(10);
    }, virtualClock);
  });

  it("TG-20 task names", async () => {
    await run(async () => {
      let inside: string | undefined;
      await taskGroup((g) => {
        const t = g.createTask(() => sleep(0), { name: "yolo" });
        expect(t.getName()).toBe("yolo");
        g.createTask(
          async () => {
            inside = currentTask()?.getName();
          },
          { name: "example name" },
        );
      });
      expect(inside).toBe("example name");
    }, virtualClock);
  });

  it("TG-21 no new children once the group is aborting", async () => {
    await run(async () => {
      let refused: unknown;
      let called = false;
      const coro1 = async () => {
        await sleep(0.001);
        zeroDivision();
      };
      const e = await thrown(() =>
        taskGroup((g) => {
          g.createTask(coro1);
          g.createTask(async () => {
            try {
              await sleep(1);
            } catch (err) {
              if (!isCancelled(err)) throw err;
              try {
                g.createTask(() => {
                  called = true;
                });
              } catch (x) {
                refused = x;
              }
            }
          });
        }),
      );
      expect(refused).toBeInstanceOf(InvalidStateError);
      expect((refused as Error).message).toMatch(/is shutting down/);
      expect(called).toBe(false);
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
    }, virtualClock);
  });

  it("TG-22 a cleanup raising during the body's cancellation: both errors, cancelling() back to 0", async () => {
    await run(async () => {
      const main = createTask(async () => {
        const task = currentTask() as Task;
        try {
          await taskGroup(async (tg) => {
            // `async with database()`, whose exit raises
            try {
              tg.createTask(async () => {
                throw new CustomException("child");
              });
              await sleep(1);
            } finally {
              // biome-ignore lint/correctness/noUnsafeFinally: the case under test
              throw new CustomException("database");
            }
          });
        } catch (e) {
          const [matched] = (e as ExceptionGroup).split(CustomException);
          return { cancelling: task.cancelling(), n: matched?.exceptions.length };
        }
        return undefined;
      });
      expect(await main).toEqual({ cancelling: 0, n: 2 });
    }, virtualClock);
  });

  it("TG-23 lifecycle errors", async () => {
    await run(async () => {
      const tg = new TaskGroup();
      let nested: unknown;
      await tg.run(async () => {
        nested = await thrown(() => tg.run(() => undefined));
      });
      expect(nested).toBeInstanceOf(InvalidStateError);
      expect((nested as Error).message).toMatch(/has already been entered/);
      const again = await thrown(() => tg.run(() => undefined));
      expect((again as Error).message).toMatch(/has already been entered/);

      let called = false;
      const work = () => {
        called = true;
      };
      expect(() => tg.createTask(work)).toThrow(InvalidStateError);
      expect(() => tg.createTask(work)).toThrow(/is finished/);
      expect(() => new TaskGroup().createTask(work)).toThrow(/has not been entered/);
      await sleep(0);
      expect(called).toBe(false);
    }, virtualClock);
  });

  it("TG-23 (departs, issue 11) entered outside a task, the group runs as a task of the default loop; then it is finished", async () => {
    // asyncio raises RuntimeError ("parent task"): there, no async code runs outside a task.
    const tg = new TaskGroup();
    const made = await tg.run(async () => {
      expect(currentTask()?.getName()).toBe("task group");
      return { child: tg.createTask(() => sleep(0.001, "child")) };
    });
    expect(made?.child.done()).toBe(true);
    expect(made?.child.result()).toBe("child");
    expect(() => tg.createTask(() => 1)).toThrow(/is finished/);
  });

  it("TG-24 the group's own cancel request is always undone", async () => {
    await run(async () => {
      const e = await thrown(() =>
        taskGroup((tg) => {
          tg.createTask(async () => {
            await sleep(0);
            throw new RangeError("x");
          });
        }),
      );
      expect((e as ExceptionGroup).subgroup(RangeError)).toBeDefined();
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("TG-25 nested groups both failing", async () => {
    await run(async () => {
      const task = currentTask() as Task;
      const raiseAfter = async (t: number, make: () => Error) => {
        await sleep(t);
        throw make();
      };
      let levelInside: number | undefined;
      let innerCaught = false;
      const e = await thrown(() =>
        taskGroup(async (outerTg) => {
          try {
            await taskGroup((innerTg) => {
              innerTg.createTask(() => raiseAfter(0, () => new TypeError("inner")));
              outerTg.createTask(() => raiseAfter(0, () => new RangeError("outer")));
            });
          } catch (err) {
            const [, rest] = (err as ExceptionGroup).split(TypeError);
            if (rest) throw rest;
            innerCaught = true;
          }
          levelInside = task.cancelling();
        }),
      );
      expect(innerCaught).toBe(true);
      expect(levelInside).toBe(1);
      expect(errorTypes(e)).toEqual(new Set([RangeError]));
      expect(task.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("TG-26 child error and external cancel together: the error wins and the cancel survives", async () => {
    // Upstream's child awaits sleep(0) between signalling and failing, and asyncio's pass counting
    // makes it fail after the outer cancel but before the group reacts. Here the child waits for
    // an explicit go, given right before the cancel: the same collision, without counting passes.
    await run(async () => {
      const started = new Future<void>();
      const go = new Future<void>();
      const log: string[] = [];
      const inner = async () => {
        const task = currentTask() as Task;
        try {
          await taskGroup(async (tg) => {
            tg.createTask(async () => {
              started.setResult();
              await go;
              throw new TypeError("child");
            });
            await sleep(1);
            log.push("sleep in group not cancelled");
          });
        } catch (e) {
          const [, rest] = (e as ExceptionGroup).split(TypeError);
          if (rest) throw rest;
          log.push(`caught, cancelling=${task.cancelling()}`);
        }
        log.push(`after, cancelling=${task.cancelling()}`);
        await sleep(1);
        log.push("sleep after group not cancelled");
      };
      const t = createTask(inner);
      await started;
      expect(t.cancelling()).toBe(0);
      // The child's wake-up is queued before the cancellation's, so it fails first (asyncio's
      // wake-ups run in the order they were scheduled).
      go.setResult();
      t.cancel();
      expect(t.cancelling()).toBe(1);
      expect(await thrown(() => t)).toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
      expect(log).toEqual(["caught, cancelling=1", "after, cancelling=1"]);
    }, virtualClock);
  });

  it("TG-27 a child created by a child that fails at once", async () => {
    await run(async () => {
      let ran = false;
      let sawCancel = false;
      const e = await thrown(() =>
        taskGroup((tg) => {
          tg.createTask(async () => {
            tg.createTask(() => {
              throw new MyExc("third task failed");
            });
            try {
              await sleep(0);
              await sleep(0);
            } catch (err) {
              sawCancel = isCancelled(err);
            }
            ran = true;
          });
        }),
      );
      expect(ran).toBe(true);
      expect(sawCancel).toBe(true);
      const mine = (e as ExceptionGroup).subgroup(MyExc);
      expect(mine?.exceptions).toHaveLength(1);
      expect((e as ExceptionGroup).exceptions).toHaveLength(1);
    }, virtualClock);
  });

  it("TG-28 no cancellation leaks out after a handled group error", async () => {
    await run(async () => {
      const e = await thrown(() =>
        taskGroup((tg) => {
          tg.createTask(() => {
            throw new MyExc();
          });
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([MyExc]));
      expect(await sleep(0, "still running")).toBe("still running");
      expect(await sleep(1, "and later")).toBe("and later");
    }, virtualClock);
  });

  it("TG-29 timeout() around a group: TimeoutError caused by a CancelledError", async () => {
    await run(async () => {
      const e = await thrown(() => timeout(-1, () => taskGroup(() => sleep(0))));
      expect(e).toBeInstanceOf(TimeoutError);
      expect((e as Error).cause).toBeInstanceOf(CancelledError);
    }, virtualClock);
  });
});

describe("TaskGroup.cancel() (Python 3.15)", () => {
  it("cancels every child and the body; the group ends without an error", async () => {
    await run(async () => {
      const seen: string[] = [];
      let server: Task<void> | undefined;
      const result = await taskGroup(async (tg) => {
        server = tg.createTask(async () => {
          try {
            await sleep(3600);
          } catch (e) {
            if (isCancelled(e)) seen.push("server cancelled");
            throw e;
          }
        });
        tg.createTask(async () => {
          await sleep(1);
          tg.cancel();
        });
        try {
          await sleep(100);
        } catch (e) {
          if (isCancelled(e)) seen.push("body cancelled");
          throw e;
        }
        return "finished";
      });
      expect(result).toBeUndefined();
      expect(seen.sort()).toEqual(["body cancelled", "server cancelled"]);
      expect(server?.cancelled()).toBe(true);
      expect(time()).toBe(1);
      expect(currentTask()?.cancelling()).toBe(0);
      expect(await sleep(1, "not cancelled")).toBe("not cancelled");
    }, virtualClock);
  });

  it("after the body returned, cancel() stops the children and run() returns the body's value", async () => {
    await run(async () => {
      const tg = new TaskGroup();
      const value = await tg.run((g) => {
        g.createTask(() => sleep(50));
        g.createTask(async () => {
          await sleep(2);
          g.cancel();
          g.cancel(); // idempotent
        });
        return 5;
      });
      expect(value).toBe(5);
      expect(time()).toBe(2);
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("before run(), cancel() cancels the group as soon as it starts", async () => {
    await run(async () => {
      const tg = new TaskGroup();
      tg.cancel();
      let refused: unknown;
      let reached = false;
      const result = await tg.run(async (g) => {
        try {
          g.createTask(() => sleep(10));
        } catch (e) {
          refused = e;
        }
        await sleep(10);
        reached = true;
      });
      expect(result).toBeUndefined();
      expect(reached).toBe(false);
      expect((refused as Error).message).toMatch(/is shutting down/);
      expect(time()).toBe(0);
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("after the group finished, cancel() does nothing", async () => {
    await run(async () => {
      const tg = new TaskGroup();
      await tg.run((g) => {
        g.createTask(() => sleep(1));
      });
      tg.cancel();
      expect(currentTask()?.cancelling()).toBe(0);
      expect(await sleep(1, "fine")).toBe("fine");
    }, virtualClock);
  });

  it("no new task once cancelled: 'is shutting down'", async () => {
    await run(async () => {
      let refused: unknown;
      await taskGroup(async (tg) => {
        tg.cancel();
        try {
          tg.createTask(() => sleep(1));
        } catch (e) {
          refused = e;
        }
      });
      expect(refused).toBeInstanceOf(InvalidStateError);
      expect((refused as Error).message).toMatch(/is shutting down/);
    }, virtualClock);
  });

  it("a child failing while the group is cancelled still raises its error", async () => {
    await run(async () => {
      const e = await thrown(() =>
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            try {
              await sleep(10);
            } finally {
              zeroDivision();
            }
          });
          await sleep(1);
          tg.cancel();
          await sleep(1);
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([ZeroDivisionError]));
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("an outside cancellation together with cancel() still propagates", async () => {
    await run(async () => {
      let tgRef: TaskGroup | undefined;
      const r = createTask(() =>
        taskGroup(async (tg) => {
          tgRef = tg;
          tg.createTask(() => sleep(10));
          await sleep(10);
        }),
      );
      await sleep(1);
      tgRef?.cancel();
      r.cancel();
      expect(await thrown(() => r)).toBeInstanceOf(CancelledError);
      expect(r.cancelled()).toBe(true);
    }, virtualClock);
  });
});

describe("TaskGroup: beyond the spec", () => {
  it("validates its arguments", async () => {
    await run(async () => {
      await expect(taskGroup("body" as unknown as () => void)).rejects.toThrow(TypeError);
      let e: unknown;
      await taskGroup((tg) => {
        try {
          tg.createTask(sleep(1) as unknown as () => void);
        } catch (x) {
          e = x;
        }
      });
      expect(e).toBeInstanceOf(TypeError);
      expect((e as Error).message).toMatch(/expects a function that starts the work/);
    }, virtualClock);
  });

  it("a child that throws undefined still fails the group", async () => {
    await run(async () => {
      const e = await thrown(() =>
        taskGroup((tg) => {
          tg.createTask(() => {
            throw undefined;
          });
        }),
      );
      expect((e as ExceptionGroup).exceptions).toEqual([undefined]);
    }, virtualClock);
  });

  it("a body awaiting a failing child reports the error once", async () => {
    await run(async () => {
      const boom = new MyExc("boom");
      const e = await thrown(() =>
        taskGroup(async (tg) => {
          const t = tg.createTask(async () => {
            await sleep(1);
            throw boom;
          });
          await t;
        }),
      );
      expect((e as ExceptionGroup).exceptions).toEqual([boom]);
    }, virtualClock);
  });

  it("returns the body's value after every child finished", async () => {
    await run(async () => {
      const n = await new TaskGroup().run(async (tg) => {
        tg.createTask(() => sleep(3));
        await sleep(1);
        return 7;
      });
      expect(n).toBe(7);
      expect(time()).toBe(3);
    }, virtualClock);
  });

  it("a timeout around a group cancels its children and raises TimeoutError", async () => {
    await run(async () => {
      let child: Task<void> | undefined;
      const e = await thrown(() =>
        timeout(2, () =>
          taskGroup((tg) => {
            child = tg.createTask(() => sleep(10));
          }),
        ),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(child?.cancelled()).toBe(true);
      expect(time()).toBe(2);
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("a timeout inside a child fails only that child, which fails the group", async () => {
    await run(async () => {
      let sibling: Task<void> | undefined;
      const e = await thrown(() =>
        taskGroup((tg) => {
          tg.createTask(() => timeout(1, () => sleep(10)));
          sibling = tg.createTask(() => sleep(10));
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([TimeoutError]));
      expect(sibling?.cancelled()).toBe(true);
      expect(time()).toBe(1);
    }, virtualClock);
  });

  it("a child that swallows its cancellation delays the exit until it returns", async () => {
    await run(async () => {
      const e = await thrown(() =>
        taskGroup((tg) => {
          tg.createTask(async () => {
            await sleep(1);
            throw new MyExc();
          });
          tg.createTask(async () => {
            try {
              await sleep(10);
            } catch {
              await sleep(2); // stubborn cleanup
            }
          });
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([MyExc]));
      expect(time()).toBe(3);
    }, virtualClock);
  });

  it("supports eager tasks: an eager child that fails at once aborts the group", async () => {
    await run(async () => {
      let refused: unknown;
      const e = await thrown(() =>
        taskGroup(async (tg) => {
          const eager = tg.createTask(
            () => {
              throw new MyExc("eager");
            },
            { eagerStart: true },
          );
          expect(eager.done()).toBe(true);
          try {
            tg.createTask(() => sleep(1));
          } catch (x) {
            refused = x;
          }
          await sleep(5); // cancelled at once: the group aborted
        }),
      );
      expect(errorTypes(e)).toEqual(new Set([MyExc]));
      expect((refused as Error).message).toMatch(/is shutting down/);
      expect(time()).toBe(0);
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });
});

describe("TaskGroup: properties", () => {
  const childArb = fc.record({
    delay: fc.integer({ min: 0, max: 4 }),
    outcome: fc.constantFrom("ok", "fail", "swallow", "selfCancel"),
  });
  const programArb = fc.record({
    children: fc.array(childArb, { maxLength: 8 }),
    bodyDelay: fc.integer({ min: 0, max: 4 }),
    bodyFails: fc.boolean(),
  });

  it("every child is done at exit, errors are exactly failures, and cancelling() is restored", async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async ({ children, bodyDelay, bodyFails }) => {
        await run(async () => {
          const me = currentTask() as Task;
          const thrownByChildren = new Set<unknown>();
          const bodyError = new MyExc("body");
          const tasks: Task<string>[] = [];
          let outcome: unknown;
          try {
            outcome = await taskGroup(async (tg) => {
              children.forEach((c, i) => {
                tasks.push(
                  tg.createTask(async () => {
                    try {
                      await sleep(c.delay);
                    } catch (e) {
                      if (c.outcome === "swallow") return `swallowed ${i}`;
                      throw e;
                    }
                    if (c.outcome === "fail") {
                      const err = new RangeError(`child ${i}`);
                      thrownByChildren.add(err);
                      throw err;
                    }
                    if (c.outcome === "selfCancel") {
                      currentTask()?.cancel();
                      await sleep(0);
                    }
                    return `ok ${i}`;
                  }),
                );
              });
              await sleep(bodyDelay);
              if (bodyFails) throw bodyError;
              return "body";
            });
          } catch (e) {
            outcome = e;
          }
          expect(tasks.every((t) => t.done())).toBe(true);
          expect(me.cancelling()).toBe(0);
          if (outcome instanceof ExceptionGroup) {
            expect(outcome.exceptions.length).toBeGreaterThan(0);
            for (const m of outcome.exceptions) expect(m === bodyError || thrownByChildren.has(m)).toBe(true);
            // every failure that happened is reported
            for (const err of thrownByChildren) expect(outcome.exceptions).toContain(err);
          } else {
            expect(outcome).toBe("body");
            expect(thrownByChildren.size).toBe(0);
            expect(bodyFails).toBe(false);
          }
          if (bodyFails) expect(outcome).toBeInstanceOf(ExceptionGroup);
          expect(await sleep(0, "no stray cancellation")).toBe("no stray cancellation");
        }, virtualClock);
      }),
      { numRuns: 150 },
    );
  });
});
