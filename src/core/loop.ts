/**
 * The running loop: its clock, its ready queue (asyncio's `call_soon`), the registry of live
 * tasks, the exception handler, debug flags and the trace sink. And how code finds it.
 */
import type { Clock, TimerHandle } from "../clock/clock.js";
import { RealClock } from "../clock/real.js";
import { InvalidStateError } from "../errors.js";
import { shuffleRange } from "../internal/prng.js";
import { RingBuffer } from "../internal/ring-buffer.js";
import type { TraceEvent, TraceSink } from "../internal/sink.js";
import { type RegistryNode, TaskRegistry } from "../internal/task-registry.js";
import { escapeControl, safeString } from "../internal/text.js";
import {
  atHostExit,
  bindOutside,
  FOLLOWS_FOREIGN_PROMISES,
  hostEnv,
  taskContext as hostTaskContext,
  noStep,
  stepBegins,
} from "./context.js";
import type { FailureRecord, Future } from "./future.js";

/** @internal The store holds the task whose code is running (see context.ts). */
export const taskContext = hostTaskContext;

/** What the loop knows of a task; the full class lives in task.ts. */
export interface LoopTask extends RegistryNode {
  readonly loop: Loop;
  /** @internal The same loop, as the library's own code sees it. */
  readonly _loop: LoopImpl;
  readonly id: number;
  done(): boolean;
}

/** @internal What the trace names a task by. */
export interface TracedTask {
  readonly id: number;
}

/** @internal The label of a wait awaitress cannot see into (`fetch`, a stream, a `setTimeout` promise). */
export const FOREIGN_WAIT = "a foreign promise";

/** What the exception handler receives. */
export interface ErrorContext {
  /** What happened, in words: "Task exception was never retrieved", ... */
  readonly message: string;
  /** The error itself. */
  readonly error: unknown;
  /** The task the error belongs to, when there is one. */
  readonly task?: LoopTask;
}

/** The loop's exception handler (asyncio's `set_exception_handler`). */
export type ErrorHandler = (context: ErrorContext) => void;

/**
 * @internal Prints what the handler gets, like asyncio's default handler; in debug mode with where the
 * task was created. A warning (debug mode's slow steps, leaks) has no error and prints no error.
 */
export const defaultErrorHandler: ErrorHandler = (context) => {
  const task = context.task as unknown as { name: string; creationStack?: string | undefined } | undefined;
  // Names and messages come from the program: their control characters are shown, not sent.
  const message = escapeControl(safeString(context.message), true);
  const name = task ? ` (task "${escapeControl(task.name)}")` : "";
  const created = task?.creationStack
    ? `\nThe task was ${escapeControl(task.creationStack.replace(/^Error: /, ""), true)}`
    : "";
  if (context.error === undefined) console.error(`awaitress: ${message}${name}${created}`);
  else if (created === "") console.error(`awaitress: ${message}${name}:`, printable(context.error));
  else console.error(`awaitress: ${message}${name}:`, printable(context.error), created);
};

/**
 * What the default handler prints for an error: the error itself (console formats it, stack
 * and all) unless its text holds control characters, which are then shown as escapes.
 */
function printable(error: unknown): unknown {
  let text: string;
  try {
    text = error instanceof Error ? `${error.stack ?? ""}\n${error.message}` : typeof error === "string" ? error : "";
  } catch {
    return safeString(error);
  }
  if (escapeControl(text, true) === text) return error;
  return escapeControl(error instanceof Error ? (error.stack ?? safeString(error)) : safeString(error), true);
}

/** @internal Loop options set by `run`. */
export interface LoopOptions {
  clock?: Clock;
  onError?: ErrorHandler;
  debug?: boolean;
  trace?: TraceSink | null;
}

type Callback = (arg: unknown) => void;

/**
 * How long (ms) the loop runs callbacks on microtasks before it lets the host's event loop poll
 * timers and I/O.
 */
const SLICE_MS = 4;

/**
 * @internal Watches the synchronous steps of tasks (debug mode, and traces that ask for steps): `created`
 * when a task is made, `enter`/`leave` around each task's first step (later steps are seen
 * through `async_hooks`). Set by `run`; `null` otherwise (one check per site).
 */
