/**
 * Issue 10: chains 100,000 deep complete and cancel without a RangeError (stack overflow) and
 * without "Exception in a done callback" reports: tasks awaiting tasks, tasks whose function
 * returns a task, gather(gather(...)), shield(shield(...)), and cancelling the outermost task of
 * such a chain.
 */
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  type ErrorContext,
  type Future,
  gather,
  run,
  shield,
  sleep,
  type Task,
  waitFor,
} from "../src/node.js";
import { outcome } from "./support.js";

const N = 100_000;
const TIMEOUT_MS = 30_000;
/** Virtual seconds a chain may take: a chain broken by a stack overflow then fails fast instead of hanging. */
const BOUND = 100;

/**
 * Runs `main` on the virtual clock; resolves to its result and what the loop reported. A chain
 * broken by a stack overflow can leave `run` waiting forever: a second after the first report,
 * this rejects with that report instead.
 */
async function runDeep<T>(main: () => Promise<T>): Promise<{ value: T; reports: ErrorContext[] }> {
  const reports: ErrorContext[] = [];
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  let stuck: (error: Error) => void = () => {};
  const brokenChain = new Promise<never>((_, reject) => {
    stuck = reject;
  });
  const onError = (context: ErrorContext): void => {
    reports.push(context);
    giveUp ??= setTimeout(() => stuck(new Error(`run() still pending after: ${describeReports(reports)}`)), 1000);
  };
  try {
    const value = await Promise.race([run(main, { clock: "virtual", onError }), brokenChain]);
    return { value, reports };
  } finally {
    clearTimeout(giveUp);
  }
}

function describeReports(reports: ErrorContext[]): string {
  return reports
    .slice(0, 3)
    .map((r) => `${r.message}: ${String(r.error)}`)
    .join("; ");
}

/** No report at all; the message names the first few, not 100,000 of them. */
function expectNoReports(reports: ErrorContext[]): void {
  expect(reports.length, `reports: ${describeReports(reports)}`).toBe(0);
}

/** How deep `value` nests in one-element arrays, and what is at the bottom. */
function unwrap(value: unknown): { depth: number; bottom: unknown } {
  let depth = 0;
  let v = value;
  while (Array.isArray(v)) {
    expect(v).toHaveLength(1);
    v = v[0];
    depth++;
  }
  return { depth, bottom: v };
}

describe("100,000-deep chains", () => {
  it(
    "a task awaiting a task awaiting a task ... 100,000 deep completes",
    async () => {
      const { value, reports } = await runDeep(async () => {
        let prev: Task<number> = createTask(async () => {
          await sleep(1);
          return 0;
        });
        for (let i = 0; i < N; i++) {
          const inner = prev;
          prev = createTask(async () => (await inner) + 1);
        }
        return await waitFor(prev, BOUND);
      });
      expect(value).toBe(N);
      expectNoReports(reports);
    },
    TIMEOUT_MS,
  );

  it(
    "a task whose function returns a task whose function returns a task ... 100,000 deep completes",
    async () => {
      const { value, reports } = await runDeep(async () => {
        let prev: Task<string> = createTask(() => sleep(1, "bottom"));
        for (let i = 0; i < N; i++) {
          const inner = prev;
          prev = createTask(() => inner);
        }
        return await waitFor(prev, BOUND);
      });
      expect(value).toBe("bottom");
      expectNoReports(reports);
    },
    TIMEOUT_MS,
  );

  it(
    "gather(gather(gather(...))) 100,000 deep completes",
    async () => {
      const { value, reports } = await runDeep(async () => {
        let g: Future<unknown> = gather(sleep(1, "bottom"));
        for (let i = 1; i < N; i++) g = gather(g);
        return await waitFor(g, BOUND);
      });
      expect(unwrap(value)).toEqual({ depth: N, bottom: "bottom" });
      expectNoReports(reports);
    },
    TIMEOUT_MS,
  );

  it(
    "shield(shield(shield(...))) 100,000 deep completes",
    async () => {
      const { value, reports } = await runDeep(async () => {
        let s: Future<string> = shield(sleep(1, "bottom"));
        for (let i = 1; i < N; i++) s = shield(s);
        return await waitFor(s, BOUND);
      });
      expect(value).toBe("bottom");
      expectNoReports(reports);
    },
    TIMEOUT_MS,
  );

  it(
    "cancelling the outermost of 100,000 tasks awaiting tasks cancels every one",
    async () => {
      const { value, reports } = await runDeep(async () => {
        const tasks: Task<unknown>[] = [createTask(() => sleep(10))];
        for (let i = 0; i < N; i++) {
          const inner = tasks[i] as Task<unknown>;
          tasks.push(createTask(async () => await inner));
        }
        await sleep(1); // every task has started and waits on the one below
        const outer = tasks[N] as Task<unknown>;
        const requested = outer.cancel();
        const result = await outcome(outer);
        await outcome(tasks[0] as Task<unknown>);
        return {
          requested,
          outerCancelled: result instanceof CancelledError,
          notCancelled: tasks.filter((t) => !t.cancelled()).length,
        };
      });
      expect(value).toEqual({ requested: true, outerCancelled: true, notCancelled: 0 });
      expectNoReports(reports);
    },
    TIMEOUT_MS,
  );

  it(
    "cancelling the outermost of 100,000 tasks whose functions return the task below cancels every one",
    async () => {
      const { value, reports } = await runDeep(async () => {
        const tasks: Task<unknown>[] = [createTask(() => sleep(10))];
        for (let i = 0; i < N; i++) {
          const inner = tasks[i] as Task<unknown>;
          tasks.push(createTask(() => inner));
        }
        await sleep(1);
        const requested = (tasks[N] as Task<unknown>).cancel();
        await outcome(tasks[N] as Task<unknown>);
        await outcome(tasks[0] as Task<unknown>);
        return { requested, notCancelled: tasks.filter((t) => !t.cancelled()).length };
      });
      expect(value).toEqual({ requested: true, notCancelled: 0 });
      expectNoReports(reports);
    },
    TIMEOUT_MS,
  );

  it(
    "cancelling the outermost of gather(gather(...)) 100,000 deep cancels down to the bottom",
    async () => {
      const { value, reports } = await runDeep(async () => {
        const bottom = sleep(10, "never");
        let g: Future<unknown> = gather(bottom);
        for (let i = 1; i < N; i++) g = gather(g);
        await sleep(1);
        const requested = g.cancel();
        const result = await outcome(g);
        return { requested, outerCancelled: result instanceof CancelledError, bottomCancelled: bottom.cancelled() };
      });
      expect(value).toEqual({ requested: true, outerCancelled: true, bottomCancelled: true });
      expectNoReports(reports);
    },
    TIMEOUT_MS,
  );
});
