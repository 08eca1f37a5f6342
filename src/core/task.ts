/**
 * Tasks: plain async functions run by the loop, which can be named, cancelled, awaited and
 * inspected (asyncio's `Task`), plus `createTask`, `currentTask` and `allTasks`.
 */
import { CancelledError, describe, InvalidStateError } from "../errors.js";
import { safeString } from "../internal/text.js";
import { isThenable } from "../internal/thenable.js";
import { eagerStepReturned, FOLLOWS_FOREIGN_PROMISES } from "./context.js";
import { type Awaiter, CANCELLED, FULFILLED, Future, PENDING, REJECTED, trampoline } from "./future.js";
import { isDefaultLoop, type Loop, type LoopImpl, type LoopTask, runningLoop, taskContext } from "./loop.js";

/** Options of {@link createTask}. */
export interface TaskOptions {
  /**
   * The task's name, shown in traces, hang reports and errors.
   * @default "Task-<id>"
   */
  name?: string;
  /**
   * Run the task's first step synchronously inside `createTask` (asyncio 3.12's eager tasks)
   * instead of on the next pass of the loop. A body that finishes without suspending is done
   * when `createTask` returns.
   * @default false
   */
  eagerStart?: boolean;
}

/** Work a task runs: a function that starts it. Its return value (or what it resolves to) is the result. */
export type TaskFunction<T> = () => T | PromiseLike<T>;

/**
 * A running async function: asyncio's `Task`. It starts on the next pass of the loop (or at once
 * with `eagerStart`), and is a {@link Future} of its return value.
 *
 * `cancel()` makes the await the task is suspended on throw {@link CancelledError}. The await
 * must be on an awaitress primitive (a sleep, a queue, a lock, a task, a future): a task awaiting a
 * foreign promise (say `fetch`) sees the cancellation at its next awaitress await; if its
 * function returns first, the task ends cancelled all the same (asyncio's rule). A cancellation
 * requested after what the task awaits completed, before the task resumed, makes that await throw
 * (asyncio's must-cancel) — unless what it completed with is something taken (an item, a lock),
 * which is never discarded: then the next await that suspends throws. Pass {@link Task.signal}
 * to foreign APIs so they stop too.
 *
 * @example
 * const t = createTask(async () => { await sleep(10); return 1 }, { name: "slow" });
 * await sleep(0.1);
 * t.cancel("too slow");
 * try { await t } catch (e) { console.log(isCancelled(e)) } // true
 */
export class Task<T = unknown> extends Future<T> implements LoopTask {
  /** A number unique within the loop, in creation order (1 for the first task). */
  readonly id: number;
  /** @internal the given name; the default one is made only when asked for (a string per task costs) */
  private _name: string | undefined;
  /** Id of the task that created this one, or `null`. */
  readonly parentId: number | null;
  /** Loop clock reading when the task was created. */
  readonly createdAt: number;
  /** Where the task was created (a stack trace), recorded in debug mode only. */
  readonly creationStack: string | undefined;
  /** @internal */
  _futWaiter: Future<unknown> | null = null;
  /** @internal a cancellation requested while the task was not suspended on a future */
  _mustCancel = false;
  /** @internal */
  _numCancelsRequested = 0;
  /** @internal */
  _started = false;
  /** @internal neighbours in the loop's list of live tasks */
  _prevLive: Task | null = null;
  /** @internal */
  _nextLive: Task | null = null;
  /** @internal a primitive's operation (see operationTask): resumes its awaiter inline */
  _operation = false;
  /** @internal clock time of the last suspension, for deadlock reports and `awaitress ps` */
  _waitingSince = 0;
  /** @internal the innermost cancel scope open in this task (a timeout's block, a group's body) */
  _scope: CancelScope | null = null;
  private fn: TaskFunction<T> | undefined;
  private controller: AbortController | undefined = undefined;
  /** A cancellation from outside the task's scopes is pending: its own signal is aborted. */
  private signalCancelled = false;
  /** The message of that cancellation. */
  private signalMessage: unknown = undefined;

