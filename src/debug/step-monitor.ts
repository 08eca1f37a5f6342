/**
 * Debug mode's eyes on every synchronous step: `async_hooks` before/after callbacks (and the
 * loop's own hook around each task's first step) time each step of each task, report the slow
 * ones naming the task and where it was created, publish the running task to the watchdog, and
 * notice tasks that wait on something awaitress does not know (a foreign promise).
 */
import { type AsyncHook, createHook } from "node:async_hooks";
import type { Future } from "../core/future.js";
import { FOREIGN_WAIT, type Loop, type LoopTask, type StepObserver, taskContext } from "../core/loop.js";
import type { Task } from "../core/task.js";
import { formatTime } from "../trace/timeline.js";
import { creationSite } from "./creation-site.js";
import { type BlockedReport, Watchdog } from "./watchdog.js";

/** The label of a wait awaitress cannot see into. */
export const FOREIGN = FOREIGN_WAIT;

/** The `code` of the warning emitted where the runtime's async hooks miss promise continuations. */
export const PARTIAL_STEP_HOOKS_WARNING = "AWAITRESS_PARTIAL_STEP_HOOKS";

let promiseHooks: Promise<boolean> | null = null;
let warnedPartial = false;

/**
 * Whether this runtime's `async_hooks.createHook` calls `before` around a promise continuation,
 * which is how the monitor sees every step after a task's first (Node does; Bun 1.4 calls no
 * hook at all; Deno 2.9 calls them around timers only). Tested once, by awaiting a promise.
 */
export function promiseHooksWork(): Promise<boolean> {
  promiseHooks ??= (async () => {
    const promises = new Set<number>();
    let seen = false;
    const probe = createHook({
      init: (id, type) => {
        if (type === "PROMISE") promises.add(id);
      },
      before: (id) => {
        if (promises.has(id)) seen = true;
      },
    });
    probe.enable();
    try {
      await new Promise<void>((resolve) => resolve());
    } finally {
      probe.disable();
    }
    return seen;
  })();
  return promiseHooks;
}

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun !== undefined) return `Bun ${versions.bun}`;
  if (versions.deno !== undefined) return `Deno ${versions.deno}`;
  return `this runtime (node ${process.version})`;
}

/**
 * Says, once per process, what debug mode and step tracing cannot see on this runtime; resolves
 * once the warning is out (it is printed on a later tick, and printing it inside the loop's first
 * slice would make the loop yield to the host there).
 */
