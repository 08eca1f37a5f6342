/**
 * `TaskGroup`: structured concurrency (asyncio's `taskgroups.py`, Python 3.13 semantics plus
 * 3.15's `cancel()`). A group's block does not finish before every task it started has.
 */

import { Future, REJECTED } from "./core/future.js";
import { getRunningLoop, type Loop } from "./core/loop.js";
import { CancelScope, currentTask, Task, type TaskFunction, type TaskOptions } from "./core/task.js";
import { CancelledError, describe, ExceptionGroup, InvalidStateError } from "./errors.js";

/**
 * Runs tasks as one unit (asyncio's `TaskGroup`): {@link TaskGroup.run} runs a block that starts
 * tasks with {@link TaskGroup.createTask}, and returns only once all of them are done.
 *
 * Python 3.13's rules:
 * - The first task that fails (with anything but {@link CancelledError}) cancels the other tasks
 *   and the block itself (by cancelling the task running the block; that request is always
 *   withdrawn, so `cancelling()` is unchanged afterwards). No task can be added after that.
 * - Every error, the block's included, is thrown together as one {@link ExceptionGroup}
 *   ("unhandled errors in a TaskGroup"). Handle it with `split()`/`subgroup()`.
 * - A task that ends cancelled is not an error.
 * - If the task running the group is cancelled from outside, the group cancels its tasks, waits
 *   for them and throws the `CancelledError`, unless tasks failed meanwhile: errors win, and the
 *   outside cancellation is requested again so the next await sees it.
 * - {@link TaskGroup.cancel} (Python 3.15) stops everything and the group ends without an error.
 *
 * Python's `KeyboardInterrupt`/`SystemExit` special cases and `BaseExceptionGroup` have no
 * JavaScript counterpart and are not reproduced.
 *
 * Outside any task (plain async code, an HTTP handler), the group runs as a task of the default
 * loop. The body's signal is {@link TaskGroup.signal}.
 *
 * Errors ({@link InvalidStateError}): "has already been entered" (run twice), and from
 * `createTask` "has not been entered", "is
 * shutting down", "is finished".
 *
 * @example
 * import { run, sleep, TaskGroup } from "awaitress";
 * await run(async () => {
 *   const tg = new TaskGroup();
 *   const a = await tg.run(async () => {
 *     const first = tg.createTask(() => sleep(1, "a"));
 *     tg.createTask(() => sleep(2, "b"), { name: "b" });
 *     return await first; // after 1 s
 *   });
 *   console.log(a, "and b done too"); // after 2 s
 * }, { clock: "virtual" });
 */
export class TaskGroup {
  private entered = false;
  private exiting = false;
  private aborting = false;
  private loop: Loop | undefined = undefined;
  private parentTask: Task | undefined = undefined;
  private parentCancelRequested = false;
  private readonly tasks = new Set<Task>();
  private errors: unknown[] = [];
  private onCompletedFut: Future<boolean> | null = null;
  private cancelOnEnter = false;
  private readonly scope = new CancelScope();

  /**
   * The body's `AbortSignal`, for foreign APIs the body calls: aborted when the group aborts (a
   * task failed, or {@link TaskGroup.cancel}) or the task running the group is cancelled. It
   * belongs to the body: the task's own {@link Task.signal} is not aborted by the group. Inside
   * the body, `currentTask().signal` is this signal too. (Each task of the group has its own
   * `signal`, aborted when the group cancels it.)
   */
  get signal(): AbortSignal {
    return this.scope.signal;
  }