  /** Use {@link createTask}; the constructor is public for subclasses and tests. */
  constructor(fn: TaskFunction<T>, options: TaskOptions = {}, loop?: Loop) {
    if (typeof fn !== "function") {
      throw new TypeError(
        `createTask expects a function that starts the work, such as () => fetchPage(url); got ${describe(fn)}`,
      );
    }
    checkTaskOptions(options);
    const parent = taskContext.getStore() as Task | undefined;
    const theLoop = (loop as LoopImpl | undefined) ?? parent?._loop ?? runningLoop();
    super(theLoop);
    if (theLoop.closed) {
      throw new InvalidStateError(
        "createTask was called on a loop that has closed (its run() returned): create tasks inside run()",
      );
    }
    if (options.name !== undefined && typeof options.name !== "string") {
      throw new TypeError(`Expected the task \`name\` to be a string, got ${describe(options.name)}`);
    }
    this.fn = fn;
    this.id = ++theLoop.taskCount;
    this._name = options.name;
    this.parentId = parent !== undefined && parent.loop === theLoop ? parent.id : null;
    this.createdAt = theLoop.time();
    this.creationStack = theLoop.debug ? new Error("created here").stack : undefined;
    theLoop.tasks.add(this);
    const trace = theLoop.trace;
    if (trace !== null) {
      trace.event({
        type: "task-created",
        time: this.createdAt,
        task: this.id,
        name: this.name,
        parent: this.parentId,
      });
    }
    if (theLoop.debug) {
      const steps = theLoop.steps;
      if (steps !== null) steps.created(this);
      if (parent === undefined && loop === undefined && isDefaultLoop(theLoop)) {
        theLoop.reportError({
          message:
            "createTask was called outside run(): the task runs on the default real-time loop and nothing awaits or cancels it; create tasks inside run()",
          error: undefined,
          task: this,
        });
      }
    }
    if (options.eagerStart === true) Task.step(this, true);
    else theLoop.callSoon(Task.step, this as Task);
  }

  /** The loop that runs this task. */
  get loop(): Loop {
    return this._loop;
  }

  /**
   * An `AbortSignal` for foreign APIs (`fetch`, streams, child processes) that should stop when
   * this code is cancelled. Its reason is the {@link CancelledError}.
   *
   * Read from the task's own code inside a block that a construct can cancel on its own — the
   * block of a {@link timeout}/{@link Timeout}, the body of a {@link TaskGroup} — it is that
   * block's signal: aborted when the block's deadline passes or its group aborts, and when the
   * task is cancelled. Read anywhere else (outside such blocks, or from another task) it is the
   * task's own signal, aborted only when the task itself is cancelled: a timeout that expired and
   * was handled never aborts it, so a signal kept for the task's whole life stays usable.
   *
   * @example
   * const signal = currentTask()!.signal; // the task's: outlives every timeout below
   * for (const url of urls) {
   *   try {
   *     // inside the block: the block's signal, aborted when its 5 s are up
   *     await timeout(5, () => fetch(url, { signal: currentTask()!.signal }));
   *   } catch (e) {
   *     if (!(e instanceof TimeoutError)) throw e;
   *   }
   * }
   * await fetch(report, { method: "POST", signal }); // not aborted by the timeouts above
   */
  get signal(): AbortSignal {
    const scope = this._scope;
    if (scope !== null && taskContext.getStore() === this) return scope.signal;
    return this.ownSignal();
  }

