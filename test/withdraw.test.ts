/**
 * Issue 10: every operation that can wait returns an awaitress Future, and cancelling that future
 * (directly, or through waitFor, timeout, gather, wait, asCompleted, shield or a TaskGroup)
 * withdraws the operation. A get that took nothing takes nothing later, an acquire not granted is
 * never granted, a timed-out Condition.wait holds the lock again, a woken waiter that is cancelled
 * passes its wake-up on. The asyncio idioms are written literally: `waitFor(q.get(), 1)`, not
 * `waitFor(() => q.get(), 1)`.
 */
import { describe, expect, it } from "vitest";
import {
  asCompleted,
  Barrier,
  BoundedSemaphore,
  CancelledError,
  Condition,
  createTask,
  Event,
  ExceptionGroup,
  Future,
  gather,
  getRunningLoop,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  Semaphore,
  shield,
  sleep,
  TimeoutError,
  taskGroup,
  time,
  timeout,
  wait,
  waitFor,
} from "../src/node.js";
import { outcome, runVirtual, settle, thrown, tick } from "./support.js";

/**
 * The Future a waiting operation returns (issue 10). Fails the test if it is anything else (a
 * plain promise cannot be cancelled), and types it as a Future.
 */
function fut<T>(op: PromiseLike<T>): Future<T> {
  expect(op, "a waiting operation returns an awaitress Future").toBeInstanceOf(Future);
  return op as Future<T>;
}

class Boom extends Error {}

const queueKinds = [
  ["Queue", (maxsize = 0) => new Queue<number>(maxsize)],
  ["PriorityQueue", (maxsize = 0) => new PriorityQueue<number>(maxsize)],
  ["LifoQueue", (maxsize = 0) => new LifoQueue<number>(maxsize)],
] as const;

/** Puts the operation in a state where it must wait; the op is made last, so nothing else runs first. */
type Blocked = [name: string, setup: () => Promise<() => PromiseLike<unknown>>];

const blockedOps: Blocked[] = [
  ["sleep(1)", async () => () => sleep(1)],
  ...queueKinds.flatMap(([kind, make]): Blocked[] => [
    [`${kind}.get() on an empty queue`, async () => () => make().get()],
    [
      `${kind}.put(x) on a full queue`,
      async () => {
        const q = make(1);
        q.putNowait(1);
        return () => q.put(2);
      },
    ],
    [
      `${kind}.join() with unfinished work`,
      async () => {
        const q = make();
        q.putNowait(1);
        return () => q.join();
      },
    ],
  ]),
  [
    "Lock.acquire() on a held lock",
    async () => {
      const lock = new Lock();
      await lock.acquire();
      return () => lock.acquire();
    },
  ],
  ["Semaphore.acquire() with no permit", async () => () => new Semaphore(0).acquire()],
  [
    "BoundedSemaphore.acquire() with no permit",
    async () => {
      const sem = new BoundedSemaphore(1);
      await sem.acquire();
      return () => sem.acquire();
    },
  ],
  ["Event.wait() on an unset event", async () => () => new Event().wait()],
  [
    "Condition.wait()",
    async () => {
      const cond = new Condition();
      await cond.acquire();
      return () => cond.wait();
    },
  ],
  [
    "Condition.waitFor(predicate) with a false predicate",
    async () => {
      const cond = new Condition();
      await cond.acquire();
      return () => cond.waitFor(() => false);
    },
  ],
  ["Barrier.wait() before the other parties", async () => () => new Barrier(2).wait()],
];

/** Operations that can complete at once, with what they give. */
const readyOps: Array<[name: string, setup: () => Promise<() => PromiseLike<unknown>>, value: unknown]> = [
  ["sleep(0, 'v')", async () => () => sleep(0, "v"), "v"],
  ...queueKinds.map(([kind, make]): [string, () => Promise<() => PromiseLike<unknown>>, unknown] => [
    `${kind}.get() on a non-empty queue`,
    async () => {
      const q = make();
      q.putNowait(7);
      return () => q.get();
    },
    7,
  ]),
  ["Queue.put(x) on an unbounded queue", async () => () => new Queue<number>().put(1), undefined],
  ["Queue.join() with nothing unfinished", async () => () => new Queue<number>().join(), undefined],
  ["Lock.acquire() on a free lock", async () => () => new Lock().acquire(), true],
  ["Semaphore.acquire() with a permit", async () => () => new Semaphore(1).acquire(), true],
  [
    "Event.wait() on a set event",
    async () => {
      const ev = new Event();
      ev.set();
      return () => ev.wait();
    },
    true,
  ],
  ["Barrier(1).wait()", async () => () => new Barrier(1).wait(), 0],
];

