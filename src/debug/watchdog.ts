/**
 * The live blocking report: a worker thread that notices when the main thread has been inside one
 * synchronous step for `blockedThreshold` and says which task holds it, while it still does.
 *
 * The main thread publishes, at each step boundary, a sequence number, the running task's id and
 * the step depth in a SharedArrayBuffer; it posts the names and creation stacks of the tasks made
 * during a step to the worker, in one message, when the step ends (and before a task's first step). The worker polls the shared memory: a sequence number that has not
 * moved for the threshold while a step is open means the loop is blocked. It writes the report
 * with a synchronous write to the output file descriptor (stderr by default), because the main
 * thread, which normally carries a worker's output, is the one that is stuck.
 */
import { Worker } from "node:worker_threads";
import { bundledSource } from "../internal/bundle.js";
import { BUILT as WATCHDOG_WORKER } from "../internal/bundled/watchdog-worker.js";
import { LIBRARY_ROOT } from "./creation-site.js";
import type { WatchdogWorkerData } from "./watchdog-worker.js";

/** What the watchdog found: the loop was blocked by `task` (null: code outside any task). */
export interface BlockedReport {
  /** The task's id, or null. */
  readonly task: number | null;
  /** The task's name, or null. */
  readonly name: string | null;
  /** Where the task was created (debug mode), or null. */
  readonly site: string | null;
  /** How long the step had run when the report was written, in seconds. */
  readonly blockedFor: number;
  /** Wall time of the report (`Date.now()`), written while the loop was still blocked. */
  readonly at: number;
  /** The line written to the output. */
  readonly text: string;
}

/** Options of {@link Watchdog}. */
export interface WatchdogOptions {
  /** Seconds a step may run before it is reported. */
  blockedThreshold: number;
  /** File descriptor the report is written to. @default 2 (stderr) */
  fd?: number;
  /** Called on the main thread, once it runs again, with each report. */
  onReport?: (report: BlockedReport) => void;
}

// Slots of the shared state.
const SEQ = 0;
const TASK = 1;
const DEPTH = 2;

/**
 * A worker thread that reports, live, a task holding the event loop for longer than
 * `blockedThreshold`. Started by `run` in debug mode; asyncio has nothing like it (it names a
 * slow callback only once it has returned).
 *
 * @example
 * const dog = new Watchdog({ blockedThreshold: 0.5 });
 * await dog.ready;
 * dog.publish(3, 1); // task 3 runs a step
 */
export class Watchdog {
  /** Resolves once the worker polls (reports are possible from then on). */
  readonly ready: Promise<void>;
  private readonly state: Int32Array;
  private readonly worker: Worker;
  private closed = false;
  private pendingIds: number[] = [];
  private pendingNames: string[] = [];
  private pendingStacks: (string | undefined)[] = [];

  constructor(options: WatchdogOptions) {
    const thresholdMs = options.blockedThreshold * 1000;
    const buffer = new SharedArrayBuffer(16);
    this.state = new Int32Array(buffer);
    const workerData: WatchdogWorkerData = {
      buffer,
      thresholdMs,
      intervalMs: Math.max(1, Math.min(50, Math.floor(thresholdMs / 10))),
      fd: options.fd ?? 2,
      root: LIBRARY_ROOT ?? null,
      cwd: `${process.cwd()}/`,
      slots: { seq: SEQ, task: TASK, depth: DEPTH },
    };
    // The worker's program: src/debug/watchdog-worker.ts, bundled (internal/bundle.ts).
    this.worker = new Worker(bundledSource("watchdog-worker", WATCHDOG_WORKER), {
      eval: true,
      workerData,
      stdout: false,
      stderr: false,
    });
    this.worker.unref();
    const onReport = options.onReport;
    this.ready = new Promise<void>((resolve) => {
      this.worker.on("message", (m: unknown) => {
        if (m === "ready") resolve();
        else if (onReport !== undefined) onReport(m as BlockedReport);
      });
      this.worker.once("error", (error) => {
        // Debug mode goes on without its watchdog; say so rather than stay silent.
        process.stderr.write(`awaitress: debug mode's watchdog thread stopped: ${error.message}\n`);
        resolve();
      });
      this.worker.once("exit", () => resolve());
    });
  }

  /** A step boundary: `task` (0: none) now runs, at step depth `depth` (0: the loop is between steps). */
  publish(task: number, depth: number): void {
    const state = this.state;
    Atomics.store(state, TASK, task);
    Atomics.store(state, DEPTH, depth);
    Atomics.add(state, SEQ, 1);
  }

  /** Queues a task's name and creation stack for the worker (sent by {@link Watchdog.flush}). */
  name(id: number, name: string, stack: string | undefined): void {
    this.pendingIds.push(id);
    this.pendingNames.push(name);
    this.pendingStacks.push(stack);
  }

  /** Sends the names queued since the last flush, in one message. Cheap when there are none. */
  flush(): void {
    if (this.pendingIds.length === 0) return;
    if (!this.closed) {
      this.worker.postMessage({
        type: "tasks",
        ids: this.pendingIds,
        names: this.pendingNames,
        stacks: this.pendingStacks,
      });
    }
    this.pendingIds = [];
    this.pendingNames = [];
    this.pendingStacks = [];
  }

  /** Tells the worker to forget finished tasks. */
  forget(ids: number[]): void {
    if (!this.closed && ids.length > 0) this.worker.postMessage({ type: "forget", ids });
  }

  /** Stops the worker. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.worker.terminate();
  }
}