export interface StepObserver {
  created(task: LoopTask): void;
  enter(task: LoopTask): void;
  leave(task: LoopTask): void;
  /** What `task` waits on and since when, as far as the observer saw it (`awaitress ps` asks). */
  waitOf?(task: LoopTask): { readonly on: string; readonly since: number } | undefined;
}

/**
 * A timer the loop wraps: while tracing, it records "timer-fired" before the callback; for a
 * clock without `attach`, it runs the callback as part of the loop (reporting what it throws).
 */
class LoopTimer {
  constructor(
    readonly loop: LoopImpl,
    readonly callback: Callback,
    readonly arg: unknown,
    readonly wrapped: boolean,
  ) {}
  static fire(timer: LoopTimer): void {
    const loop = timer.loop;
    const trace = loop.trace;
    if (trace !== null) {
      const arg = timer.arg as { _waitLabel?: unknown } | null;
      const label =
        typeof arg === "object" && arg !== null && typeof arg._waitLabel === "function"
          ? (arg._waitLabel as () => string)()
          : timer.callback.name || "callback";
      trace.event({ type: "timer-fired", time: loop.time(), label });
    }
    if (!timer.wrapped) {
      // Outside any task, whichever task armed the clock's native timer (so `by` is null).
      taskContext.exit(timer.callback, timer.arg);
      return;
    }
    try {
      loop.runTimer(timer.callback, timer.arg);
    } catch (error) {
      loop.reportError({ message: "Exception in a timer callback", error });
    }
  }
}

/**
 * The sink the loop is given, behind a guard: tracing must never break the program. The first
 * time the sink throws (a full disk, a bug in a custom sink), the error is reported once through
 * the loop's exception handler and the sink is switched off (`loop.trace` becomes null); the
 * program goes on untraced, its results untouched.
 */
class GuardedSink implements TraceSink {
  readonly steps: boolean;
  /** The sink threw once: it receives nothing more. */
  off = false;
  constructor(
    private readonly sink: TraceSink,
    private readonly loop: LoopImpl,
  ) {
    let steps = false;
    try {
      steps = sink.steps === true;
    } catch (error) {
      this.fail(error, "reading `steps`");
    }
    this.steps = steps;
  }
  event(event: TraceEvent): void {
    if (this.off) return;
    try {
      this.sink.event(event);
    } catch (error) {
      this.fail(error, `a "${event.type}" event`);
    }
  }
  flush(): void {
    if (this.off || typeof this.sink.flush !== "function") return;
    try {
      this.sink.flush();
    } catch (error) {
      this.fail(error, "flush()");
    }
  }
  private fail(error: unknown, during: string): void {
    if (this.off) return;
    this.off = true;
    if (this.loop.trace === this) this.loop.trace = null;
    this.loop.reportError({
      message: `The trace sink threw on ${during} and was switched off; the program goes on untraced`,
      error,
    });
  }
}

let activeLoop: LoopImpl | undefined;
let defaultLoop: LoopImpl | undefined;
/** Loops made and not closed yet (the default loop among them once it exists). */
let openLoops = 0;

/**
 * Called for every loop as it is made (every `run`, the default loop), with the sink the loop was
 * given (or null); returns the sink the loop uses. The layers above the core set it (src/index.ts):
 * `awaitress ps` keeps a list of live loops through it, and `AWAITRESS_TRACE` adds its process-wide
 * recorder, without the core importing them.
 * @internal
 */
export type LoopHook = (loop: LoopImpl, sink: TraceSink | null) => TraceSink | null;

let loopHook: LoopHook | null = null;

/** @internal Sets the {@link LoopHook} (src/debug/register.ts does, once per copy of the library). */
export function setLoopHook(hook: LoopHook | null): void {
  loopHook = hook;
}

/**
 * Where `AWAITRESS_TRACE`'s process-wide recorder puts its {@link LoopHook}: on `globalThis`, so
 * one recorder sees the loops of every copy of awaitress in the process (an ESM and a CJS copy,
 * two versions, the source under tsx and the build).
 * @internal
 */
export const PROCESS_TRACE_HOOK: unique symbol = Symbol.for("awaitress.processTrace");

