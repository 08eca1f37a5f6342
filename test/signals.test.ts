/**
 * Issue 10: an AbortSignal on every operation that can wait — `q.get({ signal })`,
 * `q.put(item, { signal })`, `q.join({ signal })`, `lock.acquire({ signal })`,
 * `sem.acquire({ signal })`, `event.wait({ signal })`, `cond.wait({ signal })`,
 * `barrier.wait({ signal })`, `sleep(seconds, value, { signal })` (the shape of Node's
 * `timers/promises` setTimeout). Aborting rejects with `signal.reason` (the very object) and
 * withdraws the operation as cancelling it does; an already-aborted signal rejects at once and
 * takes nothing; the abort listener is gone once the operation ends. Inside a task, and in plain
 * async code outside any run().
 */
import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import {
  Barrier,
  BoundedSemaphore,
  CancelledError,
  Condition,
  createTask,
  currentTask,
  Event,
  Future,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  Semaphore,
  sleep,
  time,
  waitFor,
} from "../src/node.js";
import { runVirtual, settle, tick } from "./support.js";

// The options argument is not in the public types yet: these helpers cast once, so this file
// type-checks now and once the real signatures exist.

/** What each waiting operation accepts as its last argument. */
interface SignalOptions {
  signal?: AbortSignal;
}

function getWith<T>(q: Queue<T>, options: SignalOptions): PromiseLike<T> {
  return (q.get as (this: Queue<T>, options: SignalOptions) => PromiseLike<T>).call(q, options);
}

function putWith<T>(q: Queue<T>, item: T, options: SignalOptions): PromiseLike<void> {
  return (q.put as (this: Queue<T>, item: T, options: SignalOptions) => PromiseLike<void>).call(q, item, options);
}

function joinWith(q: Queue<unknown>, options: SignalOptions): PromiseLike<void> {
  return (q.join as (this: Queue<unknown>, options: SignalOptions) => PromiseLike<void>).call(q, options);
}

function acquireWith(lock: Lock | Semaphore, options: SignalOptions): PromiseLike<true> {
  return (lock.acquire as (this: Lock | Semaphore, options: SignalOptions) => PromiseLike<true>).call(lock, options);
}

function eventWaitWith(ev: Event, options: SignalOptions): PromiseLike<true> {
  return (ev.wait as (this: Event, options: SignalOptions) => PromiseLike<true>).call(ev, options);
}

function condWaitWith(cond: Condition, options: SignalOptions): PromiseLike<true> {
  return (cond.wait as (this: Condition, options: SignalOptions) => PromiseLike<true>).call(cond, options);
}

function barrierWaitWith(barrier: Barrier, options: SignalOptions): PromiseLike<number> {
  return (barrier.wait as (this: Barrier, options: SignalOptions) => PromiseLike<number>).call(barrier, options);
}

function sleepWith<T>(seconds: number, value: T, options: SignalOptions): PromiseLike<T> {
  return (sleep as (seconds: number, value: T, options: SignalOptions) => PromiseLike<T>)(seconds, value, options);
}

/** Number of abort listeners on `signal`, however they were added. */
function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, "abort").length;
}

/** Resolves after `ms` real milliseconds (a native timer: usable outside any run()). */
function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const STILL_PENDING = "still pending";

/**
 * What `op` rejected with, waiting at most one real pass of the timers (5 ms): the error, or a
 * description of what happened instead, so a failing assertion says why.
 */
async function rejection(op: PromiseLike<unknown>): Promise<unknown> {
  let result: unknown = STILL_PENDING;
  const settled = Promise.resolve(op).then(
    (value) => {
      result = `resolved with ${String(value)}`;
    },
    (error: unknown) => {
      result = error;
    },
  );
  await Promise.race([settled, realDelay(5)]);
  return result;
}

/** True if `op` has settled after one pass of the loop (or a few microtasks outside run()). */
async function settlesAtOnce(op: PromiseLike<unknown>): Promise<boolean> {
  let settled = false;
  Promise.resolve(op).then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await tick();
  return settled;
}

class Stop extends Error {}

type QueueMaker = (maxsize?: number) => Queue<number>;
const queueKinds: Array<[string, QueueMaker]> = [
  ["Queue", (m = 0) => new Queue<number>(m)],
  ["PriorityQueue", (m = 0) => new PriorityQueue<number>(m)],
  ["LifoQueue", (m = 0) => new LifoQueue<number>(m)],
];

