/**
 * Issue 10: no cancellation is lost. A cancel() that returns true (the task had not finished) and
 * that nobody withdraws with uncancel() ends the task in CancelledError, whatever it was waiting
 * in: timeout, waitFor, a TaskGroup, shield, gather, subtasks whose functions return futures,
 * async functions that return a future or another task. A fast-check property over random
 * nestings and cancel points, under schedule fuzzing, and the concrete cases it grew from.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  type ErrorContext,
  ExceptionGroup,
  Future,
  gather,
  getRunningLoop,
  run,
  shield,
  sleep,
  type Task,
  TimeoutError,
  taskGroup,
  time,
  timeout,
  waitFor,
} from "../src/node.js";
import { outcome, runVirtual, thrown } from "./support.js";

class Boom extends Error {}

/** A program the victim runs: what it waits in, nested. Nothing in it fails. */
type Node =
  /** `sleep(s)`: a future, returned as it is */
  | { kind: "sleep"; seconds: number }
  /** `createTask(() => sleep(s))` */
  | { kind: "taskSleep"; seconds: number }
  /** `createTask(async () => sleep(s))`: an async function whose result is a future */
  | { kind: "taskAsyncSleep"; seconds: number }
  /** `(async () => { await child })()`: awaited inside the same task */
  | { kind: "awaitIn"; child: Node }
  /** `(async () => child)()`: an async function returning the child's future, in the same task */
  | { kind: "returnFrom"; child: Node }
  /** `createTask(async () => { return otherTask })` */
  | { kind: "returnTask"; child: Node }
  /** `timeout(s, () => child)`, its TimeoutError caught */
  | { kind: "timeout"; seconds: number; child: Node }
  /** `waitFor(() => child, s)` or `waitFor(createTask(() => child), s)`, its TimeoutError caught */
  | { kind: "waitFor"; seconds: number; form: "function" | "task"; child: Node }
  /** `shield(createTask(() => child))` */
  | { kind: "shield"; child: Node }
  /** `gather(() => a, () => b, ...)`: each a subtask */
  | { kind: "gather"; children: Node[] }
  /** `taskGroup((tg) => { tg.createTask(() => a); ... })` */
  | { kind: "taskGroup"; children: Node[] };

const secondsArb = fc.constantFrom(0, 0.5, 1, 2);
const limitArb = fc.constantFrom(0, 0.5, 1, 1.5, 3);

const { node: nodeArb } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 4, depthIdentifier: "program" },
    fc.record({
      kind: fc.constantFrom("sleep", "taskSleep", "taskAsyncSleep"),
      seconds: secondsArb,
    }) as fc.Arbitrary<Node>,
    fc.record({
      kind: fc.constantFrom("awaitIn", "returnFrom", "returnTask", "shield"),
      child: tie("node"),
    }) as fc.Arbitrary<Node>,
    fc.record({ kind: fc.constant("timeout"), seconds: limitArb, child: tie("node") }) as fc.Arbitrary<Node>,
    fc.record({
      kind: fc.constant("waitFor"),
      seconds: limitArb,
      form: fc.constantFrom("function", "task"),
      child: tie("node"),
    }) as fc.Arbitrary<Node>,
    fc.record({
      kind: fc.constantFrom("gather", "taskGroup"),
      children: fc.array(tie("node"), { minLength: 1, maxLength: 3 }),
    }) as fc.Arbitrary<Node>,
  ),
}));

const programArb = fc.record({
  root: nodeArb,
  /** How the victim task runs the program. */
  victim: fc.constantFrom("returns", "asyncReturns", "asyncAwaits"),
  /** When the victim is cancelled: virtual time, then passes of the loop, then microtask hops. */
  cancelAt: fc.constantFrom(0, 0.5, 1, 1.5, 2, 3),
  ticks: fc.nat(3),
  hops: fc.nat(4),
  /** Cancelled from another task, or from a timer callback. */
  from: fc.constantFrom("task", "callback"),
  shuffle: fc.option(fc.nat(1_000_000), { nil: undefined }),
});

type Program = typeof programArb extends fc.Arbitrary<infer P> ? P : never;