  private ownSignal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.signalCancelled) this.controller.abort(new CancelledError(this.signalMessage));
      else if (this._state === CANCELLED) this.controller.abort(new CancelledError(this._cancelMessage));
    }
    return this.controller.signal;
  }

  /** @internal True while a cancellation from outside the task's scopes is pending. */
  _signalAborted(): boolean {
    return this.signalCancelled;
  }

  /** @internal Opens `scope` inside the innermost open one. */
  _enterScope(scope: CancelScope): void {
    scope.parent = this._scope;
    scope.task = this as Task;
    this._scope = scope;
  }

  /** @internal Closes `scope` (normally the innermost one). */
  _exitScope(scope: CancelScope): void {
    if (this._scope === scope) {
      this._scope = scope.parent;
    } else {
      // Blocks of one task left out of order (two timeouts gathered in one task): unlink it.
      for (let s = this._scope; s !== null; s = s.parent) {
        if (s.parent === scope) {
          s.parent = scope.parent;
          break;
        }
      }
    }
    scope.parent = null;
    scope.task = null;
  }

  /**
   * @internal A construct cancels the block it runs (a timeout expired, a group aborts its body):
   * a cancellation request like {@link Task.cancel}, which aborts the signals of `scope` and of
   * the blocks inside it, not the task's own signal.
   */
  _cancelFromScope(scope: CancelScope, message?: unknown): boolean {
    if (this._state !== PENDING) return false;
    for (let s = this._scope; s !== null; s = s.parent) {
      if (s === scope) break;
      s._abort(message, true);
    }
    scope._abort(message, true);
    return this.requestCancel(message);
  }

  /** The task's name: the one given to `createTask`, or `Task-<id>`. Assignable. */
  get name(): string {
    return this._name ?? `Task-${this.id}`;
  }

  set name(name: string) {
    this.setName(name);
  }

  /** The task's name (asyncio's `get_name`). */
  getName(): string {
    return this.name;
  }

  /** Renames the task (asyncio's `set_name`). */
  setName(name: string): void {
    if (typeof name !== "string") throw new TypeError(`Expected the task name to be a string, got ${describe(name)}`);
    this._name = name;
  }

  /**
   * Requests cancellation: the await the task is suspended on throws {@link CancelledError}
   * carrying `message`. Returns `false` if the task is already done. Each call counts as one
   * request (see {@link Task.cancelling}).
   */
  override cancel(message?: unknown): boolean {
    if (this._state !== PENDING) {
      // asyncio's cancel() on a done task clears `_log_traceback`: its error counts as seen.
      this._retrieved = true;
      return false;
    }
    if (!this.signalCancelled) {
      this.signalCancelled = true;
      this.signalMessage = message;
    }
    // Errors cost a stack trace each: made only for signals someone holds.
    if (this.controller !== undefined && !this.controller.signal.aborted) {
      this.controller.abort(new CancelledError(message));
    }
    for (let s = this._scope; s !== null; s = s.parent) s._abort(message, false);
    return this.requestCancel(message);
  }

  private requestCancel(message: unknown): boolean {
    this._numCancelsRequested++;
    this._cancelMessage = message;
    const waiter = this._futWaiter;
    if (waiter !== null && waiter._state === PENDING) {
      // asyncio: `if self._fut_waiter.cancel(msg): return True`. A pending future's cancel
      // succeeds; it runs on the trampoline, so a chain of tasks awaiting tasks cancels in a
      // flat loop rather than one stack frame per link.
      trampoline(cancelWaiter, { task: this, waiter, message }, this._loop);
      return true;
    }
    // Not suspended on a pending future (running, resumed but not yet running, or awaiting a
    // foreign promise): delivered at the next awaitress await, or when the task resumes.
    this._mustCancel = true;
    return true;
  }

  /** Number of cancellation requests not yet withdrawn with {@link Task.uncancel}. */
  cancelling(): number {
    return this._numCancelsRequested;
  }

  /**
   * Withdraws one cancellation request and returns how many remain. Structured constructs
   * (`timeout`, `TaskGroup`) call it to take back their own requests. When none remain, a
   * cancellation not yet delivered is dropped.
   */
  uncancel(): number {
    if (this._numCancelsRequested > 0) {
      this._numCancelsRequested--;
      if (this._numCancelsRequested === 0) {
        this._mustCancel = false;
        // An AbortSignal cannot be un-aborted: after a cancellation from outside that the task
        // handled and withdrew, hand out a fresh one, so later foreign calls are not cancelled
        // at once. (A timeout's or a group's own request never aborted it.)
        this.signalCancelled = false;
        this.signalMessage = undefined;
        if (this.controller?.signal.aborted) this.controller = undefined;
      }
    }
    return this._numCancelsRequested;
  }

  /** Tasks are completed by their function: setResult() throws. */
  override setResult(_value: T): never {
    throw new InvalidStateError("Task does not support setResult(): a task's result is what its function returns");
  }

  /** Tasks are completed by their function: setException() throws. */
  override setException(_error: unknown): never {
    throw new InvalidStateError("Task does not support setException(): a task fails when its function throws");
  }

  override get [Symbol.toStringTag](): string {
    return "Task";
  }

  override toString(): string {
    const state = ["pending", "finished", "failed", "cancelled"][this._state];
    return `Task(${JSON.stringify(this.name)}, ${state})`;
  }

  /** @internal */
  override describeSelf(): string {
    return `Task "${this.name}"`;
  }

  /** @internal */
  override _waitLabel(): string {
    return this._label ?? `task "${this.name}"`;
  }

  /** @internal First step of a task: runs its function, or cancels it if asked before it ran. */
  static step(task: Task, eager = false): void {
    if (task._state !== PENDING || task._started) return;
    task._started = true;
    const trace = task._loop.trace;
    if (trace !== null) trace.event({ type: "task-started", time: task._loop.time(), task: task.id });
    if (task._mustCancel) {
      // Cancelled before its first step: the body never runs (asyncio throws into it at start).
      task._mustCancel = false;
      task._complete(CANCELLED, undefined, new CancelledError(task._cancelMessage));
      return;
    }
    const steps = task._loop.steps;
    if (!eager) task._loop._beginStep(task);
    if (steps === null) {
      taskContext.run(task, runBody, task);
      if (eager) eagerStepReturned(task);
      return;
    }
    steps.enter(task);
    try {
      taskContext.run(task, runBody, task);
    } finally {
      steps.leave(task);
    }
    if (eager) eagerStepReturned(task);
  }

  /** @internal The body returned `value`. */
  _succeed(value: T): void {
    if (this._state !== PENDING) return;
    if (this._mustCancel) {
      // Cancelled right before the body returned: asyncio discards the result and the task ends
      // cancelled. (An operation that produced the value, such as a queue get, checks for this
      // before it takes anything, so nothing is lost.)
      this._mustCancel = false;
      this._complete(CANCELLED, undefined, new CancelledError(this._cancelMessage));
      return;
    }
    this._complete(FULFILLED, value, undefined);
  }

  /** @internal The body threw `error`. */
  _fail(error: unknown): void {
    if (this._state !== PENDING) return;
    if (error instanceof CancelledError) {
      this._mustCancel = false;
      this._complete(CANCELLED, undefined, error);
      return;
    }
    this._complete(REJECTED, undefined, error);
  }

  /** @internal */
  private _complete(state: number, value: T | undefined, error: unknown): void {
    this.fn = undefined;
    this._futWaiter = null;
    this._loop.tasks.delete(this);
    const controller = this.controller;
    this.controller = undefined;
    if (state === CANCELLED && controller !== undefined && !controller.signal.aborted) {
      controller.abort(error);
    }
    const trace = this._loop.trace;
    if (trace !== null) {
      // A task that finishes was running: a foreign wait the trace shows ends first.
      if (this._loop._foreignWaits.size !== 0) this._loop._foreignWaitEnds(this);
      const outcome = state === FULFILLED ? "result" : state === CANCELLED ? "cancelled" : "error";
      if (state === REJECTED) {
        // Any value can be thrown; one String() cannot convert must not break the trace.
        trace.event({ type: "task-done", time: this._loop.time(), task: this.id, outcome, error: safeString(error) });
      } else {
        trace.event({ type: "task-done", time: this._loop.time(), task: this.id, outcome });
      }
    }
    // An operation's task hands its result to the task awaiting it at once (that task's turn:
    // code after `await barrier.wait()` runs before anyone else moves the barrier on).
    const inline = this._operation;
    if (state === FULFILLED) {
      this._resolve(value as T, inline);
    } else if (state === REJECTED) {
      this._reject(error, inline);
    } else {
      this._error = error;
      this._cancelMessage = (error as CancelledError).reason;
      this._state = CANCELLED;
      this._finish(inline);
    }
    // The step is over (unless the inline resumption began the awaiting task's step).
    this._loop._endStep(this);
  }

  /** @internal */
  _run(): unknown {
    return (this.fn as TaskFunction<T>)();
  }
}

