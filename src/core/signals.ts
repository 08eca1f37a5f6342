/**
 * How `run` turns SIGINT (Ctrl-C) and SIGTERM into cancelling main, as asyncio's
 * `Runner._on_sigint` does: the first signal cancels main, so its `finally` blocks and task groups
 * unwind, and `run` then rejects with {@link Interrupted}; a second signal exits at once.
 *
 * Every run in progress shares ONE process listener per signal (the registry below), so two runs
 * at once — concurrent, or both in debug mode — are both cancelled by one Ctrl-C and a second
 * Ctrl-C still exits. The listener goes when the last run that asked for the signal ends.
 *
 * asyncio installs its handler only while SIGINT has Python's default handler. The same spirit,
 * decided when the signal arrives: if the program has its own listener for that signal, the
 * program handles it and no run is cancelled (debug mode still prints the task tree).
 */
import { constants } from "node:os";
import { isMainThread } from "node:worker_threads";
import { Interrupted } from "../errors.js";
import type { RunSignal } from "./signal-options.js";

export { checkSignals, type RunSignal } from "./signal-options.js";

/** A run in progress, as the shared listeners see it. */
export interface InterruptibleRun {
  /** The signals this run turns into cancelling main. */
  readonly signals: readonly RunSignal[];
  /** Debug mode: prints the run's task tree. Called on every signal, before anything else. */
  readonly report: (() => void) | null;
  /** Cancels main; false when main is already done (there is nothing left to cancel). */
  readonly cancelMain: () => boolean;
  /** The signal that cancelled main, or null. Written by the registry. */
  interruptedBy: RunSignal | null;
}

/** 128 + the signal number: what a shell reports for a process that a signal ended. */
export function exitCodeOf(signal: RunSignal): number {
  return 128 + constants.signals[signal];
}

const active = new Set<InterruptibleRun>();
const listeners = new Map<RunSignal, () => void>();
// Marks awaitress's listeners, so a second copy of the library (ESM and CJS builds side by side)
// does not take the other's listener for the program's own.
const OURS = Symbol.for("awaitress.runSignalListener");

function programListens(signal: RunSignal): boolean {
  return process.listeners(signal).some((listener) => !(OURS in listener));
}

function exitNow(signal: RunSignal): never {
  const code = exitCodeOf(signal);
  process.stderr.write(`awaitress: ${signal} again while the run unwinds: exiting at once (exit code ${code})\n`);
  process.exit(code);
}

function onSignal(signal: RunSignal): void {
  const runs = [...active].filter((run) => run.signals.includes(signal));
  for (const run of runs) run.report?.();
  if (programListens(signal)) return;
  // asyncio's `_on_sigint`: a second signal, or one that finds no main left to cancel, exits.
  if (runs.some((run) => run.interruptedBy !== null)) exitNow(signal);
  let cancelled = false;
  for (const run of runs) {
    if (run.cancelMain()) {
      run.interruptedBy = signal;
      cancelled = true;
    }
  }
  if (!cancelled) exitNow(signal);
}

/**
 * Adds `run` to the registry, installing the process listener of each of its signals that has
 * none yet (on the main thread only: signals reach only it). Returns the function that removes
 * it again, and each listener no run still asks for.
 */
export function watchSignals(run: InterruptibleRun): () => void {
  if (!isMainThread || run.signals.length === 0) return () => {};
  active.add(run);
  for (const signal of run.signals) {
    if (listeners.has(signal)) continue;
    const listener = Object.assign(() => onSignal(signal), { [OURS]: true });
    listeners.set(signal, listener);
    process.on(signal, listener);
  }
  return () => {
    active.delete(run);
    for (const signal of run.signals) {
      if ([...active].some((other) => other.signals.includes(signal))) continue;
      const listener = listeners.get(signal);
      if (listener !== undefined) process.removeListener(signal, listener);
      listeners.delete(signal);
    }
  };
}

let exitCodeKept = false;
let fatalExitCode: number | undefined;

/**
 * The {@link Interrupted} error `run` rejects with. Sets `process.exitCode` (unless the program
 * set one), and makes sure an unhandled rejection of it ends the process with that code rather
 * than Node's 1: Node sets `process.exitCode = 1` for an uncaught error and then emits `exit`,
 * and the code a listener of `exit` leaves is the one the process exits with.
 */
export function interrupted(signal: RunSignal, cause: unknown): Interrupted {
  const error = new Interrupted(signal, exitCodeOf(signal), { cause });
  process.exitCode ??= error.exitCode;
  if (!exitCodeKept) {
    exitCodeKept = true;
    process.on("uncaughtExceptionMonitor", (uncaught) => {
      if (uncaught instanceof Interrupted) fatalExitCode = uncaught.exitCode;
    });
    process.prependListener("exit", () => {
      if (fatalExitCode !== undefined) process.exitCode = fatalExitCode;
    });
  }
  return error;
}