async function catchTimeout(body: () => PromiseLike<unknown>): Promise<unknown> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof TimeoutError) return "timed out";
    throw e;
  }
}

/** Starts `node` in the calling task; returns what to await. */
function exec(node: Node): PromiseLike<unknown> {
  switch (node.kind) {
    case "sleep":
      return sleep(node.seconds, "slept");
    case "taskSleep":
      return createTask(() => sleep(node.seconds, "slept"));
    case "taskAsyncSleep":
      return createTask(async () => sleep(node.seconds, "slept"));
    case "awaitIn":
      return (async () => {
        await exec(node.child);
        return "awaited";
      })();
    case "returnFrom":
      return (async () => exec(node.child))();
    case "returnTask":
      return createTask(async () => {
        const other = createTask(() => exec(node.child));
        return other;
      });
    case "timeout":
      return catchTimeout(() => timeout(node.seconds, () => exec(node.child)));
    case "waitFor":
      return catchTimeout(() =>
        waitFor(node.form === "function" ? () => exec(node.child) : createTask(() => exec(node.child)), node.seconds),
      );
    case "shield":
      return shield(createTask(() => exec(node.child)));
    case "gather":
      return gather(...node.children.map((child) => () => exec(child)));
    case "taskGroup":
      return taskGroup((tg) => {
        for (const child of node.children) tg.createTask(() => exec(child));
      });
  }
}

function startVictim(program: Program): Task<unknown> {
  switch (program.victim) {
    case "returns":
      return createTask(() => exec(program.root), { name: "victim" });
    case "asyncReturns":
      return createTask(async () => exec(program.root), { name: "victim" });
    case "asyncAwaits":
      return createTask(
        async () => {
          await exec(program.root);
          return "finished";
        },
        { name: "victim" },
      );
  }
}

interface Ending {
  requested: boolean;
  doneBefore: boolean;
  cancelled: boolean;
  outcome: string;
  reports: string[];
}

async function runProgram(program: Program): Promise<Ending> {
  const reports: ErrorContext[] = [];
  const ending = await run(
    async () => {
      const victim = startVictim(program);
      let requested = false;
      let doneBefore = false;
      const cancelVictim = (): void => {
        doneBefore = victim.done();
        requested = victim.cancel();
      };
      if (program.from === "callback") {
        const fired = new Future<void>();
        getRunningLoop().callAt(
          program.cancelAt,
          () => {
            cancelVictim();
            fired.setResult();
          },
          undefined,
        );
        await fired;
      } else {
        await sleep(program.cancelAt);
        for (let i = 0; i < program.ticks; i++) await sleep(0);
        for (let i = 0; i < program.hops; i++) await Promise.resolve();
        cancelVictim();
      }
      const result = await outcome(victim);
      return {
        requested,
        doneBefore,
        cancelled: victim.cancelled(),
        outcome: result instanceof Error ? `${result.constructor.name}: ${result.message}` : String(result),
      };
    },
    {
      clock: "virtual",
      onError: (context) => reports.push(context),
      ...(program.shuffle === undefined ? {} : { shuffle: program.shuffle }),
    },
  );
  return { ...ending, reports: reports.map((r) => `${r.message}: ${String(r.error)}`) };
}