  /**
   * Starts `fn` as a task of the group and returns the {@link Task} (asyncio's
   * `TaskGroup.create_task`). If the task fails, the group cancels everything and reports the
   * error. Throws {@link InvalidStateError} before the group runs ("has not been entered"), once
   * it is aborting after a failure or `cancel()` ("is shutting down"), and after it finished ("is
   * finished"); `fn` is then never called. Throws `TypeError` if `fn` is not a function.
   *
   * @example
   * import { run, sleep, taskGroup } from "awaitress";
   * await run(() => taskGroup(async (tg) => {
   *   const t = tg.createTask(() => sleep(1, 42), { name: "answer" });
   *   console.log(t.getName(), await t); // answer 42
   * }), { clock: "virtual" });
   */
  createTask<T>(fn: TaskFunction<T>, options?: TaskOptions): Task<Awaited<T>> {
    if (typeof fn !== "function") {
      throw new TypeError(
        `TaskGroup.createTask expects a function that starts the work, such as () => fetchPage(url); got ${describe(fn)}`,
      );
    }
    if (!this.entered) {
      throw new InvalidStateError("TaskGroup has not been entered: create tasks inside the block run by run()");
    }
    if (this.exiting && this.tasks.size === 0) {
      throw new InvalidStateError("TaskGroup is finished: it accepts no more tasks; start a new group");
    }
    if (this.aborting) {
      throw new InvalidStateError(
        "TaskGroup is shutting down (a task failed, or the group was cancelled): it accepts no more tasks",
      );
    }
    const task = new Task(fn as TaskFunction<Awaited<T>>, options, this.loop);
    this.tasks.add(task as Task);
    // asyncio's `add_done_callback`: the group reacts on the ready queue, so a sibling whose
    // wake-up was already queued (failing at the same instant) runs first and counts too.
    // A task already done (an eager one that failed at once) is handled at once (CPython
    // gh-128550).
    if (task.done()) this.onTaskDone(task);
    else task._onDone(this.scheduleTaskDone);
    // An eager task can fail, and so abort the group, before this line.
    if (this.aborting && !task.done()) task.cancel();
    return task;
  }

  /**
   * Cancels every task of the group and the block, and lets the group end without an error
   * (Python 3.15's `TaskGroup.cancel`). Before {@link TaskGroup.run}, the group is cancelled as
   * soon as it starts; after it finished, does nothing. Idempotent.
   *
   * @example
   * import { run, sleep, taskGroup, time } from "awaitress";
   * await run(async () => {
   *   await taskGroup(async (tg) => {
   *     tg.createTask(() => sleep(3600)); // a server, say
   *     tg.createTask(async () => { await sleep(1); tg.cancel() }); // stops it all after 1 s
   *   });
   *   console.log(time()); // 1, and no error
   * }, { clock: "virtual" });
   */
  cancel(): void {
    if (!this.entered) {
      this.cancelOnEnter = true;
      return;
    }
    if (this.exiting && this.tasks.size === 0) return;
    if (this.aborting) return;
    this.abort();
    if (this.parentTask !== undefined && !this.parentCancelRequested) {
      this.parentCancelRequested = true;
      this.parentTask._cancelFromScope(this.scope);
    }
  }

  /**
   * Runs `body(this)` in the current task, then waits for every task of the group, and returns
   * what `body` returned: `undefined` when {@link TaskGroup.cancel} interrupted the body. Throws
   * an {@link ExceptionGroup} of every error, or the {@link CancelledError} of an outside
   * cancellation, as described on {@link TaskGroup}.
   *
   * @example
   * import { run, sleep, TaskGroup } from "awaitress";
   * await run(async () => {
   *   const n = await new TaskGroup().run(async (tg) => {
   *     tg.createTask(() => sleep(1));
   *     return 7;
   *   });
   *   console.log(n); // 7, after 1 s
   * }, { clock: "virtual" });
   */
  async run<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T | undefined> {
    if (typeof body !== "function") {
      throw new TypeError(
        `TaskGroup.run expects the block to run as a function, such as async (tg) => ...; got ${describe(body)}`,
      );
    }
    if (!this.entered && currentTask() === undefined) {
      // Plain async code (an HTTP handler, a script): the group runs as a task of the default
      // loop, so it has a task to cancel when one of its tasks fails.
      return await new Task(() => this.run(body), { name: "task group" }, getRunningLoop());
    }
    this.enter();
    let result: T | undefined;
    try {
      result = await body(this);
    } catch (error) {
      await this.exit(true, error);
      return undefined;
    }
    await this.exit(false, undefined);
    return result;
  }

  toString(): string {
    const parts: string[] = [];
    if (this.tasks.size > 0) parts.push(`tasks=${this.tasks.size}`);
    if (this.errors.length > 0) parts.push(`errors=${this.errors.length}`);
    if (this.aborting) parts.push("cancelling");
    else if (this.entered) parts.push("entered");
    return parts.length > 0 ? `TaskGroup ${parts.join(" ")}` : "TaskGroup";
  }

  private enter(): void {
    if (this.entered) {
      throw new InvalidStateError("TaskGroup has already been entered: a TaskGroup runs one block; create a new one");
    }
    const parent = currentTask() as Task;
    this.loop = parent._loop;
    this.parentTask = parent;
    this.entered = true;
    parent._enterScope(this.scope);
    if (this.cancelOnEnter) this.cancel();
  }

