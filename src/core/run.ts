/**
 * `run(main)`: asyncio's `asyncio.run` — a new loop, `main` as its root task, and nothing left
 * running when it returns.
 */
import type { Clock } from "../clock/clock.js";
import { RealClock } from "../clock/real.js";
import { VirtualClock, type VirtualClockOptions } from "../clock/virtual.js";
import { DeadlockError, type DeadlockedTask, describe, InvalidStateError } from "../errors.js";
import { checkSeed, seededRandom } from "../internal/prng.js";
import { checkSeconds } from "../internal/seconds.js";
import type { TraceSink } from "../internal/sink.js";
import { hostEnv } from "./context.js";
import type { Future } from "./future.js";
import { type ErrorHandler, LoopImpl, taskContext } from "./loop.js";
import { checkSignals, interrupted, type RunSignal, watchSignals } from "./signals.js";
import { Task, type TaskFunction } from "./task.js";

/**
 * What the debug layer installed for one run: `remove` takes it all off again; `report`, in debug
 * mode, prints the task tree (run calls it when a signal arrives).
 * @internal
 */
export interface Instrumentation {
  remove(): void;
  report: (() => void) | null;
}

/**
 * Debug mode's and step tracing's hooks, installed by the debug layer (src/node.ts, and the
 * awaitress/debug and awaitress/trace entry points), so the core never imports the layers above it.
 * @internal
 */
export type Instrumenter = (loop: LoopImpl, options: RunOptions) => Promise<Instrumentation>;

let instrumenter: Instrumenter | null = null;

/** @internal Installs debug mode's hooks (see {@link Instrumenter}). */
export function setInstrumenter(fn: Instrumenter): void {
  instrumenter = fn;
  lazyInstrumenter = false;
}

/** Whether the instrumenter installed is only a loader (src/node.ts's), which a real one replaces. */
let lazyInstrumenter = false;

/**
 * @internal Installs a loader of debug mode's hooks (src/node.ts), unless awaitress/debug or
 * awaitress/trace already installed the hooks themselves: in a bundle only theirs can work.
 */
export function setInstrumenterLoader(fn: Instrumenter): void {
  if (instrumenter !== null && !lazyInstrumenter) return;
  instrumenter = fn;
  lazyInstrumenter = true;
}

export type { RunSignal } from "./signals.js";

