/**
 * The debug watchdog's worker thread (see watchdog.ts): polls the shared state the main thread
 * publishes at each step boundary and reports a step that has held the loop for the threshold.
 * scripts/build.mjs bundles it into one script (internal/bundle.ts) that the watchdog evaluates
 * in a worker. Under `node --input-type=module` that source is an ES module and `require` does not
 * exist, so it loads Node's modules with `import()`, which works in both kinds.
 */
import type { BlockedReport } from "./watchdog.js";

/** What the watchdog hands the worker. */
export interface WatchdogWorkerData {
  readonly buffer: SharedArrayBuffer;
  readonly thresholdMs: number;
  readonly intervalMs: number;
  readonly fd: number;
  /** The folder of awaitress's own modules (creation-site.ts's LIBRARY_ROOT), or null. */
  readonly root: string | null;
  readonly cwd: string;
  /** Slots of the shared state. */
  readonly slots: { readonly seq: number; readonly task: number; readonly depth: number };
}

/** The main thread's messages: names and creation stacks of new tasks, or tasks to forget. */
export type WatchdogMessage =
  | {
      readonly type: "tasks";
      readonly ids: number[];
      readonly names: string[];
      readonly stacks: (string | undefined)[];
    }
  | { readonly type: "forget"; readonly ids: number[] };

interface Known {
  readonly name: string;
  readonly stack: string | undefined;
}

/**
 * Where a task was created: the first frame of its creation stack outside awaitress and Node (the
 * rule of creation-site.ts, which the worker cannot import: it would load the library), worked
 * out only when a report needs it.
 */
function site(stack: string | undefined, data: WatchdogWorkerData): string | null {
  if (typeof stack !== "string") return null;
  const frames = stack
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("at "));
  const isLibrary = (f: string) =>
    f.includes("node:") || f.includes("node_modules") || (data.root !== null && f.includes(data.root));
  const own = frames.find((f) => !isLibrary(f)) ?? frames[0];
  if (own === undefined) return null;
  const open = own.lastIndexOf("(");
  const location = open >= 0 && own.endsWith(")") ? own.slice(open + 1, -1) : own.slice(3);
  return location.replace("file://", "").split(data.cwd).join("");
}

async function watch(): Promise<void> {
  const [{ workerData, parentPort }, { writeSync }] = await Promise.all([
    import("node:worker_threads"),
    import("node:fs"),
  ]);
  if (parentPort === null) return;
  const data = workerData as WatchdogWorkerData;
  const { seq: SEQ, task: TASK, depth: DEPTH } = data.slots;
  const state = new Int32Array(data.buffer);
  const names = new Map<number, Known>();
  let lastSeq = -1;
  let since = performance.now();
  let reported = -1;
  parentPort.on("message", (m: WatchdogMessage) => {
    if (m.type === "tasks") {
      for (let i = 0; i < m.ids.length; i++) {
        names.set(m.ids[i] as number, { name: m.names[i] as string, stack: m.stacks[i] });
      }
    } else {
      for (const id of m.ids) names.delete(id);
    }
  });
  setInterval(() => {
    const seq = Atomics.load(state, SEQ);
    const now = performance.now();
    if (seq !== lastSeq) {
      lastSeq = seq;
      since = now;
      return;
    }
    if (Atomics.load(state, DEPTH) <= 0 || reported === seq || now - since < data.thresholdMs) return;
    reported = seq;
    const id = Atomics.load(state, TASK);
    const entry = id > 0 ? names.get(id) : undefined;
    const where = entry === undefined ? null : site(entry.stack, data);
    const blockedFor = (now - since) / 1000;
    const who =
      id > 0
        ? `task ${JSON.stringify(entry?.name ?? `Task-${id}`)} (id ${id}${where !== null ? `, created at ${where}` : ""})`
        : "code outside any task";
    const text = `awaitress: the event loop is blocked: ${who} has been running for ${blockedFor.toFixed(3)} s without yielding (blockedThreshold ${data.thresholdMs / 1000} s)\n`;
    try {
      writeSync(data.fd, text);
    } catch {
      // stderr closed: the report still reaches the main thread below.
    }
    const report: BlockedReport = {
      task: id > 0 ? id : null,
      name: entry?.name ?? null,
      site: where,
      blockedFor,
      at: Date.now(),
      text,
    };
    parentPort.postMessage(report);
  }, data.intervalMs);
  parentPort.postMessage("ready");
}

void watch();
