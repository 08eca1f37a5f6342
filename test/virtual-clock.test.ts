import { createServer, type Server, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main as seedMain } from "../examples/seed.js";
import { seededRandom } from "../src/internal/prng.js";
import {
  CancelledError,
  createTask,
  DeadlockError,
  Event,
  FIRST_COMPLETED,
  Future,
  gather,
  getRunningLoop,
  isCancelled,
  Lock,
  Queue,
  run,
  sleep,
  TimeoutError,
  time,
  timeout,
  VirtualClock,
  wait,
  waitFor,
} from "../src/node.js";
import { thrown, virtualClock } from "./support.js";

describe("time on the virtual clock", () => {
  it("starts at 0 and jumps straight to each deadline", async () => {
    const started = performance.now();
    const seen = await run(async () => {
      const t0 = time();
      await sleep(5);
      const t1 = time();
      await sleep(3600 * 24);
      return [t0, t1, time()];
    }, virtualClock);
    expect(seen).toEqual([0, 5, 5 + 3600 * 24]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("starts at the given time and only moves when every task waits", async () => {
    const seen = await run(
      async () => {
        const t0 = time();
        for (let i = 0; i < 1000; i++) await sleep(0); // ticks do not move time
        const t1 = time();
        await sleep(1);
        return [t0, t1, time()];
      },
      { clock: new VirtualClock({ start: 100 }) },
    );
    expect(seen).toEqual([100, 100, 101]);
  });

  it("timers due at the same instant fire in scheduling order", async () => {
    const order = await run(async () => {
      const loop = getRunningLoop();
      const fired: string[] = [];
      loop.callAt(10, (s: string) => fired.push(s), "a (scheduled at 0 for 10)");
      loop.callLater(10, (s: string) => fired.push(s), "b (scheduled at 0 for 10)");
      await sleep(4);
      loop.callLater(6, (s: string) => fired.push(s), "c (scheduled at 4 for 10)");
      loop.callAt(10, (s: string) => fired.push(s), "d (scheduled at 4 for 10)");
      loop.callAt(9, (s: string) => fired.push(s), "e (scheduled at 4 for 9)");
      await sleep(10);
      return fired;
    }, virtualClock);
    expect(order).toEqual([
      "e (scheduled at 4 for 9)",
      "a (scheduled at 0 for 10)",
      "b (scheduled at 0 for 10)",
      "c (scheduled at 4 for 10)",
      "d (scheduled at 4 for 10)",
    ]);
  });

  it("tasks sleeping until the same instant resume in the order they went to sleep", async () => {
    const order = await run(async () => {
      const resumed: string[] = [];
      const sleeper = (name: string, delay: number) => async () => {
        await sleep(delay);
        resumed.push(`${name}@${time()}`);
      };
      const tasks = [createTask(sleeper("late", 10))];
      await sleep(5);
      tasks.push(createTask(sleeper("early", 5)), createTask(sleeper("earliest", 4)));
      await gather(...tasks);
      return resumed;
    }, virtualClock);
    expect(order).toEqual(["earliest@9", "late@10", "early@10"]);
  });

  it("a task woken by a timer runs until it waits again before the next timer of that instant", async () => {
    const log = await run(async () => {
      const out: string[] = [];
      const q = new Queue<number>();
      q.putNowait(1);
      const a = createTask(async () => {
        await sleep(1);
        out.push("a woke");
        const item = await q.get(); // available: no wait, but several microtask turns
        out.push(`a took ${item}`);
        await sleep(1);
      });
      const b = createTask(async () => {
        await sleep(1);
        out.push(`b woke, queue has ${q.qsize()}`);
      });
      await gather(a, b);
      return out;
    }, virtualClock);
    expect(log).toEqual(["a woke", "a took 1", "b woke, queue has 0"]);
  });

  it("the seed program finishes at time() == 17 exactly, in the order of expected-output.txt, at once", async () => {
    // The seed's expected-output.txt, as Python prints it.
    const expected = [
      "Task One running",
      "Task Two running",
      "Task Two elapsed time: 10.0",
      "Task Two running",
      "Task One elapsed time: 15.0",
      "Task One running",
      "Task Two elapsed time: 5.0",
      "Task One elapsed time: 2.0",
      "",
      "Total elapsed time: 17.0",
      "",
    ].join("\n");
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.join(" "));
    });
    const started = performance.now();
    let end: number;
    try {
      end = await run(async () => {
        await seedMain();
        return time();
      }, virtualClock);
    } finally {
      spy.mockRestore();
    }
    expect(performance.now() - started).toBeLessThan(500);
    expect(end).toBe(17);
    expect(`${lines.join("\n")}\n`).toBe(expected);
  });

  it("10,000 tasks with seeded random sleeps: the same event log on two runs, each waking exactly at its deadline", async () => {
    const simulate = () =>
      run(async () => {
        const random = seededRandom(2024);
        const log: string[] = [];
        let late = 0;
        const worker = (id: number) => async () => {
          for (let i = 0; i < 3; i++) {
            const delay = Math.floor(random() * 1000) / 8; // many shared instants, exact in binary
            const deadline = time() + delay;
            await sleep(delay);
            if (time() !== deadline) late++;
            log.push(`${id}:${time()}`);
          }
        };
        const tasks = [];
        for (let id = 0; id < 10_000; id++) tasks.push(createTask(worker(id)));
        await gather(...tasks);
        return { log, late, end: time() };
      }, virtualClock);
    const started = performance.now();
    const first = await simulate();
    const second = await simulate();
    expect(first.log).toHaveLength(30_000);
    expect(first.late).toBe(0);
    expect(second.log).toEqual(first.log);
    expect(second.end).toBe(first.end);
    // Wake-ups come out in time order.
    const times = first.log.map((line) => Number(line.split(":")[1]));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("advance() moves time by hand, firing the timers due on the way", () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    clock.callAt(3, (n: number) => fired.push(n), 3);
    clock.callAt(1, (n: number) => fired.push(n), 1);
    const cancelled = clock.callAt(2, (n: number) => fired.push(n), 2);
    clock.cancel(cancelled);
    expect(cancelled.pending).toBe(false);
    clock.advance(2.5);
    expect(fired).toEqual([1]);
    expect(clock.now()).toBe(2.5);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1);
    expect(fired).toEqual([1, 3]);
    clock.close();
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it("one clock instance can serve one run after another, time carrying on", async () => {
    const clock = new VirtualClock();
    const first = await run(
      async () => {
        await sleep(5);
        return time();
      },
      { clock },
    );
    const second = await run(
      async () => {
        await sleep(5);
        return time();
      },
      { clock },
    );
    expect([first, second]).toEqual([5, 10]);
  });

  it("rejects bad options with messages that name them", () => {
    expect(() => new VirtualClock({ autojumpThreshold: -1 })).toThrow(
      /Expected `autojumpThreshold` to be a non-negative number of seconds, got `-1` \(number\)/,
    );
    expect(() => new VirtualClock({ start: Number.NaN })).toThrow(RangeError);
  });

  it("reports an error thrown by a timer callback and keeps going", async () => {
    const errors: unknown[] = [];
    const result = await run(
      async () => {
        getRunningLoop().callLater(
          1,
          () => {
            throw new Error("boom");
          },
          undefined,
        );
        await sleep(2);
        return time();
      },
      { clock: "virtual", onError: (context) => errors.push(context.error) },
    );
    expect(result).toBe(2);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe("boom");
  });
});

describe("timeouts on the virtual clock", () => {
  it("timeout, waitFor and wait({ timeout }) use the loop's clock, to the exact instant", async () => {
    await run(async () => {
      const e = await thrown(() => timeout(2.5, () => sleep(10)));
      expect(e).toBeInstanceOf(TimeoutError);
      expect(time()).toBe(2.5);

      const e2 = await thrown(() => waitFor(() => sleep(10), 1.5));
      expect(e2).toBeInstanceOf(TimeoutError);
      expect(time()).toBe(4);
      expect(await waitFor(sleep(1, "in time"), 1.5)).toBe("in time");
      expect(time()).toBe(5);

      const slow = createTask(() => sleep(100));
      const fast = createTask(() => sleep(3));
      const [done, pending] = await wait([slow, fast], { timeout: 7, returnWhen: FIRST_COMPLETED });
      expect(done).toEqual(new Set([fast]));
      expect(pending).toEqual(new Set([slow]));
      expect(time()).toBe(8);
      const [done2] = await wait([slow], { timeout: 7 });
      expect(done2.size).toBe(0);
      expect(time()).toBe(15);
      slow.cancel();
    }, virtualClock);
  });
});

describe("deadlocks", () => {
  it("a deadlock is reported, not hung: DeadlockError names each task and what it waits on", async () => {
    const cleanedUp: string[] = [];
    const started = performance.now();
    const error = await thrown(() =>
      run(async () => {
        const jobs = new Queue<number>();
        const lock = new Lock();
        const ready = new Event();
        const worker = (name: string) => async () => {
          try {
            await sleep(2);
            await jobs.get(); // nobody ever puts
          } finally {
            cleanedUp.push(name);
          }
        };
        const w1 = createTask(worker("worker-1"), { name: "worker-1" });
        const w2 = createTask(worker("worker-2"), { name: "worker-2" });
        await lock.acquire();
        createTask(() => lock.acquire(), { name: "locker" });
        createTask(() => ready.wait(), { name: "waiter" });
        await sleep(5);
        await gather(w1, w2);
      }, virtualClock),
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(DeadlockError);
    const deadlock = error as DeadlockError;
    expect(deadlock.time).toBe(5);
    expect(deadlock.seed).toBeUndefined();
    const byName = Object.fromEntries(deadlock.waiting.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(["locker", "main", "waiter", "worker-1", "worker-2"]);
    expect(byName["worker-2"]).toEqual({ name: "worker-2", waitsOn: "queue.get", since: 2 });
    expect(byName.locker?.waitsOn).toBe("lock.acquire");
    expect(byName.waiter?.waitsOn).toBe("event.wait");
    expect(byName.main?.since).toBe(5);
    expect(deadlock.message).toContain('"worker-2" waits on queue.get (since t=2s, for 3s)');
    expect(deadlock.message).toContain('"locker" waits on lock.acquire');
    // Every task was cancelled on the way out: their finally blocks ran.
    expect(cleanedUp.sort()).toEqual(["worker-1", "worker-2"]);
  });

  it("a deadlock with no timer ever scheduled is reported too", async () => {
    const error = await thrown(() => run(() => new Future<void>(), { ...virtualClock, name: "root" }));
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).waiting).toEqual([{ name: "root", waitsOn: "future", since: 0 }]);
  });

  it("a task stuck while run() cancels it on the way out is reported, not hung", async () => {
    const error = await thrown(() =>
      run(async () => {
        createTask(
          async () => {
            try {
              await sleep(100);
            } catch (e) {
              if (!isCancelled(e)) throw e;
              await new Future<void>(); // a cleanup that never finishes
            }
          },
          { name: "stubborn" },
        );
        await sleep(1);
      }, virtualClock),
    );
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).waiting.map((t) => t.name)).toEqual(["stubborn"]);
  });

  it("a task awaiting a foreign promise is not deadlocked: the clock waits for it", async () => {
    const result = await run(async () => {
      const io = createTask(async () => {
        await new Promise((resolve) => setTimeout(resolve, 3)); // real I/O stand-in
        return "answered";
      });
      return await io;
    }, virtualClock);
    expect(result).toBe("answered");
  });

  it("a future completed by a real callback within the grace is not taken for a deadlock", async () => {
    const result = await run(async () => {
      const reply = new Future<string>();
      setTimeout(() => reply.setResult("from a real timer"), 2);
      const [value] = await gather(reply, new Promise<string>((resolve) => setTimeout(resolve, 4, "a promise")));
      return [value, time()];
    }, virtualClock);
    expect(result).toEqual(["from a real timer", 0]);
  });

  it("detectDeadlock: false leaves the program waiting for whatever wakes it", async () => {
    const wakeUp = new Future<string>();
    const running = run(() => wakeUp, { ...virtualClock, detectDeadlock: false });
    await new Promise((resolve) => setTimeout(resolve, 15));
    wakeUp.setResult("woken from outside");
    expect(await running).toBe("woken from outside");
  });

  it("rejects a non-boolean detectDeadlock", async () => {
    await expect(run(async () => {}, { detectDeadlock: "yes" as unknown as boolean })).rejects.toThrow(
      'Expected `detectDeadlock` to be a boolean, got "yes" (string)',
    );
  });
});

