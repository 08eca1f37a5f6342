/**
 * The waiter's lane: the loop itself, as the seed's analogy has it — one waiter moving from table
 * to table. Built from a recording: when the loop ran which task's step, when it was idle (every
 * task waited: on the virtual clock the jump to the next deadline; on the real clock a stretch in
 * which no task ran), and the instants at which it yielded to the host's event loop so timers and
 * I/O were polled (the loop's own slice end, recorded as `loop-yield`). How long the host's turn
 * lasted is not recorded (the loop is not told when the host gives it back), so a yield is an
 * instant, and the time after it counts as idle until the loop runs a step again.
 *
 * On the virtual clock a step takes no time, so many steps happen "at 15 s"; each step keeps its
 * position within its instant ({@link WaiterStep.order}), so the views can show their order.
 */
import type { TraceEvent } from "./sink.js";

/** One stretch of the loop's time. */
export interface WaiterStep {
  /** `task`: the loop ran `task`'s step; `idle`: no task ran. */
  readonly kind: "task" | "idle";
  readonly start: number;
  end: number;
  /** The task whose step it was (kind "task"), else null. */
  readonly task: number | null;
  /** Its position among the steps that begin at the same instant: 0, 1, 2, ... */
  readonly order: number;
}

/** The loop's lane, and its totals. */
export interface WaiterLane {
  readonly steps: WaiterStep[];
  /** Seconds the loop spent in task steps. */
  readonly busy: number;
  /** Seconds no task ran. */
  readonly idle: number;
  /** The instants at which the loop yielded to the host while it still had work. */
  readonly yields: number[];
}

/**
 * The waiter's lane of a recording (times as recorded; pass `fromStart(events)` to count from 0).
 *
 * @example
 * const { steps } = waiterLane(recorder.events);
 * for (const s of steps) console.log(s.kind, s.task, s.start, s.end, s.order);
 */
export function waiterLane(events: readonly TraceEvent[]): WaiterLane {
  const steps: WaiterStep[] = [];
  let running: WaiterStep | null = null;
  let freeSince: number | null = null;
  let lastStart = Number.NaN;
  let order = 0;
  const yields: number[] = [];
  const open = (kind: WaiterStep["kind"], start: number, task: number | null): WaiterStep => {
    order = start === lastStart ? order + 1 : 0;
    lastStart = start;
    const step: WaiterStep = { kind, start, end: start, task, order };
    steps.push(step);
    return step;
  };
  /** A stretch with no task running ends at `time`: an idle step if it took time. */
  const endFree = (time: number): void => {
    if (freeSince !== null && time > freeSince) open("idle", freeSince, null).end = time;
    freeSince = null;
  };
  for (const e of events) {
    switch (e.type) {
      case "task-started":
      case "task-resumed": {
        if (running?.task === e.task) break;
        if (running !== null) running.end = Math.max(running.start, e.time);
        else endFree(e.time);
        running = open("task", e.time, e.task);
        break;
      }
      case "task-suspended":
      case "task-done": {
        if (running === null || running.task !== e.task) break;
        running.end = Math.max(running.start, e.time);
        running = null;
        freeSince = e.time;
        break;
      }
      case "clock-jump": {
        // The virtual clock moved because every task waited: idle from `from` to the deadline.
        if (running !== null) break;
        freeSince = Math.min(freeSince ?? e.from, e.from);
        endFree(e.time);
        freeSince = e.time;
        break;
      }
      case "loop-yield": {
        // The step that was running (if any) is over; the loop is free until its next step.
        yields.push(e.time);
        if (running !== null) {
          running.end = Math.max(running.start, e.time);
          running = null;
          freeSince = e.time;
        } else {
          freeSince ??= e.time;
        }
        break;
      }
      default:
        break;
    }
  }
  let busy = 0;
  let idle = 0;
  for (const s of steps) {
    if (s.kind === "task") busy += s.end - s.start;
    else if (s.kind === "idle") idle += s.end - s.start;
  }
  return { steps, busy, idle, yields };
}