/**
 * One waiting operation: `blocked` sets up a state where it must wait and returns the op and
 * the check that it was withdrawn after the abort; `ready` a state where it could complete at
 * once, with the check that an aborted op left that state untouched.
 */
interface OpCase {
  name: string;
  blocked(signal: AbortSignal): Promise<{ op: PromiseLike<unknown>; withdrawn: () => Promise<void> }>;
  ready(signal: AbortSignal): Promise<Ready>;
}

interface Ready {
  op: PromiseLike<unknown>;
  /** What the op gives when the signal is never aborted. */
  value: unknown;
  /** Checks, after the op rejected for an already-aborted signal, that it took nothing. */
  untouched: () => Promise<void>;
  /** For an op that never completes by itself (Condition.wait): makes it complete. */
  finish?: () => Promise<void>;
  /** Runs after the op completed normally. */
  cleanup?: () => void;
}

const opCases: OpCase[] = [
  ...queueKinds.flatMap(([kind, make]): OpCase[] => [
    {
      name: `${kind}.get({ signal })`,
      async blocked(signal) {
        const q = make();
        return {
          op: getWith(q, { signal }),
          async withdrawn() {
            q.putNowait(7);
            await settle();
            expect(q.qsize(), "the aborted get took the item put later").toBe(1);
            expect(q.getNowait()).toBe(7);
            expect(q._waiterCounts()).toEqual([0, 0]);
          },
        };
      },
      async ready(signal) {
        const q = make();
        q.putNowait(7);
        return {
          op: getWith(q, { signal }),
          value: 7,
          async untouched() {
            await settle();
            expect(q.qsize(), "the aborted get took the item").toBe(1);
            expect(q.getNowait()).toBe(7);
          },
        };
      },
    },
    {
      name: `${kind}.put(item, { signal })`,
      async blocked(signal) {
        const q = make(1);
        q.putNowait(1);
        return {
          op: putWith(q, 2, { signal }),
          async withdrawn() {
            expect(q.getNowait()).toBe(1);
            await settle();
            expect(q.qsize(), "the aborted put added its item later").toBe(0);
            expect(q._waiterCounts()).toEqual([0, 0]);
          },
        };
      },
      async ready(signal) {
        const q = make();
        return {
          op: putWith(q, 2, { signal }),
          value: undefined,
          async untouched() {
            await settle();
            expect(q.qsize(), "the aborted put added its item").toBe(0);
          },
        };
      },
    },
    {
      name: `${kind}.join({ signal })`,
      async blocked(signal) {
        const q = make();
        q.putNowait(1);
        return {
          op: joinWith(q, { signal }),
          async withdrawn() {
            q.getNowait();
            q.taskDone();
            await settle();
            expect(q.qsize()).toBe(0);
          },
        };
      },
      async ready(signal) {
        const q = make();
        return { op: joinWith(q, { signal }), value: undefined, async untouched() {} };
      },
    },
  ]),
  {
    name: "Lock.acquire({ signal })",
    async blocked(signal) {
      const lock = new Lock();
      await lock.acquire();
      return {
        op: acquireWith(lock, { signal }),
        async withdrawn() {
          lock.release();
          await settle();
          expect(lock.locked(), "the aborted acquire was granted the lock later").toBe(false);
          expect(lock._waiterCount()).toBe(0);
        },
      };
    },
    async ready(signal) {
      const lock = new Lock();
      return {
        op: acquireWith(lock, { signal }),
        value: true,
        async untouched() {
          await settle();
          expect(lock.locked(), "the aborted acquire took the free lock").toBe(false);
        },
      };
    },
  },
  ...[Semaphore, BoundedSemaphore].map(
    (Kind): OpCase => ({
      name: `${Kind.name}.acquire({ signal })`,
      async blocked(signal) {
        const sem = new Kind(1);
        await sem.acquire();
        return {
          op: acquireWith(sem, { signal }),
          async withdrawn() {
            sem.release();
            await settle();
            expect(sem.value, "the aborted acquire took the permit released later").toBe(1);
            expect(sem.locked()).toBe(false);
          },
        };
      },
      async ready(signal) {
        const sem = new Kind(1);
        return {
          op: acquireWith(sem, { signal }),
          value: true,
          async untouched() {
            await settle();
            expect(sem.value, "the aborted acquire took the free permit").toBe(1);
          },
        };
      },
    }),
  ),
  {
    name: "Event.wait({ signal })",
    async blocked(signal) {
      const ev = new Event();
      return {
        op: eventWaitWith(ev, { signal }),
        async withdrawn() {
          expect(ev._waiterCount()).toBe(0);
          ev.set();
          await settle();
        },
      };
    },
    async ready(signal) {
      const ev = new Event();
      ev.set();
      return { op: eventWaitWith(ev, { signal }), value: true, async untouched() {} };
    },
  },
  {
    name: "Condition.wait({ signal })",
    async blocked(signal) {
      const cond = new Condition();
      await cond.acquire();
      const op = condWaitWith(cond, { signal });
      return {
        op,
        async withdrawn() {
          // Like a cancelled wait, an aborted one re-acquires the lock before rejecting.
          expect(cond.locked(), "the aborted wait did not take the lock back").toBe(true);
          expect(cond._waiterCount()).toBe(0);
          cond.release();
          await settle();
          expect(cond.locked()).toBe(false);
        },
      };
    },
    async ready(signal) {
      // A wait never completes at once; with the signal already aborted it rejects without
      // giving up the lock.
      const cond = new Condition();
      await cond.acquire();
      return {
        op: condWaitWith(cond, { signal }),
        value: true,
        async untouched() {
          await settle();
          expect(cond.locked()).toBe(true);
          expect(cond._waiterCount()).toBe(0);
          cond.release();
        },
        async finish() {
          await cond.acquire(); // free: the wait released it
          cond.notify();
          cond.release();
        },
        cleanup() {
          expect(cond.locked()).toBe(true); // the wait took the lock back
          cond.release();
        },
      };
    },
  },
  {
    name: "Barrier.wait({ signal })",
    async blocked(signal) {
      const barrier = new Barrier(2);
      return {
        op: barrierWaitWith(barrier, { signal }),
        async withdrawn() {
          expect(barrier.nWaiting, "the aborted party still counts").toBe(0);
          expect(barrier.broken).toBe(false);
          const both = Promise.all([barrier.wait(), barrier.wait()]);
          expect(new Set(await both)).toEqual(new Set([0, 1]));
        },
      };
    },
    async ready(signal) {
      const barrier = new Barrier(1);
      return {
        op: barrierWaitWith(barrier, { signal }),
        value: 0,
        async untouched() {
          expect(barrier.nWaiting).toBe(0);
          expect(barrier.broken).toBe(false);
          expect(await barrier.wait()).toBe(0);
        },
      };
    },
  },
  {
    name: "sleep(seconds, value, { signal })",
    async blocked(signal) {
      let resolved = false;
      const op = sleepWith(0.003, "v", { signal });
      op.then(
        () => {
          resolved = true;
        },
        () => {},
      );
      return {
        op,
        async withdrawn() {
          await realDelay(5); // past the sleep's deadline on either clock
          await settle();
          expect(resolved).toBe(false);
        },
      };
    },
    async ready(signal) {
      return { op: sleepWith(0, "v", { signal }), value: "v", async untouched() {} };
    },
  },
];

