/**
 * Chrome trace-event JSON (the format Perfetto and chrome://tracing open): one track per task
 * with its running and waiting slices, flow arrows from the task that woke another to the task
 * it woke, a track for the loop's timers and clock jumps, and a counter per queue.
 */
import type { TraceEvent } from "./sink.js";
import { buildTimeline, checkTrace, type Lane, type Timeline } from "./timeline.js";
import { waiterLane } from "./waiter.js";

/** One entry of `traceEvents` (the fields this exporter uses). */
export interface ChromeTraceEvent {
  name: string;
  ph: "X" | "M" | "s" | "f" | "i" | "C";
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  bp?: "e";
  s?: "t" | "p" | "g";
  args?: Record<string, unknown>;
}

/** A whole trace file: `{ traceEvents, displayTimeUnit, otherData }`. */
export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: "ms";
  otherData: Record<string, string>;
}

const PID = 1;
const LOOP_TID = 0;

/** A lane's slices in microseconds, laid end to end so none overlaps (zero-length runs get 1 µs). */
interface Slice {
  readonly kind: "run" | "wait";
  readonly ts: number;
  readonly dur: number;
  readonly start: number;
  readonly end: number;
  readonly label: string;
  readonly wokenBy: number | null;
}

function micro(seconds: number, origin: number): number {
  return Math.round((seconds - origin) * 1e6 * 1000) / 1000;
}

function layOut(lane: Lane, origin: number): Slice[] {
  const slices: Slice[] = [];
  let cursor = Number.NEGATIVE_INFINITY;
  for (const s of lane.segments) {
    if (s.kind === "ready") continue;
    const ts = Math.max(micro(s.start, origin), cursor);
    const end = Math.max(micro(s.end, origin), ts + (s.kind === "run" ? 1 : 0));
    if (end <= ts) continue;
    slices.push({ kind: s.kind, ts, dur: end - ts, start: s.start, end: s.end, label: s.label, wokenBy: s.wokenBy });
    cursor = end;
  }
  return slices;
}

/**
 * Converts a recording into Chrome trace-event JSON that Perfetto (ui.perfetto.dev, "Open trace
 * file") and chrome://tracing open: a thread per task named "name (id n)", slices "run" and
 * "wait: <label>", flow arrows ("wake") from waker to woken, instant events for timers, clock
 * jumps and slow steps on a "loop" thread, and a counter track per queue. Times are
 * microseconds from the start of the recording; a step that took no time on the virtual clock is
 * drawn 1 µs wide so it can carry its arrows.
 *
 * @example
 * writeFileSync("trace.json", JSON.stringify(perfettoTrace(recorder.events)));
 */