/**
 * A block of a task that a structured construct can cancel on its own: a timeout's block, a task
 * group's body. Its signal is aborted when the construct cancels the block, or when the task is
 * cancelled; never un-aborted (it belongs to the block). @internal
 */
export class CancelScope {
  /** @internal the scope this one is inside, in the same task */
  parent: CancelScope | null = null;
  /** @internal the task while the scope is open */
  task: Task | null = null;
  private controller: AbortController | undefined = undefined;
  private cancelled = false;
  private message: unknown = undefined;

  /** Aborted once the block is cancelled (by its construct, or with its task). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      const reason = this.pendingReason();
      if (reason !== undefined) this.controller.abort(reason);
    }
    return this.controller.signal;
  }

  /**
   * @internal Aborts the signal if it exists; `own` (the block itself is cancelled) also makes a
   * signal created later start aborted. A cancellation of the whole task is seen through the task.
   */
  _abort(message: unknown, own: boolean): void {
    if (own && !this.cancelled) {
      this.cancelled = true;
      this.message = message;
    }
    if (this.controller !== undefined && !this.controller.signal.aborted) {
      this.controller.abort(new CancelledError(message));
    }
  }

  private pendingReason(): CancelledError | undefined {
    for (let s: CancelScope | null = this; s !== null; s = s.parent) {
      if (s.cancelled) return new CancelledError(s.message);
    }
    const task = this.task;
    if (task === null) return undefined;
    if (task._signalAborted()) return new CancelledError(task._cancelMessage);
    return undefined;
  }
}