  /** asyncio's `__aexit__`: returns when the block's outcome is suppressed, throws otherwise. */
  private async exit(threw: boolean, error: unknown): Promise<void> {
    try {
      await this.exitInner(threw, error);
    } finally {
      this.parentTask?._exitScope(this.scope);
      this.parentTask = undefined;
      this.errors = [];
    }
  }

  private async exitInner(threw: boolean, error: unknown): Promise<void> {
    this.exiting = true;
    const parent = this.parentTask as Task;
    let propagateCancellation: unknown = threw && error instanceof CancelledError ? error : undefined;
    // The body failed or was cancelled: stop the tasks.
    if (threw && !this.aborting) this.abort();

    // A loop, because the wait can be cancelled again and again while the tasks wind down.
    let pendingCancellation: unknown;
    while (this.tasks.size > 0) {
      if (this.onCompletedFut === null) {
        this.onCompletedFut = new Future<boolean>(this.loop);
        this.onCompletedFut._label = "task group";
      }
      try {
        await this.onCompletedFut;
      } catch (e) {
        pendingCancellation = e;
        if (!this.aborting) {
          // The task running the group is cancelled from outside while the tasks still run.
          propagateCancellation = e;
          this.abort();
        }
      }
      this.onCompletedFut = null;
    }

    if (this.parentCancelRequested) {
      // Our own request must always be withdrawn.
      if (parent.uncancel() === 0) {
        propagateCancellation = undefined;
      } else if (propagateCancellation === undefined) {
        // gh-155433: what remains is not ours; do not drop it.
        propagateCancellation = pendingCancellation;
      }
    }

    // Errors have priority over a cancellation.
    if (propagateCancellation !== undefined && this.errors.length === 0) throw propagateCancellation;

    // The body's error, unless it is the error of a task it awaited (already collected).
    if (threw && !(error instanceof CancelledError) && !this.errors.includes(error)) this.errors.push(error);

    if (this.errors.length > 0) {
      // Keep an outside cancellation alive, at the same count, for the code after the group.
      // (Re-armed as it is, so a timeout's request stays the timeout's and aborts no more signals.)
      if (parent.cancelling() > 0) parent._mustCancel = true;
      const n = this.errors.length;
      throw new ExceptionGroup(
        `unhandled errors in a TaskGroup (${n} sub-exception${n === 1 ? "" : "s"})`,
        this.errors,
      );
    }
  }

  private abort(): void {
    this.aborting = true;
    for (const task of this.tasks) {
      if (!task.done()) task.cancel();
    }
  }

  private readonly scheduleTaskDone = (task: Task): void => {
    if (task._state === REJECTED) task.loop.callSoon(this.onTaskDone, task);
    else this.onTaskDone(task);
  };

  private readonly onTaskDone = (task: Task): void => {
    this.tasks.delete(task);
    const completed = this.onCompletedFut;
    if (completed !== null && this.tasks.size === 0 && !completed.done()) completed.setResult(true);
    // A task that ended cancelled is not an error; one that threw (even `undefined`) is.
    if (task._state !== REJECTED) return;
    const error = task.exception();
    this.errors.push(error);
    const parent = this.parentTask;
    if (parent === undefined || parent.done()) {
      task._loop.reportError({
        message: `Task "${task.name}" failed but the task that ran its group is already done`,
        error,
        task,
      });
      return;
    }
    if (!this.aborting && !this.parentCancelRequested) {
      // Interrupt whatever the block is awaiting; the request is withdrawn on exit.
      this.abort();
      this.parentCancelRequested = true;
      parent._cancelFromScope(this.scope);
    }
  };
}

/**
 * Runs `body` with a new {@link TaskGroup} and returns its result: `new TaskGroup().run(body)`.
 * Every task the block starts is done when the promise settles; failures arrive together as an
 * {@link ExceptionGroup}.
 *
 * @example
 * import { ExceptionGroup, run, sleep, taskGroup } from "awaitress";
 * await run(async () => {
 *   try {
 *     await taskGroup(async (tg) => {
 *       tg.createTask(async () => { await sleep(1); throw new RangeError("bad page") });
 *       tg.createTask(() => sleep(10)); // cancelled at 1 s
 *     });
 *   } catch (e) {
 *     if (!(e instanceof ExceptionGroup)) throw e;
 *     console.log(e.subgroup(RangeError)?.exceptions.length); // 1
 *   }
 * }, { clock: "virtual" });
 */
export function taskGroup<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T | undefined> {
  return new TaskGroup().run(body);
}