describe("issue 10: waiting operations return Futures", () => {
  for (const [name, setup] of blockedOps) {
    it(`${name} returns a pending Future; cancel() makes awaiting it throw CancelledError`, async () => {
      await runVirtual(async () => {
        const start = await setup();
        const op = fut(start());
        expect(op.done()).toBe(false);
        expect(op.cancel()).toBe(true);
        expect(await thrown(op)).toBeInstanceOf(CancelledError);
        expect(op.cancelled()).toBe(true);
        expect(op.done()).toBe(true);
      });
    });
  }

  for (const [name, setup, value] of readyOps) {
    it(`${name} returns a Future too, resolving to what the operation gives`, async () => {
      await runVirtual(async () => {
        const start = await setup();
        const op = fut(start());
        expect(await op).toBe(value);
        expect(op.done()).toBe(true);
        expect(op.cancelled()).toBe(false);
      });
    });
  }
});

for (const [kind, make] of queueKinds) {
  describe(`${kind}: cancelling a waiting get/put/join withdraws it`, () => {
    it("cancel() on the Future of get() withdraws it: the next putNowait goes to the next real get (after test_queues: test_get_cancelled_race)", async () => {
      await runVirtual(async () => {
        const q = make();
        const first = fut(q.get());
        const second = createTask(() => q.get());
        await tick();
        expect(first.cancel()).toBe(true);
        await tick();
        q.putNowait(7);
        await settle();
        expect(second.done()).toBe(true);
        expect(second.result()).toBe(7);
        expect(q.qsize()).toBe(0);
      });
    });

    it("wait_for(q.get()) timing out leaves no getter (test_queues: test_cancelled_getters_not_being_held_in_self_getters)", async () => {
      await runVirtual(async () => {
        const q = make(5);
        expect(await thrown(waitFor(q.get(), 0.1))).toBeInstanceOf(TimeoutError);
        expect(time()).toBeCloseTo(0.1, 9);
        expect(q._waiterCounts()).toEqual([0, 0]);
        q.putNowait(7);
        await settle();
        expect(q.qsize()).toBe(1);
        expect(await q.get()).toBe(7);
      });
    });

    it("wait_for(q.get()) returns an item put before the timeout (test_queues: test_get_cancelled)", async () => {
      await runVirtual(async () => {
        const q = make();
        const getter = createTask(() => waitFor(q.get(), 0.051));
        await sleep(0.01);
        q.putNowait(1);
        expect(await getter).toBe(1);
        expect(time()).toBeCloseTo(0.01, 9);
        expect(q.qsize()).toBe(0);
        expect(q._waiterCounts()).toEqual([0, 0]);
      });
    });

    it("a hundred timed-out waitFor(q.get()) calls take nothing: three items put later are all in the queue", async () => {
      await runVirtual(async () => {
        const q = make();
        for (let i = 0; i < 100; i++) {
          expect(await thrown(waitFor(q.get(), 0.01))).toBeInstanceOf(TimeoutError);
        }
        for (const x of [1, 2, 3]) q.putNowait(x);
        await settle();
        expect(q.qsize()).toBe(3);
        expect(new Set([q.getNowait(), q.getNowait(), q.getNowait()])).toEqual(new Set([1, 2, 3]));
      });
    });

    it("wait_for(q.put(x)) on a full queue timing out never adds x (test_queues: test_cancelled_puts_not_being_held_in_self_putters)", async () => {
      await runVirtual(async () => {
        const q = make(1);
        q.putNowait(1);
        expect(await thrown(waitFor(q.put(2), 0.1))).toBeInstanceOf(TimeoutError);
        expect(q._waiterCounts()).toEqual([0, 0]);
        expect(q.getNowait()).toBe(1);
        await settle();
        expect(q.qsize()).toBe(0);
        expect(q.empty()).toBe(true);
      });
    });

    it("cancel() on the Future of put(x) on a full queue: x is never added, the next putter gets the slot", async () => {
      await runVirtual(async () => {
        const q = make(1);
        q.putNowait(1);
        const withdrawn = fut(q.put(2));
        const next = createTask(() => q.put(3));
        await tick();
        expect(withdrawn.cancel()).toBe(true);
        expect(q.getNowait()).toBe(1);
        await settle();
        expect(next.done()).toBe(true);
        expect(q.qsize()).toBe(1);
        expect(q.getNowait()).toBe(3);
        await settle();
        expect(q.qsize()).toBe(0);
      });
    });

    it("wait_for(q.join()) timing out cancels that join; join() still resolves once the work is done", async () => {
      await runVirtual(async () => {
        const q = make();
        q.putNowait(1);
        const join = fut(q.join());
        expect(await thrown(waitFor(join, 0.1))).toBeInstanceOf(TimeoutError);
        expect(join.cancelled()).toBe(true);
        expect(await thrown(waitFor(q.join(), 0.1))).toBeInstanceOf(TimeoutError);
        const joiner = createTask(() => q.join());
        await tick();
        q.getNowait();
        q.taskDone();
        await settle();
        expect(joiner.done()).toBe(true);
        expect(time()).toBeCloseTo(0.2, 9);
      });
    });

    it("cancelling the task awaiting gather(q.get(), q.get()) withdraws both gets", async () => {
      await runVirtual(async () => {
        const q = make();
        const both = createTask(() => gather(q.get(), q.get()));
        await tick();
        await tick();
        both.cancel();
        expect(await thrown(both)).toBeInstanceOf(CancelledError);
        q.putNowait(1);
        q.putNowait(2);
        await settle();
        expect(q.qsize()).toBe(2);
        expect(q._waiterCounts()).toEqual([0, 0]);
      });
    });

    it("cancel() on gather(q.get(), q.get()) after one get received an item withdraws only the other", async () => {
      await runVirtual(async () => {
        const q = make();
        const both = gather(q.get(), q.get());
        q.putNowait(1);
        await settle();
        expect(q.qsize()).toBe(0);
        expect(both.cancel()).toBe(true);
        expect(await thrown(both)).toBeInstanceOf(CancelledError);
        q.putNowait(2);
        await settle();
        expect(q.qsize()).toBe(1);
        expect(q.getNowait()).toBe(2);
      });
    });

    it("wait_for(gather(q.get(), q.get())) timing out withdraws both gets", async () => {
      await runVirtual(async () => {
        const q = make();
        expect(await thrown(waitFor(gather(q.get(), q.get()), 0.1))).toBeInstanceOf(TimeoutError);
        q.putNowait(1);
        q.putNowait(2);
        await settle();
        expect(q.qsize()).toBe(2);
      });
    });

    for (const [form, body] of [
      ["() => q.get()", (q: Queue<number>) => () => q.get()],
      ["async () => await q.get()", (q: Queue<number>) => async () => await q.get()],
    ] as const) {
      it(`timeout(t, ${form}) expiring takes nothing later`, async () => {
        await runVirtual(async () => {
          const q = make();
          expect(await thrown(timeout(0.1, body(q)))).toBeInstanceOf(TimeoutError);
          expect(time()).toBeCloseTo(0.1, 9);
          q.putNowait(7);
          await settle();
          expect(q.qsize()).toBe(1);
          expect(q._waiterCounts()).toEqual([0, 0]);
        });
      });
    }

    it("wait([q.get()], { timeout }) leaves the get pending; cancelling it withdraws it", async () => {
      await runVirtual(async () => {
        const q = make();
        const get = fut(q.get());
        const [done, pending] = await wait([get], { timeout: 0.1 });
        expect(done.size).toBe(0);
        expect(pending.has(get)).toBe(true);
        for (const p of pending) p.cancel();
        expect(get.cancelled()).toBe(true);
        q.putNowait(7);
        await settle();
        expect(q.qsize()).toBe(1);
      });
    });

    it("asCompleted over two gets with a timeout: the one not done is cancelled by hand and takes nothing", async () => {
      await runVirtual(async () => {
        const q = make();
        const a = fut(q.get());
        const b = fut(q.get());
        q.putNowait(1);
        const seen: unknown[] = [];
        let error: unknown;
        try {
          for await (const f of asCompleted([a, b], { timeout: 0.1 })) seen.push(await f);
        } catch (e) {
          error = e;
        }
        expect(seen).toEqual([1]);
        expect(error).toBeInstanceOf(TimeoutError);
        expect([a.cancel(), b.cancel()].filter(Boolean)).toHaveLength(1);
        q.putNowait(2);
        await settle();
        expect(q.qsize()).toBe(1);
        expect(q.getNowait()).toBe(2);
      });
    });

    it("shield(q.get()): cancelling the shield keeps the get, which receives the next item", async () => {
      await runVirtual(async () => {
        const q = make();
        const inner = fut(q.get());
        const outer = shield(inner);
        expect(outer.cancel()).toBe(true);
        expect(inner.cancelled()).toBe(false);
        q.putNowait(5);
        await settle();
        expect(inner.done()).toBe(true);
        expect(inner.result()).toBe(5);
        expect(q.qsize()).toBe(0);
      });
    });

    it("wait_for(shield(q.get())) timing out keeps the shielded get: it receives the next item", async () => {
      await runVirtual(async () => {
        const q = make();
        const inner = fut(q.get());
        expect(await thrown(waitFor(shield(inner), 0.1))).toBeInstanceOf(TimeoutError);
        expect(inner.done()).toBe(false);
        q.putNowait(5);
        expect(await inner).toBe(5);
        expect(q.qsize()).toBe(0);
      });
    });

    it("cancelling a get inside a shield withdraws it and cancels the shield", async () => {
      await runVirtual(async () => {
        const q = make();
        const inner = fut(q.get());
        const outer = shield(inner);
        expect(inner.cancel()).toBe(true);
        expect(await thrown(outer)).toBeInstanceOf(CancelledError);
        q.putNowait(5);
        await settle();
        expect(q.qsize()).toBe(1);
      });
    });

    it("a TaskGroup whose child fails cancels a body waiting in gather(q.get(), q.get()): both gets are withdrawn", async () => {
      await runVirtual(async () => {
        const q = make();
        const boom = new Boom("child failed");
        const error = await thrown(
          taskGroup(async (tg) => {
            tg.createTask(async () => {
              await sleep(0.1);
              throw boom;
            });
            await gather(q.get(), q.get());
          }),
        );
        expect(error).toBeInstanceOf(ExceptionGroup);
        expect((error as ExceptionGroup).exceptions).toEqual([boom]);
        q.putNowait(1);
        q.putNowait(2);
        await settle();
        expect(q.qsize()).toBe(2);
      });
    });

    it("a TaskGroup child in waitFor(q.get(), t), cancelled by a failing sibling, takes nothing", async () => {
      await runVirtual(async () => {
        const q = make();
        const error = await thrown(
          taskGroup((tg) => {
            tg.createTask(() => waitFor(q.get(), 10));
            tg.createTask(async () => {
              await sleep(0.1);
              throw new Boom();
            });
          }),
        );
        expect(error).toBeInstanceOf(ExceptionGroup);
        q.putNowait(1);
        await settle();
        expect(q.qsize()).toBe(1);
      });
    });

    it("a get woken by putNowait and then cancelled passes its item on: nothing lost, nothing taken twice (after test_queues: test_get_cancel_drop_many_pending_readers)", async () => {
      await runVirtual(async () => {
        const q = make();
        const r1 = fut(q.get());
        const r2 = createTask(() => q.get());
        const r3 = createTask(() => q.get());
        await tick();
        q.putNowait(1); // wakes r1
        q.putNowait(2); // wakes r2
        const withdrawn = r1.cancel();
        await settle();
        const received = [r1, r2, r3].filter((r) => r.done() && !r.cancelled()).map((r) => r.result());
        expect(received.sort()).toEqual([1, 2]);
        expect(q.qsize()).toBe(0);
        // A cancel that was accepted took nothing: the other two readers got both items.
        if (withdrawn) expect([r2.done(), r3.done()]).toEqual([true, true]);
        r3.cancel();
      });
    });

    it("a task awaiting q.get(), woken and cancelled before it resumes, loses no item (after test_queues: test_get_cancel_drop_one_pending_reader)", async () => {
      await runVirtual(async () => {
        const q = make();
        let reader = createTask(async () => await q.get());
        await tick();
        q.putNowait(1);
        q.putNowait(2);
        reader.cancel();
        const received: unknown[] = [];
        const first = await outcome(reader);
        if (reader.cancelled()) {
          expect(first).toBeInstanceOf(CancelledError);
        } else {
          received.push(first);
        }
        reader = createTask(async () => await q.get());
        received.push(await reader);
        while (!q.empty()) received.push(q.getNowait());
        expect(received.sort()).toEqual([1, 2]);
      });
    });
  });
}

