/** The workloads with Effection (v4): spawned operations, sleep, call. */
import { call, type Operation, run, sleep, spawn, type Task } from "effection";
import { type Workload, w4Delay } from "../workloads.js";
import { job } from "./raw.js";

function* w1Child(i: number): Operation<number> {
  yield* sleep(0);
  return i;
}

/** W1: spawn a child per task (each sleeps 0 once), then join them all. */
const w1: Workload = ({ n }) =>
  run(function* () {
    const tasks: Task<number>[] = new Array(n);
    for (let i = 0; i < n; i++) tasks[i] = yield* spawn(() => w1Child(i));
    let total = 0;
    for (const task of tasks) total += yield* task;
    return total;
  });

/** W3: `width` spawned workers pull job numbers from a shared counter (Effection has no semaphore). */
const w3: Workload = ({ n, width }) =>
  run(function* () {
    let next = 0;
    let total = 0;
    function* worker(): Operation<void> {
      while (next < n) {
        const value = yield* call(() => job(next++));
        total += value;
      }
    }
    const tasks: Task<void>[] = [];
    for (let w = 0; w < width; w++) tasks.push(yield* spawn(worker));
    for (const task of tasks) yield* task;
    return total;
  });

/** W4: spawn a sleeper per delay, then join them all. */
const w4: Workload = ({ n, depth }) =>
  run(function* () {
    const tasks: Task<void>[] = new Array(n);
    for (let i = 0; i < n; i++) tasks[i] = yield* spawn(() => sleep(w4Delay(i, depth)));
    for (const task of tasks) yield* task;
    return n;
  });

export const workloads: Record<string, Workload> = { w1, w3, w4 };