/**
 * An event loop: the waiter. It runs ready callbacks in FIFO order, one batch per microtask
 * (a "pass"), and keeps the timers on its clock. `run` makes one for each program (and a default
 * real-time loop serves code outside any `run`); find it with {@link getRunningLoop}.
 *
 * This is what programs may use of it, after asyncio's `AbstractEventLoop`: the clock and
 * `time()`, `call_soon`/`call_at`/`call_later`, the exception handler, `get_debug()` and
 * `is_closed()`. Tasks are made with {@link createTask}, not on the loop; the loop is closed by
 * `run`, not by the program.
 *
 * @example
 * await run(async () => {
 *   const loop = getRunningLoop();
 *   loop.callLater(1, (what) => console.log(what, loop.time()), "one second on");
 *   await sleep(2);
 * }, { clock: "virtual" });
 * // one second on 1
 */
export interface Loop {
  /** The clock the loop keeps its timers on (`run`'s `clock` option). */
  readonly clock: Clock;
  /** Debug mode is on (`run(main, { debug: true })`, AWAITRESS_DEBUG=1); asyncio's `get_debug()`. */
  readonly debug: boolean;
  /** `run` has returned: the loop takes no more tasks; asyncio's `is_closed()`. */
  readonly closed: boolean;
  /**
   * Receives every error nobody handled: failures never retrieved, errors thrown by callbacks,
   * debug mode's warnings (asyncio's `set_exception_handler`). Assign to replace it; the default
   * prints to `console.error`.
   */
  onError: ErrorHandler;
  /** The loop's clock reading, in seconds (asyncio's `loop.time()`). */
  time(): number;
  /** Runs `callback(arg)` on the next pass of the loop, after every callback already queued (`call_soon`). */
  callSoon<A>(callback: (arg: A) => void, arg: A): void;
  /** Runs `callback(arg)` once the clock reaches `when`, in seconds (`call_at`); cancel with `loop.clock.cancel(handle)`. */
  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle;
  /** Runs `callback(arg)` after `delay` seconds (`call_later`). */
  callLater<A>(delay: number, callback: (arg: A) => void, arg: A): TimerHandle;
  /** Sends an error to the exception handler, as the loop does with one nobody handled (`call_exception_handler`); never throws. */
  reportError(context: ErrorContext): void;
}

/**
 * The loop itself: {@link Loop} and the state the library's own code reads and writes.
 * @internal
 */
export class LoopImpl implements Loop {
  readonly clock: Clock;
  readonly debug: boolean;
  /** Where the loop reports what it does; `null` when nothing records (one check per event). */
  trace: TraceSink | null;
  onError: ErrorHandler;
  /** Every task created on this loop that is not done yet. */
  readonly tasks = new TaskRegistry<LoopTask>();
  private readonly ready = new RingBuffer<unknown>(64);
  private drainScheduled = false;
  private closedFlag = false;
  /**
   * Failures nobody has retrieved yet (small records, not the futures): reported when their
   * future is collected or when the loop closes. A retrieved failure leaves at once, so a
   * long-running program that handles its errors holds none.
   */
  readonly failures = new Set<FailureRecord>();
  /** The task whose step runs now: the loop waits for it to suspend before the next callback. */
  private stepping: object | null = null;
  private paused = false;
  private watchdogArmed = false;
  /** Real time (ms) at which the current run of microtask passes began; -1 outside one. */
  private sliceStart = -1;
  private sliceEndArmed = false;
  /**
   * Schedule fuzzing (`run(main, { shuffle: seed })`): a seeded random source in [0, 1) that
   * permutes callbacks that are equally ready; `null` for the documented FIFO order.
   */
  shuffle: (() => number) | null = null;
  /** Number of tasks created so far; gives each task its id. */
  taskCount = 0;
  /**
   * @internal Tasks the trace shows waiting on a foreign promise (see {@link Loop._foreignWaitBegins});
   * empty unless tracing.
   */
  readonly _foreignWaits = new Set<TracedTask>();
  /** Debug mode's step watcher (a `StepObserver`); `null` when nothing watches. */
  steps: StepObserver | null = null;
  private readonly drainOutside: () => void;
  private readonly watchdogOutside: () => void;
  private readonly endSliceOutside: () => void;
  /** @internal Shared done futures of `undefined` and `true` (see park.ts doneFuture). */
  _doneVoid: Future<unknown> | null = null;
  /** @internal */
  _doneTrue: Future<unknown> | null = null;
  /** The clock has no `attach`: the loop wraps timer callbacks itself. */
  private readonly wrapTimers: boolean;
  /** Number of passes run so far; the virtual clock's autojump reads it to tell idleness. */
  passes = 0;