describe("Lock, Semaphore, Event, Condition, Barrier: cancelling a waiting operation withdraws it", () => {
  it("wait_for(lock.acquire()) timing out never grants the lock later (test_locks: test_acquire_cancel)", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      expect(await lock.acquire()).toBe(true);
      expect(await thrown(waitFor(lock.acquire(), 0.1))).toBeInstanceOf(TimeoutError);
      lock.release();
      await settle();
      expect(lock.locked()).toBe(false);
      expect(lock._waiterCount()).toBe(0);
      const next = createTask(() => lock.acquire());
      await tick();
      expect(next.done()).toBe(true);
      expect(lock.locked()).toBe(true);
      lock.release();
    });
  });

  it("cancel() on the Future of lock.acquire() withdraws it: the lock goes to the next acquirer", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      const a = fut(lock.acquire());
      const b = fut(lock.acquire());
      expect(a.cancel()).toBe(true);
      lock.release();
      await settle();
      expect(a.cancelled()).toBe(true);
      expect(b.done()).toBe(true);
      expect(lock.locked()).toBe(true);
      lock.release();
      await settle();
      expect(lock.locked()).toBe(false);
    });
  });

  it("an acquire woken by release() and then cancelled passes the lock on: exactly one holder (after test_locks: test_finished_waiter_cancelled)", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      const b = fut(lock.acquire());
      const c = fut(lock.acquire());
      await tick();
      lock.release(); // wakes b
      const withdrawn = b.cancel();
      await settle();
      expect(lock.locked()).toBe(true);
      if (withdrawn) {
        expect(b.cancelled()).toBe(true);
        expect(c.done()).toBe(true);
      } else {
        expect(b.result()).toBe(true);
        expect(c.done()).toBe(false);
        c.cancel();
      }
      lock.release();
      await settle();
      expect(lock.locked()).toBe(false);
    });
  });

  it("cancel + release in one callback with acquirers in waitFor: one lock taken; the cancelled ones never get it (after test_locks: test_cancel_release_race)", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      let lockCount = 0;
      let callCount = 0;
      const lockit = async () => {
        callCount++;
        await waitFor(lock.acquire(), 10);
        lockCount++;
      };
      await lock.acquire();
      const t1 = createTask(lockit);
      const t2 = createTask(lockit);
      const t3 = createTask(lockit);
      await tick();
      getRunningLoop().callSoon(() => {
        t1.cancel();
        lock.release();
      }, undefined);
      expect(await thrown(t1)).toBeInstanceOf(CancelledError);
      await settle();
      expect(lockCount).toBe(1);
      expect(callCount).toBe(3);
      expect(t1.cancelled()).toBe(true);
      expect(t2.done()).toBe(true);
      t3.cancel();
      await outcome(t3);
      expect(t3.cancelled()).toBe(true);
      lock.release(); // t2's
      await settle();
      expect(lock.locked()).toBe(false);
      expect(lockCount).toBe(1);
    });
  });

  for (const Kind of [Semaphore, BoundedSemaphore]) {
    it(`wait_for(${Kind.name}.acquire()) timing out never takes a permit later (test_locks: test_acquire_cancel)`, async () => {
      await runVirtual(async () => {
        const sem = new Kind(1);
        expect(await sem.acquire()).toBe(true);
        expect(await thrown(waitFor(sem.acquire(), 0.1))).toBeInstanceOf(TimeoutError);
        sem.release();
        await settle();
        expect(sem.value).toBe(1);
        expect(sem.locked()).toBe(false);
      });
    });

    it(`cancel() on the Future of ${Kind.name}.acquire() withdraws it: the permit goes to the next acquirer`, async () => {
      await runVirtual(async () => {
        const sem = new Kind(1);
        await sem.acquire();
        const a = fut(sem.acquire());
        const b = fut(sem.acquire());
        expect(a.cancel()).toBe(true);
        sem.release();
        await settle();
        expect(b.done()).toBe(true);
        expect(sem.value).toBe(0);
        sem.release();
        await settle();
        expect(sem.value).toBe(1);
      });
    });
  }

  it("wait_for(event.wait()) timing out leaves no waiter (test_locks: test_wait_cancel)", async () => {
    await runVirtual(async () => {
      const ev = new Event();
      expect(await thrown(waitFor(ev.wait(), 0.1))).toBeInstanceOf(TimeoutError);
      expect(ev._waiterCount()).toBe(0);
      ev.set();
      expect(await ev.wait()).toBe(true);
    });
  });

  it("wait_for(cond.wait()) timing out leaves the lock held by the caller (test_locks: test_timeout_in_block)", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      await cond.acquire();
      expect(await thrown(waitFor(cond.wait(), 0.5))).toBeInstanceOf(TimeoutError);
      expect(cond.locked()).toBe(true);
      expect(cond._waiterCount()).toBe(0);
      cond.release(); // must not throw: the caller holds the lock again
      await settle();
      expect(cond.locked()).toBe(false);
    });
  });

  it("wait_for(cond.waitFor(predicate)) timing out leaves the lock held by the caller", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      await cond.acquire();
      const never = cond.waitFor(() => false);
      expect(await thrown(waitFor(never, 0.5))).toBeInstanceOf(TimeoutError);
      expect(cond.locked()).toBe(true);
      expect(cond._waiterCount()).toBe(0);
      cond.release();
      await settle();
      expect(cond.locked()).toBe(false);
    });
  });

  it("a notified waiter cancelled while in wait_for(cond.wait()) passes the notification on (after test_locks: test_wait_cancel_after_notify)", async () => {
    await runVirtual(async () => {
      const cond = new Condition();
      const woke: string[] = [];
      const waiter = (name: string) =>
        createTask(async () => {
          await cond.acquire();
          try {
            await waitFor(cond.wait(), 10);
            woke.push(name);
          } finally {
            cond.release();
          }
        });
      const a = waiter("a");
      const b = waiter("b");
      await settle();
      await cond.acquire();
      cond.notify(1); // wakes a
      a.cancel();
      cond.release();
      await settle(10);
      expect(a.cancelled()).toBe(true);
      expect(woke).toEqual(["b"]);
      expect(b.done()).toBe(true);
      expect(cond.locked()).toBe(false);
    });
  });

  it("wait_for(barrier.wait()) timing out leaves the barrier: nWaiting is 0 and the next two parties pass", async () => {
    await runVirtual(async () => {
      const barrier = new Barrier(2);
      expect(await thrown(waitFor(barrier.wait(), 0.1))).toBeInstanceOf(TimeoutError);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
      const p1 = createTask(() => barrier.wait());
      await tick();
      expect(p1.done()).toBe(false);
      const p2 = createTask(() => barrier.wait());
      expect(new Set([await p1, await p2])).toEqual(new Set([0, 1]));
    });
  });

  it("cancel() on the Future of sleep() stops it: it never resolves, and time does not wait for it", async () => {
    await runVirtual(async () => {
      const s = fut(sleep(10, "late"));
      expect(s.cancel()).toBe(true);
      await sleep(20);
      expect(s.cancelled()).toBe(true);
      expect(time()).toBe(20);
    });
  });
});

