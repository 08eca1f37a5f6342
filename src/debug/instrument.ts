/**
 * What `run` switches on for debug mode and tracing: the step monitor (slow steps, the live
 * watchdog, foreign waits) and, in debug mode, the task tree that `run` prints when a signal
 * arrives (through the same listener that cancels main, src/core/signals.ts).
 */

import type { LoopImpl } from "../core/loop.js";
import type { Instrumentation } from "../core/run.js";
import { checkSeconds } from "../internal/seconds.js";
import { dumpTasks } from "./dump.js";
import { StepMonitor } from "./step-monitor.js";

/** The debug options of `run`, checked. */
export interface InstrumentOptions {
  /** Seconds; a step longer than this is reported in debug mode. @default 0.1 */
  slowStepThreshold?: number | undefined;
  /** Seconds; the watchdog reports live a step longer than this in debug mode; 0 turns it off. @default 1 */
  blockedThreshold?: number | undefined;
}

/** Checks the thresholds before anything starts (a bad option throws from `run` at once). */
export function checkInstrumentOptions(options: InstrumentOptions): { slow: number; blocked: number } {
  return {
    slow: checkSeconds(options.slowStepThreshold, "slowStepThreshold", 0.1),
    blocked: checkSeconds(options.blockedThreshold, "blockedThreshold", 1),
  };
}

/**
 * Switches on what `loop.debug` and `loop.trace` ask for and resolves, once the watchdog is
 * watching, to what `run` needs: `remove` switches it off (call it when the loop closes);
 * `report` prints the task tree (debug mode only).
 * @internal
 */
export async function instrument(loop: LoopImpl, options: InstrumentOptions): Promise<Instrumentation> {
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
  return {
    remove: () => {
      for (const u of undo.reverse()) u();
    },
    report: loop.debug ? () => void dumpTasks(loop) : null,
  };
}
