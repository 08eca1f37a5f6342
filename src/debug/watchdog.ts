/**
 * The live blocking report: a worker thread that notices when the main thread has been inside one
 * synchronous step for `blockedThreshold` and says which task holds it, while it still does.
 *
 * The main thread publishes, at each step boundary, a sequence number, the running task's id and
 * the step depth in a SharedArrayBuffer; it posts each task's name and creation site to the
 * worker when the task is made. The worker polls the shared memory: a sequence number that has not
 * moved for the threshold while a step is open means the loop is blocked. It writes the report
 * with a synchronous write to the output file descriptor (stderr by default), because the main
 * thread, which normally carries a worker's output, is the one that is stuck.
 */
import { Worker } from "node:worker_threads";

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

// Runs in the worker (CommonJS, eval'd): polls the shared state and reports a stuck step.
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const state = new Int32Array(workerData.buffer);
const names = new Map();
const thresholdMs = workerData.thresholdMs;
let lastSeq = -1;
let since = performance.now();
let reported = -1;
parentPort.on("message", (m) => {
  if (m.type === "task") names.set(m.id, m);
  else if (m.type === "forget") for (const id of m.ids) names.delete(id);
});
setInterval(() => {
  const seq = Atomics.load(state, ${SEQ});
  const now = performance.now();
  if (seq !== lastSeq) { lastSeq = seq; since = now; return; }
  if (Atomics.load(state, ${DEPTH}) <= 0 || reported === seq || now - since < thresholdMs) return;
  reported = seq;
  const id = Atomics.load(state, ${TASK});
  const info = id > 0 ? names.get(id) : undefined;
  const blockedFor = (now - since) / 1000;
  const who = id > 0
    ? "task " + JSON.stringify(info ? info.name : "Task-" + id) + " (id " + id + (info && info.site ? ", created at " + info.site : "") + ")"
    : "code outside any task";
  const text = "awaitress: the event loop is blocked: " + who + " has been running for " + blockedFor.toFixed(3) +
    " s without yielding (blockedThreshold " + (thresholdMs / 1000) + " s)\\n";
  try { writeSync(workerData.fd, text); } catch {}
  parentPort.postMessage({ task: id > 0 ? id : null, name: info ? info.name : null, site: info && info.site ? info.site : null, blockedFor, at: Date.now(), text });
}, workerData.intervalMs);
parentPort.postMessage("ready");
`;

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

  constructor(options: WatchdogOptions) {
    const thresholdMs = options.blockedThreshold * 1000;
    this.state = new Int32Array(new SharedArrayBuffer(16));
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        buffer: this.state.buffer,
        thresholdMs,
        intervalMs: Math.max(1, Math.min(50, Math.floor(thresholdMs / 10))),
        fd: options.fd ?? 2,
      },
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
      this.worker.once("error", () => resolve());
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

  /** Tells the worker a task's name and where it was created. */
  name(id: number, name: string, site: string | undefined): void {
    if (!this.closed) this.worker.postMessage({ type: "task", id, name, site });
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
