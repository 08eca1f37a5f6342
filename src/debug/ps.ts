/**
 * What `awaitress ps PID` reads from a running process: every live loop's tasks, as plain data.
 * The library keeps a weak list of its loops (through the core's loop hook) and puts a function on
 * `globalThis[Symbol.for("awaitress.ps")]`; the CLI evaluates it over the inspector protocol.
 * Several copies of awaitress in one process (an ESM and a CJS build, two versions) each add
 * their own provider to the one function.
 */
import { FOREIGN_WAIT as FOREIGN, type LoopImpl, type StepObserver } from "../core/loop.js";
import { currentTask, type Task } from "../core/task.js";
import { creationSite } from "./creation-site.js";

/** The key of the dump function on `globalThis`. */
export const PS_KEY = Symbol.for("awaitress.ps");

/** One task as `awaitress ps` shows it. */
export interface PsTask {
  readonly id: number;
  readonly name: string;
  /** "waiting", "running", "not started" or "running or waiting on a foreign promise". */
  readonly state: string;
  /** What it waits on ("queue.get jobs", "lock.acquire", "sleep 30s"), or null. */
  readonly waitsOn: string | null;
  /** Seconds it has waited (loop time), or null when not waiting. */
  readonly waitingFor: number | null;
  /** "file:line:col" where it was created (debug mode records it), or null. */
  readonly createdAt: string | null;
  /** The id of the task that created it, on the same loop, or null. */
  readonly parent: number | null;
}

/** One loop as `awaitress ps` shows it. */
export interface PsLoop {
  /** "real" or "virtual". */
  readonly clock: string;
  /** The loop's clock reading, seconds. */
  readonly time: number;
  readonly debug: boolean;
  readonly isDefault: boolean;
  readonly tasks: readonly PsTask[];
}

/** What the dump function returns (as JSON text). */
export interface PsSnapshot {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly loops: readonly PsLoop[];
}

const loops = new Set<WeakRef<LoopImpl>>();
let defaultLoopCheck: (loop: LoopImpl) => boolean = () => false;

/** @internal Adds `loop` to the list `awaitress ps` reads (the loop hook calls it for every loop). */
export function trackLoop(loop: LoopImpl): void {
  loops.add(new WeakRef(loop));
}

function taskOf(task: Task, loop: LoopImpl, monitor: StepObserver | null): PsTask {
  const now = loop.time();
  const waiter = task._futWaiter;
  const info = monitor?.waitOf?.(task);
  let state: string;
  let waitsOn: string | null = null;
  let waitingFor: number | null = null;
  if (waiter !== null) {
    state = "waiting";
    waitsOn = waiter._waitLabel();
    waitingFor = now - (info?.since ?? task._waitingSince);
  } else if (!task._started) {
    state = "not started";
  } else if (task === currentTask()) {
    state = "running";
  } else if (info !== undefined && info.on === FOREIGN) {
    state = "waiting";
    waitsOn = FOREIGN;
    waitingFor = now - info.since;
  } else if (loop._foreignWaits.has(task)) {
    state = "waiting";
    waitsOn = FOREIGN;
  } else {
    state = monitor?.waitOf === undefined ? "running or waiting on a foreign promise" : "running";
  }
  return {
    id: task.id,
    name: task.name,
    state,
    waitsOn,
    waitingFor,
    createdAt: creationSite(task.creationStack) ?? null,
    parent: task.parentId,
  };
}

/** Every live loop's pending tasks, now. */
export function psSnapshot(): PsSnapshot {
  const out: PsLoop[] = [];
  for (const ref of loops) {
    const loop = ref.deref();
    if (loop === undefined || loop.closed) {
      loops.delete(ref);
      continue;
    }
    // Debug mode's step monitor knows foreign waits and since when (ps does not import it).
    const monitor = loop.steps;
    const tasks = ([...loop.tasks] as Task[]).map((task) => taskOf(task, loop, monitor));
    const isDefault = defaultLoopCheck(loop);
    // The default loop exists as soon as anything asks for a loop; show it only with tasks.
    if (isDefault && tasks.length === 0) continue;
    out.push({ clock: loop.clock.kind, time: loop.time(), debug: loop.debug, isDefault, tasks });
  }
  return { pid: process.pid, argv: process.argv, loops: out };
}

type PsFunction = (() => string) & { providers: (() => PsSnapshot)[] };

/**
 * @internal Puts the dump function on `globalThis[Symbol.for("awaitress.ps")]` (once per copy of the
 * library): it returns the JSON of every provider's snapshot, merged.
 */
export function registerPs(isDefaultLoop: (loop: LoopImpl) => boolean): void {
  defaultLoopCheck = isDefaultLoop;
  const holder = globalThis as unknown as Record<symbol, PsFunction | undefined>;
  let fn = holder[PS_KEY];
  if (fn === undefined) {
    const providers: (() => PsSnapshot)[] = [];
    fn = Object.assign(
      () => {
        const all = providers.map((p) => p());
        return JSON.stringify({
          pid: process.pid,
          argv: process.argv,
          loops: all.flatMap((s) => s.loops),
        } satisfies PsSnapshot);
      },
      { providers },
    );
    Object.defineProperty(globalThis, PS_KEY, { value: fn, configurable: true, enumerable: false, writable: false });
  }
  if (!fn.providers.includes(psSnapshot)) fn.providers.push(psSnapshot);
}