  constructor(options: LoopOptions = {}) {
    this.clock = options.clock ?? new RealClock();
    this.onError = options.onError ?? defaultErrorHandler;
    this.debug = options.debug ?? false;
    this.trace = null;
    let sink = options.trace ?? null;
    if (loopHook !== null) sink = loopHook(this, sink);
    const processHook = (globalThis as { [PROCESS_TRACE_HOOK]?: LoopHook })[PROCESS_TRACE_HOOK];
    if (processHook !== undefined) sink = processHook(this, sink);
    if (sink !== null) {
      const guarded = new GuardedSink(sink, this);
      // A sink that threw on reading `steps` is already off.
      if (!guarded.off) this.trace = guarded;
    }
    this.wrapTimers = typeof this.clock.attach !== "function";
    openLoops++;
    // The drain, the watchdog and the slice marker run outside any task's context, whoever
    // schedules them (see context.ts).
    this.drainOutside = bindOutside(this.drain);
    this.watchdogOutside = bindOutside(this.watchdog);
    this.endSliceOutside = bindOutside(this.endSlice);
  }

  /** The loop's clock reading, in seconds. */
  time(): number {
    return this.clock.now();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs `callback(arg)` on the next pass of the loop, after every callback already queued. */
  callSoon<A>(callback: (arg: A) => void, arg: A): void {
    this.ready.push(callback);
    this.ready.push(arg);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      this.scheduleDrain();
    }
  }

  /**
   * True while the loop has work it has not run: ready callbacks, or a task step in progress.
   * The virtual clock moves time only when this is false. @internal
   */
  busy(): boolean {
    return this.drainScheduled;
  }

  /**
   * Queues the next drain: on a microtask for speed, but on a macrotask (`setImmediate`) once
   * the loop has run for {@link SLICE_MS} without the host's event loop getting a turn, so
   * timers and I/O are polled as asyncio polls them on every iteration.
   */
  private scheduleDrain(): void {
    if (this.sliceStart >= 0 && performance.now() - this.sliceStart > SLICE_MS) {
      this.sliceStart = -1;
      const trace = this.trace;
      if (trace !== null) trace.event({ type: "loop-yield", time: this.time() });
      setImmediate(this.drainOutside);
      return;
    }
    if (FOLLOWS_FOREIGN_PROMISES) queueMicrotask(this.drainOutside);
    // Without AsyncLocalStorage, one microtask later: the `then()` jobs of awaits made in the same
    // turn as the call that scheduled the drain (`await new Task(...)` from plain code, a task's
    // second `then` in a Promise.all) run first, while no step has begun that would claim them.
    else queueMicrotask(this.drainAfterHop);
  }

  private readonly drainAfterHop = (): void => {
    queueMicrotask(this.drainOutside);
  };

  private readonly endSlice = (): void => {
    this.sliceEndArmed = false;
    this.sliceStart = -1;
  };

  /** @internal `task` starts a step (it is resumed, or runs its first step). */
  _beginStep(task: object): void {
    this.stepping = task;
    stepBegins(task as LoopTask);
  }

  /**
   * @internal `task` suspended or finished: its step is over, and the loop runs the next ready
   * callback.
   */
  _endStep(task: object): void {
    if (this.stepping !== task) return;
    this.stepping = null;
    if (!this.paused) return;
    this.paused = false;
    // On a microtask, not now: the task may have called then() itself, with more synchronous
    // code to run before anyone else's step.
    this.scheduleDrain();
  }

  /**
   * A task step that awaits something the library cannot see (a foreign promise) never signals
   * its end; once the microtask queue is empty (a macrotask runs), it is over.
   */
  private readonly watchdog = (): void => {
    this.watchdogArmed = false;
    if (!this.paused) return;
    const task = this.stepping as LoopTask | null;
    this.stepping = null;
    this.paused = false;
    noStep();
    // Without AsyncLocalStorage nothing can tell which task resumes after a foreign promise: the
    // task fails now, saying what to do, rather than run on outside it (see context.browser.ts).
    // (A task still suspended on an awaitress future is waiting there: what ran was a side chain
    // of it, such as an async function it called and did not await yet, and it is still itself.)
    if (!FOLLOWS_FOREIGN_PROMISES && task !== null && !task.done() && !suspendedOnFuture(task)) this.lostTask(task);
    // Traced without a step monitor (which sees foreign waits itself, more precisely): the step
    // ended on a wait the loop cannot see, so the trace must not show the task running.
    if (this.trace !== null && this.steps === null && task !== null) this.stepEndedUnseen(task);
    this.drain();
  };