/** The scenarios, run once inside a task on the virtual clock and once outside any run(). */
function defineScenarios(where: string, within: (body: () => Promise<void>) => Promise<void>): void {
  describe(`AbortSignal on waiting operations, ${where}`, () => {
    for (const c of opCases) {
      it(`${c.name}: aborting rejects with signal.reason and withdraws the operation`, async () => {
        await within(async () => {
          const controller = new AbortController();
          const { op, withdrawn } = await c.blocked(controller.signal);
          await tick();
          const reason = new Stop("stop waiting");
          controller.abort(reason);
          expect(await rejection(op)).toBe(reason);
          await withdrawn();
          expect(abortListeners(controller.signal)).toBe(0);
        });
      });

      it(`${c.name}: the default reason is the signal's own AbortError DOMException`, async () => {
        await within(async () => {
          const controller = new AbortController();
          const { op, withdrawn } = await c.blocked(controller.signal);
          await tick();
          controller.abort();
          const error = await rejection(op);
          expect(error).toBe(controller.signal.reason);
          expect(error).toBeInstanceOf(DOMException);
          expect((error as DOMException).name).toBe("AbortError");
          await withdrawn();
        });
      });

      it(`${c.name}: an already-aborted signal rejects at once and takes nothing, though the operation could complete`, async () => {
        await within(async () => {
          const reason = new Stop("aborted before");
          const { op, untouched } = await c.ready(AbortSignal.abort(reason));
          expect(await settlesAtOnce(op)).toBe(true);
          expect(await rejection(op)).toBe(reason);
          await untouched();
        });
      });

      it(`${c.name}: with a signal never aborted it completes as usual and leaves no abort listener`, async () => {
        await within(async () => {
          const controller = new AbortController();
          const { op, value, finish, cleanup } = await c.ready(controller.signal);
          await finish?.();
          expect(await op).toBe(value);
          cleanup?.();
          expect(abortListeners(controller.signal)).toBe(0);
          controller.abort(new Stop("too late")); // no effect: nothing is listening any more
          await settle();
        });
      });
    }
  });
}

