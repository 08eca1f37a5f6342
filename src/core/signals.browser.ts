/**
 * signals.ts in the browser build (scripts/build.mjs): a page has no process signals, so `run`'s
 * `signals` option is checked as on Node and changes nothing (it is Node's; see RunOptions.signals).
 */
import { Interrupted } from "../errors.js";
import type { RunSignal } from "./signal-options.js";
import type { InterruptibleRun } from "./signals.js";

export { checkSignals, type RunSignal } from "./signal-options.js";
export type { InterruptibleRun } from "./signals.js";

const SIGNAL_NUMBERS: Readonly<Record<RunSignal, number>> = { SIGINT: 2, SIGTERM: 15 };

/** 128 + the signal number (see signals.ts). */
export function exitCodeOf(signal: RunSignal): number {
  return 128 + SIGNAL_NUMBERS[signal];
}

/** No signal reaches a page: nothing to listen for. */
export function watchSignals(_run: InterruptibleRun): () => void {
  return () => {};
}

/** The {@link Interrupted} error (never needed in a page, where no signal interrupts a run). */
export function interrupted(signal: RunSignal, cause: unknown): Interrupted {
  return new Interrupted(signal, exitCodeOf(signal), { cause });
}