  private lostTask(task: LoopTask): void {
    const name = (task as { name?: unknown }).name;
    const error = new InvalidStateError(
      `Task ${JSON.stringify(String(name))} awaited a promise that is not awaitress's (fetch(), a setTimeout ` +
        "promise, Promise.all() of tasks, ...), and without AsyncLocalStorage (in a browser) awaitress cannot tell " +
        "which task resumes after it. Await an awaitress future instead: `await ensureFuture(promise)`, " +
        'gather() rather than Promise.all(); see "In the browser" in awaitress\'s README',
    );
    (task as unknown as { _fail(error: unknown): void })._fail(error);
  }

  private stepEndedUnseen(task: LoopTask): void {
    if (task.done() || (task as { _futWaiter?: unknown })._futWaiter != null) return;
    this._foreignWaitBegins(task, this.time());
  }

  /**
   * @internal The trace shows `task` waiting on a foreign promise from `since` (loop time), once:
   * the loop's watchdog and debug mode's step monitor may both notice the same wait.
   */
  _foreignWaitBegins(task: TracedTask, since: number): void {
    const trace = this.trace;
    if (trace === null || this._foreignWaits.has(task)) return;
    this._foreignWaits.add(task);
    trace.event({ type: "task-suspended", time: since, task: task.id, on: FOREIGN_WAIT });
  }

  /**
   * @internal `task` was seen running again (it suspends on an awaitress future, finishes, or a
   * step monitor saw it run): the foreign wait the trace shows, if any, ends now.
   */
  _foreignWaitEnds(task: TracedTask): void {
    if (this._foreignWaits.size === 0 || !this._foreignWaits.delete(task)) return;
    const trace = this.trace;
    if (trace !== null) trace.event({ type: "task-resumed", time: this.time(), task: task.id, by: null });
  }

  private armWatchdog(): void {
    if (this.watchdogArmed) return;
    this.watchdogArmed = true;
    setImmediate(this.watchdogOutside);
  }

  /** Runs `callback(arg)` once the clock reaches `when` (seconds). */
  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle {
    // A clock that does not attach to loops still runs its callbacks as part of this loop.
    if (this.wrapTimers || this.trace !== null) {
      const timer = new LoopTimer(this, callback as Callback, arg, this.wrapTimers);
      return this.clock.callAt(when, LoopTimer.fire, timer);
    }
    return this.clock.callAt(when, callback, arg);
  }

  /** Runs `callback(arg)` after `delay` seconds. */
  callLater<A>(delay: number, callback: (arg: A) => void, arg: A): TimerHandle {
    return this.callAt(this.clock.now() + delay, callback, arg);
  }

  /**
   * Runs a timer callback as part of this loop: code in it (outside any task) finds this loop
   * with `getRunningLoop()`, as code in a ready callback does. The clocks call it. @internal
   */
  runTimer<A>(callback: (arg: A) => void, arg: A): void {
    const previous = activeLoop;
    activeLoop = this;
    try {
      callback(arg);
    } finally {
      activeLoop = previous;
    }
  }

  /** Sends an error nobody handled to the exception handler; never throws. */
  reportError(context: ErrorContext): void {
    try {
      this.onError(context);
    } catch (e) {
      console.error("awaitress: the exception handler threw while reporting an error:", e, context);
    }
  }

  /** Stops the clock. Called by `run` once every task is done. */
  close(): void {
    if (!this.closedFlag) openLoops--;
    this.closedFlag = true;
    this.clock.close();
  }

  private readonly drain = (): void => {
    if (this.paused) return;
    noStep();
    const previous = activeLoop;
    activeLoop = this;
    const ready = this.ready;
    this.passes++;
    if (this.sliceStart < 0) this.sliceStart = performance.now();
    if (!this.sliceEndArmed) {
      this.sliceEndArmed = true;
      setImmediate(this.endSliceOutside);
    }
    try {
      // One pass: the callbacks queued before it started. Callbacks they queue run next pass.
      // A callback that resumes a task pauses the pass until that task's step ends.
      let n = ready.length;
      if (this.shuffle !== null && this.stepping === null) n = this.shuffleFront(n, this.shuffle);
      while (n > 0) {
        const callback = ready.shift() as Callback;
        const arg = ready.shift();
        n -= 2;
        try {
          callback(arg);
        } catch (error) {
          this.reportError({ message: "Exception in callback", error });
        }
        if (this.stepping !== null) {
          this.paused = true;
          break;
        }
      }
    } finally {
      activeLoop = previous;
      if (this.paused) {
        this.armWatchdog();
      } else if (ready.length > 0) {
        this.scheduleDrain();
      } else {
        this.drainScheduled = false;
      }
    }
  };