defineScenarios("inside a task (virtual clock)", (body) => runVirtual(body));
defineScenarios("outside any run()", (body) => body());

describe("AbortSignal: details", () => {
  it("the rejection reaches the awaiting task as signal.reason, not as a cancellation: the task goes on", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      const controller = new AbortController();
      const reason = new Stop("give up");
      const consumer = createTask(async () => {
        let caught: unknown;
        try {
          await getWith(q, { signal: controller.signal });
        } catch (e) {
          caught = e;
        }
        expect(caught).toBe(reason);
        expect(currentTask()?.cancelling()).toBe(0);
        return await q.get();
      });
      await tick();
      controller.abort(reason);
      await settle();
      q.putNowait(9);
      expect(await consumer).toBe(9);
      expect(consumer.cancelled()).toBe(false);
    });
  });

  it("a reason that is not an Error (a string) is what the operation rejects with", async () => {
    await runVirtual(async () => {
      const lock = new Lock();
      await lock.acquire();
      const controller = new AbortController();
      const op = acquireWith(lock, { signal: controller.signal });
      await tick();
      controller.abort("shutting down");
      expect(await rejection(op)).toBe("shutting down");
      lock.release();
      await settle();
      expect(lock.locked()).toBe(false);
    });
  });

  it("aborting a sleep on the virtual clock rejects at the virtual time of the abort", async () => {
    await runVirtual(async () => {
      const controller = new AbortController();
      const reason = new Stop();
      const s = sleepWith(10, "late", { signal: controller.signal });
      await sleep(2);
      controller.abort(reason);
      expect(await rejection(s)).toBe(reason);
      expect(time()).toBe(2);
    });
  });

  it("waitFor(q.get({ signal }), t) timing out leaves no abort listener and takes nothing", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      const controller = new AbortController();
      const get = getWith(q, { signal: controller.signal });
      await expect(waitFor(get, 0.1)).rejects.toThrow();
      expect(abortListeners(controller.signal)).toBe(0);
      controller.abort(new Stop());
      q.putNowait(1);
      await settle();
      expect(q.qsize()).toBe(1);
    });
  });

  it("cancel() on an operation with a signal removes its abort listener; a later abort changes nothing", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      const controller = new AbortController();
      const get = getWith(q, { signal: controller.signal });
      expect(get).toBeInstanceOf(Future);
      expect((get as Future<number>).cancel()).toBe(true);
      await settle();
      expect(abortListeners(controller.signal)).toBe(0);
      controller.abort(new Stop());
      await expect(get).rejects.toBeInstanceOf(CancelledError);
    });
  });

  it("one long-lived signal shared by many waits never holds more than the live waits' listeners", async () => {
    await runVirtual(async () => {
      const q = new Queue<number>();
      const lock = new Lock();
      const controller = new AbortController();
      const { signal } = controller;
      let most = 0;
      const consumer = createTask(async () => {
        for (let i = 0; i < 200; i++) {
          await getWith(q, { signal });
          await acquireWith(lock, { signal });
          lock.release();
          await sleepWith(0.01, undefined, { signal });
          most = Math.max(most, abortListeners(signal));
        }
      });
      for (let i = 0; i < 200; i++) {
        q.putNowait(i);
        await sleep(0.01);
        most = Math.max(most, abortListeners(signal));
      }
      await consumer;
      expect(most).toBeLessThanOrEqual(1);
      expect(abortListeners(signal)).toBe(0);
    });
  });
});