describe("real I/O under the virtual clock: autojumpThreshold", () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((socket) => socket.on("data", (data) => socket.write(data)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Sends `text` to the local echo server and resolves to the answer: a foreign promise. */
  const echo = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = new Socket();
      socket.once("error", reject);
      socket.connect(port, "127.0.0.1", () => socket.write(text));
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString());
      });
    });

  /** A task sleeps 60 virtual seconds while main awaits the echo server. */
  const program = async () => {
    const sleeper = createTask(() => sleep(60));
    const answer = await echo("ping");
    const at = time();
    sleeper.cancel();
    return { answer, at };
  };

  it("without a threshold, time races ahead while a socket is still to answer", async () => {
    expect(await run(program, virtualClock)).toEqual({ answer: "ping", at: 60 });
  });

  it("with autojumpThreshold, the clock waits for real idleness, so the answer comes first", async () => {
    const started = performance.now();
    // A generous threshold: a loaded CI machine may take a while to answer on loopback.
    expect(await run(program, { clock: "virtual", autojumpThreshold: 0.25 })).toEqual({ answer: "ping", at: 0 });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("with autojumpThreshold, each jump waits for that much real idleness", async () => {
    const started = performance.now();
    const at = await run(
      async () => {
        await sleep(10);
        await sleep(10);
        return time();
      },
      { clock: new VirtualClock({ autojumpThreshold: 0.004 }) },
    );
    expect(at).toBe(20);
    expect(performance.now() - started).toBeGreaterThanOrEqual(7);
  });

  it("with autojumpThreshold, a future completed by a real callback is not taken for a deadlock", async () => {
    const result = await run(
      async () => {
        const reply = new Future<string>();
        setTimeout(() => reply.setResult("late but fine"), 3);
        return await reply;
      },
      { clock: "virtual", autojumpThreshold: 0.03 },
    );
    expect(result).toBe("late but fine");
  });

  it("autojumpThreshold is for clock: 'virtual' only", async () => {
    await expect(run(async () => {}, { autojumpThreshold: 0.05 })).rejects.toThrow(TypeError);
    await expect(run(async () => {}, { clock: "virtual", autojumpThreshold: -1 })).rejects.toThrow(RangeError);
  });
});