  /** Permutes the first `n / 2` callbacks of the ready queue (schedule fuzzing); returns `n`. */
  private shuffleFront(n: number, random: () => number): number {
    const ready = this.ready;
    const count = n >> 1;
    if (count < 2) return n;
    const callbacks: unknown[] = new Array(count);
    const args: unknown[] = new Array(count);
    for (let i = 0; i < count; i++) {
      callbacks[i] = ready.shift();
      args[i] = ready.shift();
    }
    const order: number[] = new Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    shuffleRange(order, 0, count, random);
    const rest: unknown[] = [];
    while (ready.length > 0) rest.push(ready.shift());
    for (const i of order) {
      ready.push(callbacks[i]);
      ready.push(args[i]);
    }
    for (const x of rest) ready.push(x);
    return n;
  }

  /** @internal A failure nobody has retrieved yet. */
  _keepFailure(record: FailureRecord): void {
    this.failures.add(record);
  }

  /** @internal The failure was retrieved after all. */
  _forgetFailure(record: FailureRecord): void {
    this.failures.delete(record);
  }

  /** @internal Reports a never-retrieved failure (its future was collected, or the loop closes). */
  _reportFailure(record: FailureRecord): void {
    if (!this.failures.delete(record)) return;
    const task = record.task?.deref() as LoopTask | undefined;
    this.reportError({
      message: task !== undefined ? "Task exception was never retrieved" : "Future exception was never retrieved",
      error: record.error,
      ...(task !== undefined ? { task } : {}),
    });
  }

  /** @internal Reports every failure still unretrieved (the loop closes). */
  _reportFailures(except?: object): void {
    for (const record of [...this.failures]) {
      if (except !== undefined && record.task?.deref() === except) {
        this.failures.delete(record);
        continue;
      }
      this._reportFailure(record);
    }
  }
}

/**
 * The loop of the running task, or of the running `run`, or else the default real-time loop,
 * so primitives used outside `run` still work.
 */
export function getRunningLoop(): Loop {
  return runningLoop();
}

/** @internal {@link getRunningLoop}, typed as the library's own code sees the loop. */
export function runningLoop(): LoopImpl {
  const task = taskContext.getStore();
  if (task !== undefined) return task._loop;
  if (activeLoop !== undefined) return activeLoop;
  // Without AsyncLocalStorage, code that finds no task here while a run is in progress may be a
  // task's continuation after a foreign promise: on the default real-time loop it would go on,
  // silently, outside its run. Plain code with no run in progress gets the default loop.
  if (!FOLLOWS_FOREIGN_PROMISES && openLoops > (defaultLoop === undefined ? 0 : 1)) throw noRunningLoop();
  if (defaultLoop === undefined) {
    const loop = new LoopImpl({ debug: hostEnv("AWAITRESS_DEBUG") === "1" });
    defaultLoop = loop;
    // The default loop never closes: failures nobody retrieved are reported when collected, and
    // those still alive when the process exits are reported then.
    atHostExit(() => loop._reportFailures());
  }
  return defaultLoop;
}

function suspendedOnFuture(task: LoopTask): boolean {
  return (task as { _futWaiter?: unknown })._futWaiter != null;
}

function noRunningLoop(): InvalidStateError {
  return new InvalidStateError(
    "No running task: in a browser, while a run() is in progress, awaitress code runs in its tasks, and this was " +
      "called outside them — or in a task after it awaited a promise that is not awaitress's, across which " +
      "awaitress cannot follow it without AsyncLocalStorage: await such promises through ensureFuture(); see " +
      '"In the browser" in awaitress\'s README',
  );
}

/** @internal True for the loop primitives fall back to outside any `run` (debug mode warns about tasks on it). */
export function isDefaultLoop(loop: LoopImpl): boolean {
  return loop === defaultLoop;
}