function checkTaskOptions(options: unknown): void {
  if (typeof options === "string") {
    throw new TypeError(
      `createTask's second argument is an options object: write createTask(fn, { name: ${JSON.stringify(options)} })`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Expected createTask's options to be an object such as { name: "fetch" }, got ${describe(options)}`,
    );
  }
  const { eagerStart } = options as TaskOptions;
  if (eagerStart !== undefined && typeof eagerStart !== "boolean") {
    throw new TypeError(`Expected \`eagerStart\` to be a boolean, got ${describe(eagerStart)}`);
  }
}

function runBody(task: Task): void {
  let returned: unknown;
  try {
    returned = task._run();
  } catch (error) {
    task._fail(error);
    return;
  }
  if (returned instanceof Promise) {
    // A native promise runs its handlers in the context `then` was called in (this task's), so
    // they find their task there: no closure and no async frame per task.
    if (FOLLOWS_FOREIGN_PROMISES) void returned.then(bodyReturned, bodyThrew);
    // Without AsyncLocalStorage the handlers are told their task: a body that ended after a
    // foreign promise (its task already failed) must not complete whichever task runs then.
    else
      void returned.then(
        (value) => task._succeed(value),
        (error: unknown) => task._fail(error),
      );
  } else if (returned instanceof Future && returned !== task) {
    // A future (a sleep, another task, a gather): join it through a done-listener, as gather
    // does; awaiting it would cost a promise chain and an async frame per task.
    joinFuture(task, returned);
  } else if (isThenable(returned)) {
    // Another thenable may call back from anywhere: adopt it with an await, in this context.
    void settle(task, returned);
  } else {
    task._succeed(returned);
  }
}

