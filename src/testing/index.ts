/**
 * `awaitress/testing`: helpers for tests of programs written with awaitress, on the virtual
 * clock — the same ones awaitress's own suite uses. Any test runner that takes an async
 * function will do; nothing here depends on one.
 *
 * - {@link runVirtual}: run a program on a fresh virtual clock; get back what it returned, the
 *   errors the loop reported (instead of printing them), and the virtual time at the end.
 * - {@link virtualTest}: the same as a test body that fails if anything was reported.
 * - {@link advance}: inside such a run, move time forward now, as if the current step took that
 *   long.
 * - {@link settle}: inside such a run, wait until every task waits on something not ready now.
 *
 * @example
 * import { createTask, sleep, time } from "awaitress";
 * import { runVirtual, virtualTest } from "awaitress/testing";
 *
 * // In a test file: it("waits 1 s then 2 s", virtualTest(async () => { ... }));
 * const test = virtualTest(async () => {
 *   await sleep(1);
 *   await sleep(2);
 *   if (time() !== 3) throw new Error(`time() is ${time()}`);
 * });
 * await test(); // resolves: nothing was reported, in no real time
 *
 * const { errors } = await runVirtual(async () => {
 *   createTask(async () => { throw new Error("lost"); });
 * });
 * console.log(errors[0]?.message); // "Task exception was never retrieved"
 *
 * @module awaitress/testing
 */
export type { ErrorContext } from "../core/loop.js";
export { advance, runVirtual, settle, type VirtualRun, type VirtualRunOptions, virtualTest } from "./virtual.js";