describe("hold(): the acquire behind `await using` is withdrawable too", () => {
  for (const make of [() => new Lock(), () => new Semaphore(1), () => new Condition()] as const) {
    const name = make().constructor.name;
    it(`${name}: waitFor(x.hold(), 1) timing out never leaves it held later`, async () => {
      await runVirtual(async () => {
        const x = make();
        const first = await x.hold();
        const e = await thrown(() => waitFor(x.hold(), 1));
        expect(e).toBeInstanceOf(TimeoutError);
        first.release();
        await settle();
        expect(x.locked()).toBe(false);
        // The next holder gets it at once: no phantom holder took it.
        const next = await waitFor(x.hold(), 0.5);
        next.release();
        expect(x.locked()).toBe(false);
      });
    });

    it(`${name}: a hold cancelled after its acquire was granted gives back what it took`, async () => {
      await runVirtual(async () => {
        const x = make();
        const first = await x.hold();
        const pending = x.hold();
        first.release(); // grants the waiting acquire, on the ready queue
        pending.cancel(); // withdrawn before the grant settles, or released if it already had
        await settle();
        expect(pending.cancelled()).toBe(true);
        expect(x.locked()).toBe(false);
      });
    });
  }
});

describe("a woken waiter whose task is cancelled before it runs passes its turn on", () => {
  it("Queue.get: the item goes to the next getter (no lost wake-up)", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      let got: number | undefined;
      const first = createTask(async () => {
        await q.get();
      });
      const second = createTask(async () => {
        got = await q.get();
      });
      await settle();
      q.putNowait(7); // wakes the first getter; its turn settles on the ready queue
      first.cancel(); // its get is woken but still pending: withdrawn, the turn passes on
      await settle();
      expect(first.cancelled()).toBe(true);
      expect(got).toBe(7);
      expect(second.done()).toBe(true);
      expect(q.qsize()).toBe(0);
    });
  });
});
