/**
 * The current task where there is no `AsyncLocalStorage` (a browser): the browser build swaps
 * context.ts for this module (scripts/build.mjs). See "In the browser" in the README.
 *
 * The design. The loop runs one task's step at a time and knows when each begins: it resumes the
 * task itself, by settling the awaitress future the task awaits (or runs the task's first step).
 * From then on the task's code — its continuation, the async functions it calls, the promises
 * that settle within that turn — is the only code the loop lets run, until the task awaits the
 * next awaitress future (that future's `then()` is called: the task parks) or its body settles.
 * So `current` is set when a step begins and stays until the loop runs its next callback. A step
 * that awaits a foreign promise (`fetch`, a `setTimeout` promise, `Promise.all`) does not park
 * within the turn: when it settles, nothing says which task resumes. The loop's watchdog sees such
 * a step when the microtask queue drains, and fails the task with an error that says to wrap the
 * promise (`await ensureFuture(promise)`), instead of letting it go on outside its task.
 */
import type { LoopTask } from "./loop.js";

let current: LoopTask | undefined;

/**
 * Tasks started eagerly whose first step returned without parking yet: the next `then()` calls
 * on awaitress futures are theirs, in this order (each first await queued its `then` job before
 * the code that started the task went on).
 */
const eagerFirst: LoopTask[] = [];

/** @internal The part of `AsyncLocalStorage` the core uses. */
export interface TaskContext {
  getStore(): LoopTask | undefined;
  run<R, A extends unknown[]>(store: LoopTask, fn: (...args: A) => R, ...args: A): R;
  exit<R, A extends unknown[]>(fn: (...args: A) => R, ...args: A): R;
}

/** @internal The current task, as the core reads it (AsyncLocalStorage's methods). */
export const taskContext: TaskContext = {
  getStore(): LoopTask | undefined {
    return current;
  },
  run<R, A extends unknown[]>(store: LoopTask, fn: (...args: A) => R, ...args: A): R {
    const previous = current;
    current = store;
    try {
      return fn(...args);
    } finally {
      current = previous;
    }
  },
  exit<R, A extends unknown[]>(fn: (...args: A) => R, ...args: A): R {
    const previous = current;
    current = undefined;
    try {
      return fn(...args);
    } finally {
      current = previous;
    }
  },
};

/** @internal See context.ts. False here: a step must park on awaitress's own awaitables. */
export const FOLLOWS_FOREIGN_PROMISES = false;

/** @internal The loop's callbacks run as they are: the loop says when a step begins and ends. */
export function bindOutside(fn: () => void): () => void {
  return fn;
}

/** @internal The loop begins `task`'s step: its code is the code that runs until the loop's next callback. */
export function stepBegins(task: LoopTask): void {
  current = task;
}

/** @internal The loop runs its next callback (or the watchdog ended a step): no task's code runs now. */
export function noStep(): void {
  current = undefined;
  eagerFirst.length = 0;
}

/** @internal An eager task's first step returned: its first await's `then()` comes before its starter's. */
export function eagerStepReturned(task: LoopTask): void {
  if (!task.done() && (task as { _futWaiter?: unknown })._futWaiter == null) eagerFirst.push(task);
}

/** @internal The task a `then()` on an awaitress future is called by (its `await`). */
export function awaitingTask(): LoopTask | undefined {
  while (eagerFirst.length > 0) {
    const task = eagerFirst.shift() as LoopTask;
    if (!task.done() && (task as { _futWaiter?: unknown })._futWaiter == null) return task;
  }
  return current;
}

/** @internal A browser has no environment variables. */
export function hostEnv(_name: string): string | undefined {
  return undefined;
}

/** @internal A page does not exit as a process does: failures nobody retrieved are reported when collected. */
export function atHostExit(_fn: () => void): void {}
