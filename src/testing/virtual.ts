/**
 * Tests on the virtual clock: run a program on a fresh {@link VirtualClock} and collect what the
 * loop reported instead of printing it ({@link runVirtual}, {@link virtualTest}); inside such a
 * run, move time by hand ({@link advance}) and wait until every task is waiting at the current
 * instant ({@link settle}). asyncio's own tests do this with `test_utils.TestLoop` (a loop whose
 * clock the test drives), `loop.advance_time()` and `test_utils.run_briefly()`; Trio's with
 * `MockClock(autojump_threshold=0)` and `wait_all_tasks_blocked()`.
 */
import { VirtualClock } from "../clock/virtual.js";
import { Future } from "../core/future.js";
import { type ErrorContext, type ErrorHandler, getRunningLoop, type Loop, runningLoop } from "../core/loop.js";
import { type RunOptions, type RunSignal, run } from "../core/run.js";
import type { TaskFunction } from "../core/task.js";
import { describe } from "../errors.js";

/** Options of {@link runVirtual} and {@link virtualTest}: {@link RunOptions}, on a virtual clock. */
export interface VirtualRunOptions extends Omit<RunOptions, "clock" | "onError" | "signals"> {
  /**
   * Virtual time at which the clock starts, in seconds.
   * @default 0
   */
  start?: number;
  /**
   * Also receives each error the loop reports, as it is reported (they are collected all the
   * same). Without it, when `main` fails, the errors collected so far are printed with
   * `console.error` before `runVirtual` rejects, so none is lost.
   * @default undefined
   */
  onError?: ErrorHandler;
  /**
   * Which signals cancel `main` (see {@link RunOptions.signals}). Off by default: a test does not
   * take Ctrl-C or SIGTERM away from the test runner.
   * @default false
   */
  signals?: boolean | readonly RunSignal[];
}

/** What {@link runVirtual} resolves to. */
export interface VirtualRun<T> {
  /** What `main` returned. */
  readonly value: T;
  /**
   * What the loop reported during the run, in order (its `onError` contexts): tasks that failed
   * and were never awaited, errors in done callbacks, debug mode's warnings. Empty when nothing
   * went unhandled.
   */
  readonly errors: readonly ErrorContext[];
  /** The virtual time, in seconds, when the run ended (every task done). */
  readonly time: number;
}

/**
 * Runs `main` as the main task of a new loop on a fresh virtual clock (`run(main, { clock:
 * virtualClock })`) and resolves to what it returned, the errors the loop reported, and the
 * virtual time at the end. Sleeps take no real time, and the same program gives the same times
 * on every run. When `main` throws, `runVirtual` rejects with that error, unchanged.
 *
 * @example
 * import { createTask, sleep } from "awaitress";
 * import { runVirtual } from "awaitress/testing";
 *
 * const { value, errors, time } = await runVirtual(async () => {
 *   createTask(async () => { throw new Error("nobody awaits me"); });
 *   await sleep(90);
 *   return "done";
 * });
 * // value: "done"; time: 90; errors[0].message: "Task exception was never retrieved"
 */
export async function runVirtual<T>(
  main: TaskFunction<T>,
  options: VirtualRunOptions = {},
): Promise<VirtualRun<Awaited<T>>> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected runVirtual's options to be an object, got ${describe(options)}`);
  }
  const { start, autojumpThreshold, onError, ...rest } = options;
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Expected \`onError\` to be a function, got ${describe(onError)}`);
  }
  const clock = new VirtualClock({
    ...(start === undefined ? {} : { start }),
    ...(autojumpThreshold === undefined ? {} : { autojumpThreshold }),
  });
  const errors: ErrorContext[] = [];
  let value: Awaited<T>;
  try {
    value = await run(main, {
      signals: false,
      ...rest,
      clock,
      onError: (context) => {
        errors.push(context);
        onError?.(context);
      },
    });
  } catch (error) {
    if (onError === undefined) {
      for (const context of errors)
        console.error(`awaitress/testing: reported during the failed run: ${context.message}`, context.error ?? "");
    }
    throw error;
  }
  return { value, errors, time: clock.now() };
}

