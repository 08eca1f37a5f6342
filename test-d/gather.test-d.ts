import { describe, expectTypeOf, test } from "vitest";
import {
  type AsCompletedIterator,
  asCompleted,
  createTask,
  type Future,
  gather,
  shield,
  sleep,
  type Task,
  wait,
} from "../src/index.js";

declare const taskOfNumber: Task<number>;
declare const futureOfString: Future<string>;
declare const promiseOfBoolean: Promise<boolean>;

describe("gather", () => {
  test("resolves to a tuple typed per argument, in order", () => {
    expectTypeOf(gather(taskOfNumber, () => Promise.resolve("x"))).toEqualTypeOf<Future<[number, string]>>();
    expectTypeOf(gather(futureOfString, promiseOfBoolean, taskOfNumber)).toEqualTypeOf<
      Future<[string, boolean, number]>
    >();
  });

  test("destructures into typed variables", async () => {
    const [a, b] = await gather(taskOfNumber, () => Promise.resolve("x"));
    expectTypeOf(a).toEqualTypeOf<number>();
    expectTypeOf(b).toEqualTypeOf<string>();
  });

  test("a function's result is unwrapped: async functions, sync functions, sleep", () => {
    expectTypeOf(
      gather(
        async () => 1,
        () => "sync",
        () => sleep(1, true),
      ),
    ).toEqualTypeOf<Future<[number, string, boolean]>>();
    expectTypeOf(gather(() => createTask(async () => 1n))).toEqualTypeOf<Future<[bigint]>>();
  });

  test("no arguments resolve to an empty tuple", () => {
    expectTypeOf(gather()).toEqualTypeOf<Future<[]>>();
  });

  test("a spread array gives an array of the element type", () => {
    const tasks: Task<number>[] = [];
    expectTypeOf(gather(...tasks)).toEqualTypeOf<Future<number[]>>();
  });

  test("returnExceptions: true types each slot as value | Error", () => {
    expectTypeOf(gather(taskOfNumber, futureOfString, { returnExceptions: true })).toEqualTypeOf<
      Future<[number | Error, string | Error]>
    >();
  });

  test("returnExceptions: false or absent keeps the plain values", () => {
    expectTypeOf(gather(taskOfNumber, { returnExceptions: false })).toEqualTypeOf<Future<[number]>>();
    expectTypeOf(gather(taskOfNumber, {})).toEqualTypeOf<Future<[number]>>();
  });

  test("a boolean not known statically gives value | Error", () => {
    const flag = Math.random() > 0.5;
    expectTypeOf(gather(taskOfNumber, { returnExceptions: flag })).toEqualTypeOf<Future<[number | Error]>>();
  });

  test("rejects what is not awaitable", () => {
    // @ts-expect-error a number is not awaitable
    gather(taskOfNumber, 42);
    // @ts-expect-error a function that needs arguments cannot be started
    gather((x: number) => x);
    // @ts-expect-error returnExceptions is a boolean
    gather(taskOfNumber, { returnExceptions: "yes" });
  });
});

describe("shield, wait, asCompleted", () => {
  test("shield keeps the value type", () => {
    expectTypeOf(shield(taskOfNumber)).toEqualTypeOf<Future<number>>();
    expectTypeOf(shield(async () => "s")).toEqualTypeOf<Future<string>>();
    expectTypeOf(shield(promiseOfBoolean)).toEqualTypeOf<Future<boolean>>();
  });

  test("wait gives back sets of the same task type", () => {
    expectTypeOf(wait([taskOfNumber])).toEqualTypeOf<Promise<[done: Set<Task<number>>, pending: Set<Task<number>>]>>();
    // @ts-expect-error wait takes tasks and futures, not promises
    void wait([promiseOfBoolean]);
    // @ts-expect-error returnWhen is one of the three constants
    void wait([taskOfNumber], { returnWhen: "SOMETIME" });
  });

  test("asCompleted yields the given futures, or futures of the values", async () => {
    const iterator = asCompleted([taskOfNumber]);
    expectTypeOf(iterator).toEqualTypeOf<AsCompletedIterator<Task<number>>>();
    expectTypeOf(iterator.next()).toEqualTypeOf<Promise<IteratorResult<Task<number>, undefined>>>();
    const wrapped = asCompleted([promiseOfBoolean, async () => true]);
    expectTypeOf(wrapped).toEqualTypeOf<AsCompletedIterator<Future<boolean>>>();
    // TypeScript types a `for await` variable as the awaited element (it assumes async iterators
    // yield settled values): at run time it is the task, and `await t` gives the value either way.
    for await (const t of asCompleted([taskOfNumber])) expectTypeOf(await t).toEqualTypeOf<number>();
    for (const p of asCompleted([taskOfNumber])) expectTypeOf(p).toEqualTypeOf<Promise<number>>();
  });
});
