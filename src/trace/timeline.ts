/**
 * The model every view draws: one lane per task, cut into running and waiting segments, with
 * who woke whom and a summary per task. Built once from a recording.
 */
import { describe } from "../errors.js";
import { safeString } from "../internal/text.js";
import type { TaskOutcome, TraceEvent } from "./sink.js";

/** A stretch of one task's life. */
export interface Segment {
  /** `run`: the task had the loop (or was ready to); `wait`: it was suspended; `ready`: created, not started. */
  readonly kind: "run" | "wait" | "ready";
  readonly start: number;
  /** End time; for the last segment of a task still pending, the end of the recording. */
  end: number;
  /** What the task waited on ("sleep 15s", "queue.get", `task "Two"`); "" for runs. */
  label: string;
  /** For a wait: the task that ended it (woke the task), or null (a timer, a callback, I/O). */
  wokenBy: number | null;
}

/** One task's lane. */
export interface Lane {
  readonly id: number;
  name: string;
  readonly parent: number | null;
  readonly created: number;
  /** Time the task finished, or null if it was still pending when the recording ended. */
  done: number | null;
  /** How it ended, or "pending". */
  outcome: TaskOutcome | "pending";
  /** The error's text when it failed. */
  error?: string;
  readonly segments: Segment[];
  /** Seconds spent running (or ready to run). */
  runTime: number;
  /** Seconds spent waiting, in total. */
  waitTime: number;
  /** Seconds spent waiting, by reason ("sleep", "queue.get", `task "Two"`, ...). */
  readonly waitByReason: Map<string, number>;
  /** How many times the task was woken. */
  wakeups: number;
  /** Slow steps reported for this task in debug mode, in seconds. */
  readonly slowSteps: number[];
}

/** A wake-up: `from` ended the wait of `to` at `time` (`from` null: no task did, e.g. a timer). */
export interface Wake {
  readonly time: number;
  readonly from: number | null;
  readonly to: number;
}

/** Everything a view needs. */
export interface Timeline {
  readonly start: number;
  readonly end: number;
  /** Lanes in creation order. */
  readonly lanes: Lane[];
  readonly wakes: Wake[];
  /** Events that belong to no lane segment (timers, clock jumps, queue sizes, slow steps). */
  readonly marks: TraceEvent[];
}

/** Groups wait labels into reasons: every `sleep <n>` is "sleep"; other labels stay as they are. */
export function waitReason(label: string): string {
  return label.startsWith("sleep ") ? "sleep" : label;
}

function openSegment(lane: Lane, kind: Segment["kind"], start: number, label: string): void {
  lane.segments.push({ kind, start, end: start, label, wokenBy: null });
}

function current(lane: Lane): Segment | undefined {
  return lane.segments[lane.segments.length - 1];
}

function closeSegment(lane: Lane, time: number): Segment | undefined {
  const segment = current(lane);
  if (segment === undefined) return undefined;
  segment.end = Math.max(segment.start, time);
  return segment;
}

function newLane(id: number, name: string, parent: number | null, created: number): Lane {
  return {
    id,
    name,
    parent,
    created,
    done: null,
    outcome: "pending",
    segments: [],
    runTime: 0,
    waitTime: 0,
    waitByReason: new Map(),
    wakeups: 0,
    slowSteps: [],
  };
}

/**
 * Builds the {@link Timeline} of a recording: segments per task, wake-ups, per-task summary.
 * Events of tasks whose creation is missing (a ring that dropped it) get a lane named `Task-<id>`.
 *
 * @example
 * const { lanes } = buildTimeline(recorder.events);
 * for (const lane of lanes) console.log(lane.name, lane.runTime, lane.waitTime);
 */