export function perfettoTrace(events: readonly TraceEvent[]): ChromeTrace {
  checkTrace(events, "perfettoTrace");
  const timeline = buildTimeline(events);
  const origin = timeline.start;
  const out: ChromeTraceEvent[] = [
    { name: "process_name", ph: "M", pid: PID, tid: LOOP_TID, args: { name: "awaitress event loop" } },
    {
      name: "thread_name",
      ph: "M",
      pid: PID,
      tid: LOOP_TID,
      args: { name: "waiter: the loop (steps, idle, timers, clock)" },
    },
    { name: "thread_sort_index", ph: "M", pid: PID, tid: LOOP_TID, args: { sort_index: 0 } },
  ];
  waiterSlices(events, timeline, origin, out);
  const slicesByTask = new Map<number, Slice[]>();
  for (const lane of timeline.lanes) {
    out.push({ name: "thread_name", ph: "M", pid: PID, tid: lane.id, args: { name: `${lane.name} (id ${lane.id})` } });
    out.push({ name: "thread_sort_index", ph: "M", pid: PID, tid: lane.id, args: { sort_index: lane.id } });
    const slices = layOut(lane, origin);
    slicesByTask.set(lane.id, slices);
    for (const s of slices) {
      const args: Record<string, unknown> = { task: lane.name, from: s.start, to: s.end };
      if (s.kind === "wait") args.wokenBy = s.wokenBy === null ? "no task (timer, callback or I/O)" : s.wokenBy;
      out.push({
        name: s.kind === "run" ? "run" : `wait: ${s.label}`,
        cat: s.kind,
        ph: "X",
        pid: PID,
        tid: lane.id,
        ts: s.ts,
        dur: s.dur,
        args,
      });
    }
    if (lane.done !== null) {
      const args: Record<string, unknown> = { outcome: lane.outcome };
      if (lane.error !== undefined) args.error = lane.error;
      out.push({
        name: `done: ${lane.outcome}`,
        cat: "task",
        ph: "i",
        s: "t",
        pid: PID,
        tid: lane.id,
        ts: micro(lane.done, origin),
        args,
      });
    }
  }
  let flowId = 0;
  for (const wake of timeline.wakes) {
    if (wake.from === null) continue;
    const waker = (slicesByTask.get(wake.from) ?? []).findLast(
      (s) => s.kind === "run" && s.start <= wake.time && wake.time <= s.end,
    );
    const woken = (slicesByTask.get(wake.to) ?? []).find((s) => s.kind === "run" && s.start >= wake.time);
    if (waker === undefined || woken === undefined) continue;
    flowId++;
    const common = { name: "wake", cat: "wake", pid: PID, id: flowId } as const;
    out.push({ ...common, ph: "s", tid: wake.from, ts: waker.ts });
    out.push({ ...common, ph: "f", bp: "e", tid: wake.to, ts: Math.max(waker.ts, woken.ts + woken.dur) });
  }
  for (const e of timeline.marks) {
    const ts = micro(e.time, origin);
    switch (e.type) {
      case "timer-fired":
        out.push({ name: `timer: ${e.label}`, cat: "timer", ph: "i", s: "t", pid: PID, tid: LOOP_TID, ts });
        break;
      case "clock-jump":
        out.push({
          name: "clock jump",
          cat: "clock",
          ph: "i",
          s: "t",
          pid: PID,
          tid: LOOP_TID,
          ts,
          args: { from: e.from, to: e.time },
        });
        break;
      case "loop-idle":
        out.push({ name: "idle", cat: "clock", ph: "i", s: "t", pid: PID, tid: LOOP_TID, ts });
        break;
      case "slow-step":
        out.push({
          name: `slow step ${(e.duration * 1000).toFixed(1)} ms`,
          cat: "debug",
          ph: "i",
          s: "t",
          pid: PID,
          tid: e.task ?? LOOP_TID,
          ts,
          args: { seconds: e.duration },
        });
        break;
      case "queue-put":
      case "queue-get":
        out.push({
          name: `queue ${e.queue}`,
          cat: "queue",
          ph: "C",
          pid: PID,
          tid: LOOP_TID,
          ts,
          args: { size: e.size },
        });
        break;
      default:
        break;
    }
  }
  return {
    traceEvents: out,
    displayTimeUnit: "ms",
    otherData: { producer: "awaitress", clock: "loop clock, microseconds from the first event" },
  };
}

/**
 * The waiter's lane on the loop's thread: a slice per task step ("step: One") and per idle
 * stretch, an instant per yield to the host. A step that takes no time (the virtual clock) is drawn 1 µs wide, and the
 * next one starts where it ends: the n-th step of one instant sits n µs after the instant, so the
 * order within the instant shows (`args.orderInInstant` says it too).
 */
function waiterSlices(
  events: readonly TraceEvent[],
  timeline: Timeline,
  origin: number,
  out: ChromeTraceEvent[],
): void {
  const names = new Map(timeline.lanes.map((l) => [l.id, l.name]));
  // Slices on one thread must not overlap: each starts where the one before it ended, at the earliest.
  let cursor = Number.NEGATIVE_INFINITY;
  const waiter = waiterLane(events);
  for (const t of waiter.yields) {
    out.push({
      name: "yield to the host",
      cat: "waiter",
      ph: "i",
      s: "t",
      pid: PID,
      tid: LOOP_TID,
      ts: micro(t, origin),
    });
  }
  for (const step of waiter.steps) {
    const ts = Math.max(micro(step.start, origin), cursor);
    const dur = Math.max(1, micro(step.end, origin) - ts);
    cursor = ts + dur;
    const name = step.kind === "task" ? `step: ${names.get(step.task as number) ?? `Task-${step.task}`}` : "idle";
    const args: Record<string, unknown> = { from: step.start, to: step.end, orderInInstant: step.order };
    if (step.task !== null) args.task = step.task;
    out.push({ name, cat: "waiter", ph: "X", pid: PID, tid: LOOP_TID, ts, dur, args });
  }
}

/**
 * {@link perfettoTrace} as a JSON string, ready to write to a `.json` file.
 *
 * @example
 * writeFileSync("trace.json", perfettoJson(recorder.events));
 */
export function perfettoJson(events: readonly TraceEvent[]): string {
  checkTrace(events, "perfettoJson");
  return JSON.stringify(perfettoTrace(events));
}