/** Options of {@link run}. */
export interface RunOptions {
  /**
   * The loop's clock: `"real"` (wall time), `"virtual"` (time jumps to the next deadline whenever
   * every task waits, so sleeps take no real time), or a {@link Clock} instance.
   * @default "real"
   */
  clock?: "real" | "virtual" | Clock;
  /**
   * Receives errors nobody handled: tasks that failed and were never awaited, errors in done
   * callbacks, errors raised by tasks while `run` cancelled them on the way out.
   * @default prints with console.error
   */
  onError?: ErrorHandler;
  /**
   * asyncio's debug mode: records where each task was created; reports steps slower than
   * `slowStepThreshold` naming the task, reports live (from a watchdog thread) a task blocking
   * the loop for `blockedThreshold`, prints the pending tasks as a tree on each SIGINT/SIGTERM
   * (of `signals`) before handling it, and reports tasks still pending when `main` returns.
   * Slower; never changes what the program computes.
   * @default false, or true when the environment variable AWAITRESS_DEBUG=1
   */
  debug?: boolean;
  /**
   * Debug mode: a synchronous step of a task longer than this many seconds is reported through
   * `onError` (asyncio's `slow_callback_duration`); 0 turns it off. Checked even outside debug mode.
   * @default 0.1
   */
  slowStepThreshold?: number;
  /**
   * Debug mode: when one step has held the loop this many seconds, a watchdog thread reports the
   * task on stderr while the loop is still blocked; 0 turns the watchdog off. Checked even
   * outside debug mode.
   * @default 1
   */
  blockedThreshold?: number;
  /**
   * Receives every event of the loop (task created, suspended, resumed, done, ...).
   * @default null
   */
  trace?: TraceSink | null;
  /**
   * Schedule fuzzing: a seed (a non-negative integer) for a generator that permutes callbacks that
   * are equally ready — timers due at the same instant on the virtual clock, the callbacks of one
   * loop pass, waiters released together — so a test can run a program under many interleavings.
   * The same seed gives the same interleaving on every run. When `run` fails, the error carries
   * the seed: `DeadlockError.seed`, and a non-enumerable `shuffleSeed` property on any other error
   * object. Without it the order is the documented FIFO one. asyncio has no such option.
   * @default undefined (FIFO)
   * @example
   * for (let seed = 0; seed < 200; seed++) {
   *   try { await run(main, { clock: "virtual", shuffle: seed }) }
   *   catch (e) { console.log(`seed ${seed} breaks it:`, e); break }
   * }
   */
  shuffle?: number;
  /**
   * With `clock: "virtual"`: real seconds the program must stay idle before the clock jumps, so
   * a program awaiting real I/O does not see time race ahead (Trio's `autojump_threshold`; see
   * {@link VirtualClockOptions.autojumpThreshold}). For a clock instance, pass it to
   * `new VirtualClock({ autojumpThreshold })` instead.
   * @default 0
   */
  autojumpThreshold?: number;
  /**
   * On a virtual clock: when every task waits on an awaitress future and no timer is pending,
   * cancel every task and reject with {@link DeadlockError} naming each task and what it waits
   * on. `false` leaves the program waiting (forever, unless something outside wakes it).
   * @default true
   */
  detectDeadlock?: boolean;
  /**
   * Name of the root task.
   * @default "main"
   */
  name?: string;
  /**
   * Which signals cancel `main`, as asyncio's `run` does with Ctrl-C: `true` (SIGINT and
   * SIGTERM — what Docker, Kubernetes and systemd send to stop a process), `false` (none: Node's
   * default, the process is killed by the signal, no `finally` runs), or a list of them.
   *
   * - The first signal cancels `main` (of every run in progress that listens to it), so its
   *   `finally` blocks and task groups unwind; then `run` rejects with {@link Interrupted} and sets
   *   `process.exitCode` to 130 (SIGINT) or 143 (SIGTERM), and the process exits with that code
   *   even when the rejection stays unhandled (`await run(main)` at the top of a module). If
   *   `main` catches the cancellation and returns, `run` resolves to its value (asyncio's rule:
   *   `task.uncancel() == 0`), and the exit code is left alone.
   * - A second signal while the run unwinds — or a first one that finds `main` already done —
   *   exits the process at once, with the same code.
   * - When the program has its own listener for the signal (`process.on("SIGTERM", ...)`),
   *   looked up when the signal arrives, `run` leaves the signal to it and cancels nothing.
   * - Every run in progress shares one process listener per signal; it is removed when the last
   *   run ends. Only the main thread listens (in a worker thread this option does nothing).
   * - In debug mode, each signal first prints the task tree; `false` turns that off too.
   * - Node's option: in the browser build (no process signals) it is checked and does nothing.
   * @default true
   * @example
   * await run(main);                             // Ctrl-C or SIGTERM: main unwinds, exit 130/143
   * await run(main, { signals: ["SIGINT"] });    // SIGTERM keeps Node's default
   * await run(main, { signals: false });         // leave both to Node (or to your own listeners)
   */
  signals?: boolean | readonly RunSignal[];
}

/** Every option of {@link run}, checked, before anything is installed. */
interface CheckedOptions {
  readonly clock: Clock;
  readonly seed: number | undefined;
  readonly debug: boolean;
  readonly signals: readonly RunSignal[];
  readonly name: string;
}

