/**
 * What `run` switches on for debug mode and tracing: the step monitor (slow steps, the live
 * watchdog, foreign waits) and the hang report on SIGINT/SIGTERM. Returns the function that switches it all off.
 */

import type { Loop } from "../core/loop.js";
import { describe } from "../errors.js";
import { dumpTasks } from "./dump.js";
import { StepMonitor } from "./step-monitor.js";

/** The debug options of `run`, checked. */
export interface InstrumentOptions {
  /** Seconds; a step longer than this is reported in debug mode. @default 0.1 */
  slowStepThreshold?: number | undefined;
  /** Seconds; the watchdog reports live a step longer than this in debug mode; 0 turns it off. @default 1 */
  blockedThreshold?: number | undefined;
}

function checkThreshold(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new RangeError(`Expected \`${name}\` to be a non-negative number of seconds, got ${describe(value)}`);
  }
  return value;
}

/** Checks the thresholds before anything starts (a bad option throws from `run` at once). */
export function checkInstrumentOptions(options: InstrumentOptions): { slow: number; blocked: number } {
  return {
    slow: checkThreshold(options.slowStepThreshold, "slowStepThreshold", 0.1),
    blocked: checkThreshold(options.blockedThreshold, "blockedThreshold", 1),
  };
}

function watchSignals(loop: Loop): () => void {
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((signal) => {
    const handler = (): void => {
      dumpTasks(loop);
      // Only listener left: behave as Node would without one (exit on the signal).
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  };
}

/**
 * Switches on what `loop.debug` and `loop.trace` ask for and resolves, once the watchdog is
 * watching, to the function that switches it off (call it when the loop closes).
 * @internal
 */
export async function instrument(loop: Loop, options: InstrumentOptions): Promise<() => void> {
  const { slow, blocked } = checkInstrumentOptions(options);
  const undo: (() => void)[] = [];
  if (loop.debug || loop.trace?.steps === true) {
    const monitor = new StepMonitor(loop, {
      slowStepThreshold: loop.debug && slow > 0 ? slow : null,
      blockedThreshold: loop.debug && blocked > 0 ? blocked : null,
    });
    loop.steps = monitor;
    await monitor.start();
    undo.push(() => {
      monitor.stop();
      loop.steps = null;
    });
  }
  if (loop.debug) undo.push(watchSignals(loop));
  return () => {
    for (const u of undo.reverse()) u();
  };
}