async function warnPartialHooks(): Promise<void> {
  if (warnedPartial) return;
  warnedPartial = true;
  process.emitWarning(
    `Debug mode and step tracing see only each task's first step on ${runtimeName()}: its node:async_hooks createHook() does not call before/after around promise continuations. ` +
      "Unavailable after a task's first await: slow-step reports, the watchdog's live blocked-loop reports, and waits on foreign promises (a trace shows such a task as running). " +
      "Still works: those reports for first steps, creation sites, the task tree printed on a signal, and every event the loop traces itself.",
    { type: "AwaitressWarning", code: PARTIAL_STEP_HOOKS_WARNING },
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Options of {@link StepMonitor}. */
export interface StepMonitorOptions {
  /** Report steps longer than this many seconds; `null` to not time steps. */
  slowStepThreshold: number | null;
  /** Start a watchdog reporting steps longer than this many seconds, live; `null` for none. */
  blockedThreshold: number | null;
  /** Where the watchdog writes. @default 2 */
  watchdogFd?: number;
}

/** What a pending task waits on, and since when (loop time). */
export interface WaitInfo {
  readonly on: string;
  readonly since: number;
}

interface WaitRecord {
  waiter: Future<unknown> | null;
  on: string;
  since: number;
}

type MonitoredTask = Task & LoopTask;

/**
 * Watches the steps of one loop's tasks. `run` creates it in debug mode (and for trace sinks
 * with `steps: true`), installs it as `loop.steps`, and stops it when the loop closes.
 *
 * @example
 * const monitor = new StepMonitor(loop, { slowStepThreshold: 0.1, blockedThreshold: null });
 * loop.steps = monitor;
 * await monitor.start();
 */
export class StepMonitor implements StepObserver {
  /** Reports the watchdog wrote (received once the loop ran again). */
  readonly blockedReports: BlockedReport[] = [];
  private readonly thresholdMs: number;
  private hook: AsyncHook | null = null;
  private watchdog: Watchdog | null = null;
  // The stack of open steps (steps nest: the loop's pass runs first steps; eager tasks nest).
  private readonly stackTasks: (MonitoredTask | null)[] = [];
  private readonly stackStarts: number[] = [];
  private readonly stackChildren: number[] = [];
  private depth = 0;
  /** False where the runtime's hooks miss promise continuations: only first steps are seen. */
  private everyStep = true;
  private readonly waits = new WeakMap<MonitoredTask, WaitRecord>();
  /** Tasks whose last step ended with no awaitress future to wait on: maybe a foreign promise. */
  private readonly maybeForeign = new Map<MonitoredTask, number>();
  /** Tasks recorded as waiting on a foreign promise. */
  private readonly foreign = new Set<MonitoredTask>();
  private checkScheduled = false;
  private finished: number[] = [];
  /**
   * Arms the check from outside any task's context: an immediate set from a task's step runs as
   * one more step of that task, which would re-arm the check on every turn and never let the task
   * be seen waiting.
   */
  private readonly armCheck = (): void => {
    setImmediate(this.checkForeign);
  };

  constructor(
    readonly loop: Loop,
    private readonly options: StepMonitorOptions,
  ) {
    this.thresholdMs = options.slowStepThreshold === null ? Number.POSITIVE_INFINITY : options.slowStepThreshold * 1000;
  }

  /**
   * Enables the hooks and starts the watchdog; resolves once the watchdog is watching. Where the
   * runtime's hooks miss promise continuations (Bun, Deno), it watches first steps only and says
   * so once per process (a process warning, code {@link PARTIAL_STEP_HOOKS_WARNING}).
   */
  async start(): Promise<void> {
    this.everyStep = await promiseHooksWork();
    if (this.everyStep) this.enableHook();
    else await warnPartialHooks();
    const blocked = this.options.blockedThreshold;
    if (blocked !== null) {
      this.watchdog = new Watchdog({
        blockedThreshold: blocked,
        ...(this.options.watchdogFd !== undefined ? { fd: this.options.watchdogFd } : {}),
        onReport: (report) => this.blockedReports.push(report),
      });
      await this.watchdog.ready;
    }
  }

  /** The hook that sees every step: `before`/`after` around each callback of a loop's task. */
  private enableHook(): void {
    const loop = this.loop;
    this.hook = createHook({
      // An exception escaping an async hook kills the process: never let one out.
      before: () => {
        try {
          const task = taskContext.getStore();
          this.push(task !== undefined && task.loop === loop ? (task as MonitoredTask) : null);
        } catch (error) {
          this.internalError(error);
        }
      },
      after: () => {
        try {
          this.pop();
        } catch (error) {
          this.internalError(error);
        }
      },
    });
    this.hook.enable();
  }

  /** Disables the hooks and stops the watchdog. */
  stop(): void {
    this.hook?.disable();
    this.hook = null;
    this.watchdog?.close();
    this.watchdog = null;
    this.maybeForeign.clear();
    this.foreign.clear();
  }

  /** What `task` waits on and since when, as far as the monitor saw; undefined if it runs. */
  waitOf(task: Task): WaitInfo | undefined {
    const record = this.waits.get(task as MonitoredTask);
    if (record === undefined) {
      // Its step ended with nothing of awaitress's to wait on, and it is not running now (this
      // is another step): it waits on a foreign promise, even if the check has not run yet.
      const since = this.maybeForeign.get(task as MonitoredTask);
      if (since === undefined || task.done() || task._futWaiter !== null) return undefined;
      return { on: FOREIGN, since };
    }
    if (record.waiter !== null && record.waiter !== task._futWaiter) return undefined;
    return { on: record.on, since: record.since };
  }

  /** @internal A task was made: the watchdog learns its name. */
  created(task: LoopTask): void {
    const t = task as MonitoredTask;
    this.watchdog?.name(t.id, t.name, t.creationStack);
  }

  /** @internal A task's first step starts. */
  enter(task: LoopTask): void {
    // An eager task starts inside the step that made it: the worker must know its name first.
    this.watchdog?.flush();
    this.push(task as MonitoredTask);
  }

  /** @internal A task's first step ends. */
  leave(_task: LoopTask): void {
    this.pop();
  }

  private push(task: MonitoredTask | null): void {
    const d = this.depth++;
    this.stackTasks[d] = task;
    this.stackStarts[d] = performance.now();
    this.stackChildren[d] = 0;
    if (task !== null) this.stepStarts(task);
    this.watchdog?.publish(task === null ? 0 : task.id, d + 1);
  }

  private pop(): void {
    if (this.depth === 0) return;
    const d = --this.depth;
    const task = this.stackTasks[d] as MonitoredTask | null;
    const total = performance.now() - (this.stackStarts[d] as number);
    const own = total - (this.stackChildren[d] as number);
    if (d > 0) this.stackChildren[d - 1] = (this.stackChildren[d - 1] as number) + total;
    this.stackTasks[d] = null;
    if (this.watchdog !== null) {
      const outer = d > 0 ? this.stackTasks[d - 1] : null;
      this.watchdog.flush();
      this.watchdog.publish(outer == null ? 0 : outer.id, d);
    }
    if (task !== null) this.stepEnds(task, own);
  }

  private stepStarts(task: MonitoredTask): void {
    this.maybeForeign.delete(task);
    if (this.foreign.delete(task)) {
      this.waits.delete(task);
      this.loop._foreignWaitEnds(task);
    }
  }

  private stepEnds(task: MonitoredTask, ownMs: number): void {
    if (ownMs > this.thresholdMs) this.reportSlow(task, ownMs / 1000);
    if (task.done()) {
      this.waits.delete(task);
      if (this.watchdog !== null) {
        this.finished.push(task.id);
        if (this.finished.length >= 256) this.flushFinished();
      }
      return;
    }
    const waiter = task._futWaiter;
    if (waiter !== null) {
      const record = this.waits.get(task);
      if (record === undefined || record.waiter !== waiter) {
        this.waits.set(task, { waiter, on: waiter._waitLabel(), since: this.loop.time() });
      }
      return;
    }
    // No awaitress future to wait on. If the task has not run again once the microtasks have
    // drained, it waits on something awaitress cannot see (only knowable if its next step is seen).
    if (!this.everyStep) return;
    this.maybeForeign.set(task, this.loop.time());
    if (!this.checkScheduled) {
      this.checkScheduled = true;
      taskContext.exit(this.armCheck);
    }
  }

  private flushFinished(): void {
    this.watchdog?.forget(this.finished);
    this.finished = [];
  }

  private readonly checkForeign = (): void => {
    this.checkScheduled = false;
    for (const [task, since] of this.maybeForeign) {
      if (task.done() || task._futWaiter !== null) continue;
      this.foreign.add(task);
      this.waits.set(task, { waiter: null, on: FOREIGN, since });
      this.loop._foreignWaitBegins(task, since);
    }
    this.maybeForeign.clear();
  };

  private internalError(error: unknown): void {
    try {
      this.loop.reportError({ message: "Debug mode's step monitor failed", error });
    } catch {
      // Nothing left to report with.
    }
  }

  private reportSlow(task: MonitoredTask, seconds: number): void {
    const site = creationSite(task.creationStack);
    const where = site === undefined ? "" : `, created at ${site}`;
    const threshold = this.options.slowStepThreshold as number;
    const trace = this.loop.trace;
    if (trace !== null) trace.event({ type: "slow-step", time: this.loop.time(), task: task.id, duration: seconds });
    this.loop.reportError({
      message: `Executing Task "${task.name}" (id ${task.id}${where}) took ${seconds.toFixed(3)} seconds: one synchronous step held the event loop longer than slowStepThreshold (${formatTime(threshold)}); move the blocking work to a worker or await inside it`,
      error: undefined,
      task,
    });
  }
}