/** The body returned `future`: the task waits on it (cancelling the task cancels it) and ends as it does. */
function joinFuture(task: Task, future: Future<unknown>): void {
  future._join(task, joinFulfilled, joinRejected);
}

function joinFulfilled(value: unknown, task: Awaiter, future: Future<unknown>): void {
  const t = task as Task;
  // The joined future holds something taken (an item, a lock): the task's result is that, even
  // if a cancellation arrived after it was taken. asyncio does it in one step, with no gap.
  if (t._mustCancel && future._keepsResult) t._mustCancel = false;
  t._succeed(value);
}

function joinRejected(error: unknown, task: Awaiter): void {
  (task as Task)._fail(error);
}

interface CancelRequest {
  readonly task: Task;
  readonly waiter: Future<unknown>;
  readonly message: unknown;
}

function cancelWaiter(request: CancelRequest): void {
  const { task, waiter, message } = request;
  if (waiter.cancel(message)) return;
  // The waiter refused (or finished meanwhile): the task's next step throws instead.
  if (task._state === PENDING) task._mustCancel = true;
}

async function settle(task: Task, body: PromiseLike<unknown>): Promise<void> {
  let value: unknown;
  try {
    value = await body;
  } catch (error) {
    task._fail(error);
    return;
  }
  task._succeed(value);
}

function bodyReturned(value: unknown): void {
  (taskContext.getStore() as Task)._succeed(value);
}

function bodyThrew(error: unknown): void {
  (taskContext.getStore() as Task)._fail(error);
}

/**
 * Runs `fn` as a task on the running loop and returns its {@link Task} (asyncio's
 * `create_task`). The task starts on the next pass of the loop, not synchronously, unless
 * `eagerStart` is set. Keep the task, or put it in a {@link TaskGroup}: its result and errors
 * reach whoever awaits it; errors nobody retrieves are reported when the loop closes.
 *
 * Throws `TypeError` if `fn` is not a function (pass `() => work()`, not `work()`).
 *
 * @example
 * const page = createTask(() => fetchPage(url), { name: `fetch ${url}` });
 * console.log(await page);
 */
export function createTask<T>(fn: TaskFunction<T>, options?: TaskOptions): Task<Awaited<T>> {
  return new Task(fn as TaskFunction<Awaited<T>>, options);
}

/** The task whose code is running, or `undefined` outside any task (asyncio's `current_task`). */
export function currentTask(): Task | undefined {
  const task = taskContext.getStore();
  if (task instanceof Task && task._state === PENDING) return task;
  return undefined;
}

/**
 * Every task of the running loop that is not done yet (asyncio's `all_tasks`). The tasks that
 * carry a primitive's multi-step wait (`Condition.wait`, `Barrier.wait`) are left out.
 */
export function allTasks(): Set<Task> {
  const tasks = new Set<Task>();
  // A primitive's operation (a condition wait, a barrier wait) is part of its caller's wait, as
  // the coroutine is in asyncio: not a task of the user's.
  for (const task of runningLoop().tasks as Iterable<Task>) if (!task._operation) tasks.add(task);
  return tasks;
}

/**
 * Runs a primitive's multi-step operation (a condition wait: wait, then take the lock back) as a
 * task started at once, so the operation is a {@link Future} that combinators can cancel, and
 * cancellation reaches whatever step it is in. @internal
 */
export function operationTask<T>(fn: TaskFunction<T>, name: string): Task<T> {
  const parent = taskContext.getStore() as Task | undefined;
  const loop = parent?._loop ?? runningLoop();
  // The body is an async function: it cannot finish before the flag is set.
  const task = new Task(fn, { name, eagerStart: true }, loop);
  task._operation = true;
  return task;
}