describe("no lost cancellation", () => {
  it("a cancel() that returned true always ends the victim in CancelledError, whatever it waits in (property)", async () => {
    await fc.assert(
      fc.asyncProperty(programArb, async (program) => {
        const ending = await runProgram(program);
        if (ending.requested) {
          expect(ending.cancelled, `the victim ended with ${ending.outcome}`).toBe(true);
        } else {
          expect(ending.doneBefore, "cancel() returned false on an unfinished task").toBe(true);
        }
        expect(ending.reports).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  }, 60_000);

  it("createTask(async () => sleep(0)) cancelled right after its body returned the future ends cancelled", async () => {
    await runVirtual(async () => {
      const victim = createTask(async () => sleep(0, "slept"));
      let requested: boolean | undefined;
      // Runs in the same pass, right after the victim's first step: the body has returned the
      // sleep's future, which the async function's promise has not adopted yet.
      getRunningLoop().callSoon(() => {
        requested = victim.cancel();
      }, undefined);
      const result = await outcome(victim);
      expect(requested).toBe(true);
      expect(result).toBeInstanceOf(CancelledError);
      expect(victim.cancelled()).toBe(true);
    });
  });

  it("createTask(async () => sleep(...), { eagerStart: true }) cancelled 0..6 microtasks after it returned ends cancelled", async () => {
    const endings = await runVirtual(async () => {
      const out: string[] = [];
      for (const seconds of [0, 1]) {
        for (let hops = 0; hops <= 6; hops++) {
          const victim = createTask(async () => sleep(seconds, "slept"), { eagerStart: true });
          for (let i = 0; i < hops; i++) await Promise.resolve();
          const requested = victim.cancel();
          await outcome(victim);
          if (requested && !victim.cancelled()) out.push(`sleep(${seconds}), ${hops} hops: ${String(victim.result())}`);
        }
      }
      return out;
    });
    expect(endings).toEqual([]);
  });

  for (const [form, tail] of [
    ["return sleep(1)", () => ({ returned: sleep(1, "slept"), inner: [] as { cancelled(): boolean }[] })],
    [
      "return gather(sleep(1), sleep(2))",
      () => {
        const a = sleep(1, "a");
        const b = sleep(2, "b");
        return { returned: gather(a, b), inner: [a, b] };
      },
    ],
    [
      "return otherTask",
      () => {
        const other = createTask(() => sleep(1, "other"));
        return { returned: other, inner: [other] };
      },
    ],
  ] as const) {
    it(`an async function ending in \`${form}\`, cancelled while that waits, ends cancelled and cancels it`, async () => {
      await runVirtual(async () => {
        let inner: readonly { cancelled(): boolean }[] = [];
        const victim = createTask(async () => {
          await sleep(0);
          const t = tail();
          inner = t.inner;
          return t.returned;
        });
        await sleep(0.5);
        expect(victim.cancel()).toBe(true);
        const result = await outcome(victim);
        expect(result).toBeInstanceOf(CancelledError);
        expect(victim.cancelled()).toBe(true);
        expect(inner.map((f) => f.cancelled())).toEqual(inner.map(() => true));
        expect(time()).toBe(0.5);
      });
    });

    it(`an async function ending in \`${form}\`, cancelled in the pass its body returned, ends cancelled`, async () => {
      await runVirtual(async () => {
        let requested: boolean | undefined;
        const victim = createTask(async () => {
          await sleep(0);
          const t = tail();
          // The next callback of this pass, after the body's return: the cancel lands before the
          // async function's promise has adopted what it returned.
          getRunningLoop().callSoon(() => {
            requested = victim.cancel();
          }, undefined);
          return t.returned;
        });
        const result = await outcome(victim);
        expect(requested).toBe(true);
        expect(result).toBeInstanceOf(CancelledError);
        expect(victim.cancelled()).toBe(true);
      });
    });
  }

  it("a TaskGroup body looping `while (true) await sleep(1)` ends when a child fails: the group raises the child's error (50 shuffle seeds)", async () => {
    for (let seed = 0; seed < 50; seed++) {
      const boom = new Boom(`child failed (seed ${seed})`);
      let endedAt = Number.NaN;
      const error = await thrown(
        run(
          async () => {
            try {
              await taskGroup(async (tg) => {
                tg.createTask(async () => {
                  await sleep(2);
                  throw boom;
                });
                tg.createTask(() => sleep(2)); // a sibling due at the same instant
                tg.createTask(async () => sleep(3));
                while (true) await sleep(1);
              });
            } finally {
              endedAt = time();
            }
          },
          { clock: "virtual", shuffle: seed },
        ),
      );
      expect(error, `seed ${seed}`).toBeInstanceOf(ExceptionGroup);
      expect((error as ExceptionGroup).exceptions, `seed ${seed}`).toEqual([boom]);
      expect(endedAt, `seed ${seed}`).toBe(2);
    }
  });
});