/**
 * A test body for any runner that takes an async function (vitest, jest, mocha, `node:test`):
 * runs `body` with {@link runVirtual}, and fails if the loop reported anything — an error nobody
 * awaited fails the test instead of scrolling by in the log (asyncio's
 * `IsolatedAsyncioTestCase` in debug mode, pytest-trio's strictness).
 *
 * The failure is an `AggregateError` whose `errors` are the reported errors (the `error` of
 * each context, or the context itself for a warning without one); its message names each.
 *
 * @example
 * import { sleep, time } from "awaitress";
 * import { virtualTest } from "awaitress/testing";
 *
 * // In a test file: it("waits a minute in no time", virtualTest(async () => { ... }));
 * const test = virtualTest(async () => {
 *   await sleep(60);
 *   if (time() !== 60) throw new Error(`time() is ${time()}`);
 * });
 * await test();
 */
export function virtualTest(body: TaskFunction<unknown>, options: VirtualRunOptions = {}): () => Promise<void> {
  if (typeof body !== "function") {
    throw new TypeError(`virtualTest expects an async function, got ${describe(body)}`);
  }
  return async () => {
    const { errors } = await runVirtual(body, options);
    if (errors.length === 0) return;
    const lines = errors.map((context) => {
      const error = context.error;
      const detail =
        error instanceof Error ? `${error.name}: ${error.message}` : error === undefined ? "" : String(error);
      return `- ${context.message}${detail === "" ? "" : `: ${detail}`}`;
    });
    throw new AggregateError(
      errors.map((context) => context.error ?? context),
      `${errors.length === 1 ? "1 error was" : `${errors.length} errors were`} reported during the test:\n${lines.join("\n")}`,
    );
  };
}

/** The running loop's virtual clock; a clear error if there is none. */
function virtualClockOf(loop: Loop, caller: string): VirtualClock {
  const clock = loop.clock;
  if (clock instanceof VirtualClock) return clock;
  throw new TypeError(
    `${caller} needs a loop on the virtual clock: call it inside runVirtual(...), virtualTest(...) or run(main, { clock: "virtual" })`,
  );
}

/**
 * Moves the running loop's virtual clock forward by `seconds` now, as if the calling step had
 * taken that long (asyncio's `TestLoop.advance_time`, Trio's `MockClock.jump`): every timer due
 * on the way fires, in deadline order, and `time()` reads the new time on return. The tasks
 * those timers wake run once the caller waits; `await settle()` lets them. Use it to test what
 * happens when time passes while the program is busy — a deadline that expires during a slow
 * step — which sleeping cannot show, since a sleeping task is not busy.
 *
 * @example
 * await runVirtual(async () => {
 *   const late = createTask(() => sleep(5, "woke"));
 *   await settle();
 *   advance(10); // a synchronous step that took 10 s
 *   console.log(time()); // 10
 *   await settle();
 *   console.log(late.result()); // "woke"
 * });
 */
export function advance(seconds: number): void {
  virtualClockOf(getRunningLoop(), "advance()").advance(seconds);
}

/**
 * Resolves once every other task of the running loop waits on something that is not ready at
 * the current virtual instant: a sleep that ends later, a queue, a lock, an event nobody set —
 * the point at which the virtual clock would move. Time does not move. However many awaits a
 * woken task goes through, it has gone through them when `settle()` returns (Trio's
 * `wait_all_tasks_blocked()`), so a test need not count loop passes (`sleep(0)`, asyncio's
 * `test_utils.run_briefly`).
 *
 * A task waiting on a foreign promise (real I/O) counts as waiting, as it does for the
 * virtual clock's jumps. Tasks that call `settle()` at the same instant return one at a time, in
 * the order they called it (in a drawn order under `run`'s `shuffle`), each once what the one
 * before it did has settled.
 *
 * @example
 * await runVirtual(async () => {
 *   const ev = new Event();
 *   const seen: string[] = [];
 *   createTask(async () => { await ev.wait(); seen.push("woken"); });
 *   ev.set();
 *   await settle();
 *   console.log(seen); // ["woken"]
 * });
 */
export async function settle(): Promise<void> {
  const loop = runningLoop();
  const clock = virtualClockOf(loop, "settle()");
  const idle = new Future<void>(loop);
  idle._label = "settle()";
  let handle = clock.callAt(clock.now(), check, undefined);
  // A timer due now fires only when the program is idle (the microtask queue drained, nothing
  // ready on the loop). If a timer that fired before it in the same batch woke a task, that task
  // has not run yet: look again at the next idle point.
  function check(): void {
    if (idle.done()) return;
    if (loop.busy()) handle = clock.callAt(clock.now(), check, undefined);
    else idle.setResult(undefined);
  }
  // Cancelled while it waits (the task was cancelled): no timer left behind.
  idle.addDoneCallback(() => clock.cancel(handle));
  await idle;
}