describe("schedule fuzzing: run(main, { shuffle: seed })", () => {
  /** Ten tasks sleep until the same instant, then each does a tick; returns who ran when. */
  const contenders = async () => {
    const log: string[] = [];
    const tasks = [];
    for (let i = 0; i < 10; i++) {
      tasks.push(
        createTask(async () => {
          await sleep(1);
          log.push(`woke ${i}`);
        }),
      );
    }
    await gather(...tasks);
    const loop = getRunningLoop();
    for (let i = 0; i < 10; i++) loop.callSoon((n: number) => log.push(`soon ${n}`), i);
    await sleep(0);
    await sleep(0);
    return log;
  };
  const fifo = [
    ...Array.from({ length: 10 }, (_, i) => `woke ${i}`),
    ...Array.from({ length: 10 }, (_, i) => `soon ${i}`),
  ];

  it("without shuffle the order is FIFO; a seed permutes equally ready wake-ups, the same way every run", async () => {
    expect(await run(contenders, virtualClock)).toEqual(fifo);
    const a = await run(contenders, { ...virtualClock, shuffle: 12345 });
    const b = await run(contenders, { ...virtualClock, shuffle: 12345 });
    const c = await run(contenders, { ...virtualClock, shuffle: 54321 });
    expect(b).toEqual(a);
    expect(a).not.toEqual(fifo);
    expect(c).not.toEqual(a);
    expect([...a].sort()).toEqual([...fifo].sort()); // nothing lost, nothing doubled
    // Timers first, then the pass: permuted within each group only.
    expect(a.slice(0, 10).every((line) => line.startsWith("woke"))).toBe(true);
  });

  it("permutes waiters released together", async () => {
    const releaseOrder = (shuffle?: number) =>
      run(
        async () => {
          const gate = new Event();
          const order: number[] = [];
          const tasks = [];
          for (let i = 0; i < 8; i++) {
            tasks.push(
              createTask(async () => {
                await gate.wait();
                order.push(i);
              }),
            );
          }
          await sleep(1);
          gate.set();
          await gather(...tasks);
          return order;
        },
        shuffle === undefined ? virtualClock : { ...virtualClock, shuffle },
      );
    expect(await releaseOrder()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const orders = new Set<string>();
    for (let seed = 0; seed < 20; seed++) orders.add(JSON.stringify(await releaseOrder(seed)));
    expect(orders.size).toBeGreaterThan(1);
  });

  /**
   * A planted race: two customers each check that a seat is free, then, after an await, book it.
   * In FIFO order Alice books before Bob checks; in some interleavings Bob checks first and the
   * one seat is sold twice.
   */
  const boxOffice = async () => {
    let seats = 1;
    const sold: string[] = [];
    const customer = (name: string) => async () => {
      await sleep(1); // arrives at t=1
      if (seats > 0) {
        // check ...
        await sleep(1); // ... pays ...
        seats -= 1; // ... and acts on a check that may be stale
        sold.push(name);
      }
    };
    const alice = createTask(customer("alice"));
    const bob = createTask(async () => {
      await sleep(1); // arrives at t=2: checks at the instant Alice books
      await customer("bob")();
    });
    await gather(alice, bob);
    if (seats < 0) throw new Error(`oversold: ${sold.join(" and ")} both booked the last seat`);
    return sold;
  };

  it("finds a planted check-then-act race over 200 seeds and replays it from the seed it reports", async () => {
    expect(await run(boxOffice, virtualClock)).toEqual(["alice"]); // FIFO hides the race
    let failure: (Error & { shuffleSeed?: number }) | undefined;
    let failingSeeds = 0;
    for (let seed = 0; seed < 200; seed++) {
      try {
        await run(boxOffice, { ...virtualClock, shuffle: seed });
      } catch (e) {
        failingSeeds++;
        failure ??= e as Error & { shuffleSeed?: number };
      }
    }
    expect(failure?.message).toMatch(/^oversold: /);
    expect(failingSeeds).toBeGreaterThan(0);
    expect(failingSeeds).toBeLessThan(200);
    const seed = failure?.shuffleSeed as number;
    expect(Number.isInteger(seed)).toBe(true);
    // The reported seed replays the very same failure.
    for (let i = 0; i < 3; i++) {
      const again = await thrown(() => run(boxOffice, { ...virtualClock, shuffle: seed }));
      expect((again as Error).message).toBe(failure?.message);
    }
  });

  it("a deadlock found under shuffle carries the seed", async () => {
    const error = await thrown(() => run(() => new Queue<number>().get(), { ...virtualClock, shuffle: 99 }));
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).seed).toBe(99);
    expect((error as Error).message).toContain("shuffle: 99 }) replays it");
  });

  it("the same seed replays the same interleaving of a busy program", async () => {
    const busy = async () => {
      const q = new Queue<number>(3);
      const log: string[] = [];
      const producer = async (p: number) => {
        for (let i = 0; i < 20; i++) {
          await q.put(p * 100 + i);
          if (i % 3 === 0) await sleep(0.5);
        }
      };
      const consumer = async (c: number) => {
        for (;;) {
          const item = await q.get();
          log.push(`${c}<${item}@${time()}`);
          await sleep(item % 2 === 0 ? 0.5 : 0);
          q.taskDone();
        }
      };
      const consumers = [0, 1, 2].map((c) => createTask(() => consumer(c)));
      await gather(...[1, 2, 3].map((p) => createTask(() => producer(p))));
      await q.join();
      for (const c of consumers) c.cancel();
      return log;
    };
    const first = await run(busy, { ...virtualClock, shuffle: 7 });
    expect(await run(busy, { ...virtualClock, shuffle: 7 })).toEqual(first);
    expect(first).toHaveLength(60);
    expect(await run(busy, virtualClock)).not.toEqual(first);
  });

  it("a timer cancelled by another due at the same instant never fires, whatever the drawn order", async () => {
    const outcomes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const fired = await run(
        async () => {
          const loop = getRunningLoop();
          const log: string[] = [];
          const victim = loop.callAt(1, () => log.push("victim"), undefined);
          loop.callAt(
            1,
            () => {
              log.push("canceller");
              loop.clock.cancel(victim);
            },
            undefined,
          );
          loop.callAt(1, () => log.push("bystander"), undefined);
          await sleep(2);
          expect(victim.pending).toBe(false);
          return log;
        },
        { ...virtualClock, shuffle: seed },
      );
      const v = fired.indexOf("victim");
      const c = fired.indexOf("canceller");
      // The victim fires only if it was drawn before its canceller.
      expect(v === -1 || v < c).toBe(true);
      expect(fired).toContain("bystander");
      outcomes.add(v === -1 ? "cancelled" : "fired first");
    }
    expect(outcomes).toEqual(new Set(["cancelled", "fired first"]));
  });

  it("rejects a seed that is not a non-negative integer", async () => {
    for (const bad of [-1, 1.5, Number.NaN, "7"]) {
      await expect(run(async () => {}, { ...virtualClock, shuffle: bad as number })).rejects.toThrow(
        /Expected `shuffle` to be a non-negative integer seed/,
      );
    }
  });

  it("keeps cancellation exact under shuffle: nothing lost, nothing taken twice", async () => {
    for (let seed = 0; seed < 30; seed++) {
      const got = await run(
        async () => {
          const q = new Queue<number>();
          const taken: number[] = [];
          const getters = Array.from({ length: 5 }, () =>
            createTask(async () => {
              taken.push(await q.get());
            }),
          );
          await sleep(0);
          for (let i = 0; i < 5; i++) q.putNowait(i);
          getters[2]?.cancel();
          const results = await gather(...getters, { returnExceptions: true });
          const left: number[] = [];
          while (!q.empty()) left.push(q.getNowait());
          return { taken, left, cancelled: results.filter((r) => r instanceof CancelledError).length };
        },
        { ...virtualClock, shuffle: seed },
      );
      expect([...got.taken, ...got.left].sort()).toEqual([0, 1, 2, 3, 4]);
      expect(got.taken.length + got.cancelled).toBe(5);
    }
  });
});