function checkOptions(options: RunOptions): CheckedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected run's options to be an object, got ${describe(options)}`);
  }
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError(`Expected \`onError\` to be a function, got ${describe(options.onError)}`);
  }
  for (const flag of ["detectDeadlock", "debug"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") {
      throw new TypeError(`Expected \`${flag}\` to be a boolean, got ${describe(options[flag])}`);
    }
  }
  if (options.name !== undefined && typeof options.name !== "string") {
    throw new TypeError(`Expected \`name\` to be a string, got ${describe(options.name)}`);
  }
  const trace = options.trace as { event?: unknown } | null | undefined;
  if (trace != null && (typeof trace !== "object" || typeof trace.event !== "function")) {
    throw new TypeError(
      `Expected \`trace\` to be a trace sink (an object with an \`event(event)\` function, such as a Recorder), got ${describe(trace)}`,
    );
  }
  checkSeconds(options.slowStepThreshold, "slowStepThreshold", 0.1);
  checkSeconds(options.blockedThreshold, "blockedThreshold", 1);
  const signals = checkSignals(options.signals);
  const seed = options.shuffle === undefined ? undefined : checkSeed(options.shuffle, "`shuffle`");
  return {
    clock: makeClock(options.clock, options.autojumpThreshold),
    seed,
    debug: options.debug ?? hostEnv("AWAITRESS_DEBUG") === "1",
    signals,
    name: options.name ?? "main",
  };
}

/**
 * Debug mode and step tracing live in `awaitress/debug` and `awaitress/trace`: Node's build of
 * `awaitress` loads them when asked; other builds (a bundle for the browser, `default`) only when
 * the program imports them.
 */
function notInstrumented(debug: boolean): string {
  return debug
    ? 'debug mode (`debug: true` or AWAITRESS_DEBUG=1) needs awaitress/debug, which this build of awaitress does not load by itself: add `import "awaitress/debug";` to the program, or turn debug mode off'
    : 'this trace sink asks for steps (`steps: true`), which need awaitress/debug: add `import "awaitress/debug";` to the program, or give the sink `steps: false`';
}

/** asyncio's "asyncio.run() cannot be called from a running event loop". */
function checkNotInLoop(): void {
  const task = taskContext.getStore();
  if (task === undefined || task.loop.closed) return;
  const name = (task as { name?: unknown }).name;
  throw new InvalidStateError(
    `run() cannot be called from a running event loop (it was called in task ${JSON.stringify(String(name))}): ` +
      "await the async function directly, or start it with createTask() to run it alongside",
  );
}

function makeClock(clock: RunOptions["clock"], autojumpThreshold: number | undefined): Clock {
  if (autojumpThreshold !== undefined && clock !== "virtual") {
    throw new TypeError(
      'Expected `autojumpThreshold` only with clock: "virtual"; for a clock instance pass it to new VirtualClock({ autojumpThreshold })',
    );
  }
  if (clock === undefined || clock === "real") return new RealClock();
  if (clock === "virtual") {
    return new VirtualClock(autojumpThreshold === undefined ? {} : { autojumpThreshold });
  }
  if (
    typeof clock === "object" &&
    clock !== null &&
    typeof clock.now === "function" &&
    typeof clock.callAt === "function"
  ) {
    return clock;
  }
  throw new TypeError(`Expected \`clock\` to be "real", "virtual" or a Clock object, got ${describe(clock)}`);
}

function whenDone(future: Future<unknown>): Promise<void> {
  return new Promise((resolve) => future._onDone(() => resolve()));
}

/** Cancels every task still alive and waits for them, until none is left (tasks may spawn tasks). */
async function cancelRemaining(loop: LoopImpl): Promise<void> {
  for (;;) {
    const remaining = [...loop.tasks] as Task[];
    if (remaining.length === 0) return;
    if (loop.debug) {
      for (const task of remaining) {
        loop.reportError({
          message: "Task was still pending when main returned; run() cancels it",
          error: undefined,
          task,
        });
      }
    }
    for (const task of remaining) task.cancel();
    await Promise.all(remaining.map(whenDone));
    for (const task of remaining) {
      if (!task.cancelled() && task._state === 2 && !task._retrieved) {
        task._retrieved = true;
        loop.reportError({ message: "Unhandled error in a task cancelled by run() on exit", error: task._error, task });
      }
    }
  }
}