export function buildTimeline(events: readonly TraceEvent[]): Timeline {
  checkTrace(events, "buildTimeline");
  const lanes = new Map<number, Lane>();
  const wakes: Wake[] = [];
  const marks: TraceEvent[] = [];
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  const lane = (id: number, time: number): Lane => {
    let l = lanes.get(id);
    if (l === undefined) {
      l = newLane(id, `Task-${id}`, null, time);
      openSegment(l, "run", time, "");
      lanes.set(id, l);
    }
    return l;
  };
  for (const e of events) {
    if (e.time < start) start = e.time;
    if (e.time > end) end = e.time;
    switch (e.type) {
      case "task-created": {
        const l = newLane(e.task, safeString(e.name), e.parent, e.time);
        openSegment(l, "ready", e.time, "");
        lanes.set(e.task, l);
        break;
      }
      case "task-started": {
        const l = lane(e.task, e.time);
        const seg = current(l);
        if (seg?.kind === "run") break;
        closeSegment(l, e.time);
        openSegment(l, "run", e.time, "");
        break;
      }
      case "task-suspended": {
        const l = lane(e.task, e.time);
        const seg = current(l);
        if (seg?.kind === "wait" && seg.start === e.time) {
          // Several awaits at once (Promise.all over tasks): one wait, every label.
          if (seg.label !== e.on) seg.label = `${seg.label}, ${safeString(e.on)}`;
          break;
        }
        closeSegment(l, e.time);
        openSegment(l, "wait", e.time, safeString(e.on));
        break;
      }
      case "task-resumed": {
        const l = lane(e.task, e.time);
        l.wakeups++;
        wakes.push({ time: e.time, from: e.by, to: e.task });
        const seg = current(l);
        if (seg?.kind !== "wait") break;
        closeSegment(l, e.time);
        seg.wokenBy = e.by;
        openSegment(l, "run", e.time, "");
        break;
      }
      case "task-done": {
        const l = lane(e.task, e.time);
        closeSegment(l, e.time);
        l.done = e.time;
        l.outcome = e.outcome;
        if (e.error !== undefined) l.error = safeString(e.error);
        break;
      }
      case "slow-step":
        if (e.task !== null) lane(e.task, e.time).slowSteps.push(e.duration);
        marks.push(e);
        break;
      default:
        marks.push(e);
    }
  }
  if (start === Number.POSITIVE_INFINITY) start = end = 0;
  for (const l of lanes.values()) {
    if (l.done === null) closeSegment(l, end);
    for (const s of l.segments) {
      const d = s.end - s.start;
      if (s.kind === "wait") {
        l.waitTime += d;
        const reason = waitReason(s.label);
        l.waitByReason.set(reason, (l.waitByReason.get(reason) ?? 0) + d);
      } else if (s.kind === "run") {
        l.runTime += d;
      }
    }
  }
  return { start, end, lanes: [...lanes.values()], wakes, marks };
}

/**
 * Throws a `TypeError` naming `where` unless `events` is a recording: an array of objects, each
 * with a string `type` and a numeric `time` (what {@link Recorder} keeps and {@link readJsonl}
 * loads). The views call it first, so a wrong argument says so instead of failing inside.
 */
export function checkTrace(events: unknown, where: string): asserts events is readonly TraceEvent[] {
  if (!Array.isArray(events)) {
    throw new TypeError(
      `${where} expects the recorded events (an array, such as recorder.events or readJsonl(path)), got ${describe(events)}`,
    );
  }
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as { type?: unknown; time?: unknown } | null;
    if (typeof e !== "object" || e === null || typeof e.type !== "string" || typeof e.time !== "number") {
      throw new TypeError(
        `${where} expects trace events (objects with a string \`type\` and a numeric \`time\`); event ${i} is ${describe(e)}`,
      );
    }
  }
}

/**
 * The events with times counted from the first one: a real clock's readings start anywhere
 * (`performance.now()`), so views draw from 0. Returns the same array when it already starts at 0.
 */
export function fromStart(events: readonly TraceEvent[]): readonly TraceEvent[] {
  let min = Number.POSITIVE_INFINITY;
  for (const e of events) if (e.time < min) min = e.time;
  if (min === 0 || min === Number.POSITIVE_INFINITY) return events;
  return events.map((e) =>
    e.type === "clock-jump" ? { ...e, time: e.time - min, from: e.from - min } : { ...e, time: e.time - min },
  );
}

/** "15s", "250ms", "0s": a duration or an instant for labels. */
export function formatTime(seconds: number): string {
  if (seconds === 0) return "0s";
  const abs = Math.abs(seconds);
  const sign = seconds < 0 ? "-" : "";
  if (abs < 0.001) return `${sign}${+(abs * 1e6).toPrecision(3)}µs`;
  if (abs < 1) return `${sign}${+(abs * 1000).toPrecision(3)}ms`;
  return `${sign}${+abs.toPrecision(4)}s`;
}
