/**
 * What the core needs from its host, on Node (and Bun, Deno): the current task, carried across
 * every `await` by `AsyncLocalStorage`, and the process's environment and exit. The browser build
 * swaps this module for context.browser.ts (scripts/build.mjs), which has no `node:` import.
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import type { LoopTask } from "./loop.js";

/** @internal The store holds the task whose code is running (undefined outside any task). */
export const taskContext = new AsyncLocalStorage<LoopTask>();

/**
 * @internal True where the context follows a task across any promise (AsyncLocalStorage). The browser's
 * follows a task only across awaitress's own awaitables, and refuses a step that ends on a
 * foreign promise (see context.browser.ts).
 */
export const FOLLOWS_FOREIGN_PROMISES = true;

/**
 * @internal `fn`, bound to run outside any task's context whoever schedules it. Binding once (in an empty
 * context) costs a context switch per call, where `taskContext.exit` would allocate a context
 * frame each time.
 */
export function bindOutside(fn: () => void): () => void {
  return taskContext.exit(() => AsyncResource.bind(fn));
}

/** @internal The loop begins `task`'s step (AsyncLocalStorage needs to be told nothing). */
export function stepBegins(_task: LoopTask): void {}

/** @internal The loop runs no task's step now (AsyncLocalStorage needs to be told nothing). */
export function noStep(): void {}

/** @internal An eagerly started task's first step returned (AsyncLocalStorage needs to be told nothing). */
export function eagerStepReturned(_task: LoopTask): void {}

/** @internal The task a `then()` on an awaitress future is called by: the context's. */
export function awaitingTask(): LoopTask | undefined {
  return taskContext.getStore();
}

/**
 * @internal The environment variable `name`, or undefined — also where reading it is refused
 * (Deno without `--allow-env` throws NotCapable): awaitress's own variables are optional, and a
 * program must not fail at import for want of a permission it never asked for.
 */
export function hostEnv(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/** @internal Runs `fn` once when the process exits. */
export function atHostExit(fn: () => void): void {
  process.once("exit", fn);
}