function cancelledErrorOf(task: Task<unknown>): unknown {
  try {
    task.result();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * Runs `main` as the root task of a new loop and resolves to its result (asyncio's `run`).
 * When `main` settles, every task still alive is cancelled and awaited before `run` returns,
 * so nothing outlives it; errors nobody retrieved are reported through `onError`.
 *
 * Ctrl-C (SIGINT) and SIGTERM cancel `main`, as in asyncio: its `finally` blocks and task groups
 * unwind, then `run` rejects with {@link Interrupted} and the process exits 130 (SIGINT) or 143
 * (SIGTERM); a second signal exits at once. See {@link RunOptions.signals} for the rules (the
 * program's own listener wins; `signals: false` leaves both to Node).
 *
 * Throws `TypeError`/`RangeError` for a bad option, before anything is installed, and
 * {@link InvalidStateError} when called from a task of a running loop (asyncio's "cannot be
 * called from a running event loop"): there, await the function or start it with `createTask`.
 *
 * @example
 * await run(async () => {
 *   const t = createTask(() => sleep(1, "hi"));
 *   console.log(await t);
 * });
 */
export async function run<T>(main: TaskFunction<T>, options: RunOptions = {}): Promise<Awaited<T>> {
  if (typeof main !== "function") {
    throw new TypeError(`run expects an async function to run as the main task, got ${describe(main)}`);
  }
  checkNotInLoop();
  const { clock, seed, debug, signals, name } = checkOptions(options);
  const loop = new LoopImpl({
    clock,
    ...(options.onError ? { onError: options.onError } : {}),
    debug,
    trace: options.trace ?? null,
  });
  let instrumentation: Instrumentation | undefined;
  if ((loop.debug || loop.trace?.steps === true) && instrumenter === null) {
    loop.close();
    throw new InvalidStateError(notInstrumented(loop.debug));
  }
  if ((loop.debug || loop.trace?.steps === true) && instrumenter !== null) {
    instrumentation = await instrumenter(loop, options);
  }
  if (seed !== undefined) loop.shuffle = seededRandom(seed);
  // On a virtual clock, a deadlock ends the wait for main (or for the tasks cancelled on exit).
  let deadlock: DeadlockError | undefined;
  let stuck: () => void = () => {};
  const untilStuck = () => new Promise<void>((resolve) => (stuck = resolve));
  if (clock instanceof VirtualClock) {
    const onDeadlock =
      options.detectDeadlock === false
        ? undefined
        : (waiting: DeadlockedTask[], time: number) => {
            deadlock ??= new DeadlockError(waiting, time, seed);
            stuck();
          };
    clock._attach(loop, onDeadlock);
  } else if (typeof clock.attach === "function") {
    clock.attach(loop);
  }
  const root = new Task(main as TaskFunction<Awaited<T>>, { name }, loop);
  const signalled = {
    signals,
    report: instrumentation?.report ?? null,
    cancelMain: () => root.cancel(),
    interruptedBy: null as RunSignal | null,
  };
  const unwatchSignals = watchSignals(signalled);
  try {
    await Promise.race([whenDone(root), untilStuck()]);
    await Promise.race([cancelRemaining(loop), untilStuck()]);
  } finally {
    loop._reportFailures(root);
    loop.failures.clear();
    unwatchSignals();
    instrumentation?.remove();
    loop.trace?.flush?.();
    loop.close();
  }
  if (deadlock !== undefined) throw deadlock;
  // asyncio's run: main cancelled by the signal, and by nothing else, is a KeyboardInterrupt.
  if (signalled.interruptedBy !== null && root.cancelled() && root.uncancel() === 0) {
    throw interrupted(signalled.interruptedBy, cancelledErrorOf(root));
  }
  if (seed === undefined) return root.result();
  try {
    return root.result();
  } catch (error) {
    if (typeof error === "object" && error !== null && Object.isExtensible(error) && !("shuffleSeed" in error)) {
      Object.defineProperty(error, "shuffleSeed", { value: seed, configurable: true, writable: true });
    }
    throw error;
  }
}
