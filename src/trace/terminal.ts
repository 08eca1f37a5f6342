/**
 * The terminal timeline: one lane per task, running (█) vs waiting (─, labelled with what it
 * waited on) vs done, fitted to the terminal's width, with a summary per task underneath.
 */
import { describe } from "../errors.js";
import { escapeControl } from "../internal/text.js";
import type { TraceEvent } from "./sink.js";
import { buildTimeline, checkTrace, formatTime, fromStart, type Lane, type Timeline } from "./timeline.js";
import { type WaiterLane, type WaiterStep, waiterLane } from "./waiter.js";

/** Options of {@link terminalTimeline}. */
export interface TerminalTimelineOptions {
  /**
   * Total width in columns.
   * @default the terminal's width (`process.stdout.columns`), else `$COLUMNS`, else 80
   */
  width?: number;
  /**
   * Use ANSI colours.
   * @default true when stdout is a terminal and the `NO_COLOR` environment variable is not set
   */
  color?: boolean;
  /**
   * Print the summary under the lanes (per task: waits in order, run and wait time, wake-ups).
   * @default true
   */
  summary?: boolean;
  /**
   * Draw the waiter's lane first (the loop itself: █ where it ran a task's step, · idle, ↷ where
   * it let the host's event loop poll), and in the summary the order of the steps within each
   * instant ("15s: One › Two").
   * @default true
   */
  waiter?: boolean;
}

/** The name of the loop's own lane. */
const WAITER_NAME = "waiter";

const RESET = "\x1b[0m";
const STYLE = {
  run: "\x1b[32m",
  wait: "\x1b[2m",
  label: "\x1b[36m",
  ready: "\x1b[2m",
  result: "\x1b[32m",
  error: "\x1b[31m",
  cancelled: "\x1b[33m",
  pending: "\x1b[35m",
  axis: "\x1b[2m",
} as const;
type Style = keyof typeof STYLE;

const OUTCOME_MARK = { result: "✓", error: "✗", cancelled: "⊘", pending: "…" } as const;

/** Whether colours should be used on stdout: a TTY, and `NO_COLOR` unset or empty. */
export function shouldColor(stream: { isTTY?: boolean } = process.stdout): boolean {
  const noColor = process.env.NO_COLOR;
  if (noColor !== undefined && noColor !== "") return false;
  return stream.isTTY === true;
}

class Row {
  readonly chars: string[];
  readonly styles: (Style | undefined)[];
  constructor(readonly width: number) {
    this.chars = new Array<string>(width).fill(" ");
    this.styles = new Array<Style | undefined>(width).fill(undefined);
  }
  paint(from: number, to: number, ch: string, style: Style): void {
    for (let i = Math.max(0, from); i < Math.min(this.width, to); i++) {
      this.chars[i] = ch;
      this.styles[i] = style;
    }
  }
  write(at: number, text: string, style: Style, limit = this.width): void {
    const chars = [...text];
    for (let i = 0; i < chars.length && at + i < Math.min(this.width, limit); i++) {
      this.chars[at + i] = chars[i] as string;
      this.styles[at + i] = style;
    }
  }
  render(color: boolean): string {
    if (!color) return this.chars.join("").trimEnd();
    let out = "";
    let style: Style | undefined;
    for (let i = 0; i < this.width; i++) {
      const s = this.styles[i];
      if (s !== style) {
        if (style !== undefined) out += RESET;
        if (s !== undefined) out += STYLE[s];
        style = s;
      }
      out += this.chars[i];
    }
    if (style !== undefined) out += RESET;
    return out.trimEnd();
  }
}

/** A "nice" tick step (1, 2 or 5 × 10^k) giving at most `maxTicks` ticks over `span`. */
function tickStep(span: number, maxTicks: number): number {
  const raw = span / Math.max(1, maxTicks);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function drawLane(lane: Lane, row: Row, col: (t: number) => number, timeline: Timeline): void {
  // Waits first (a line with the label inside), then runs on top, so a run mark at the start of
  // a wait keeps the label after it.
  for (const s of lane.segments) {
    const from = col(s.start);
    const to = Math.max(col(s.end), from + 1);
    if (s.kind === "wait") {
      row.paint(from, to, "─", "wait");
      // Escaped before it is cut: a cut cannot leave half a control sequence to the terminal.
      const text = ` ${escapeControl(s.label)} `;
      const room = to - from - 1;
      if (room >= 4) {
        const shown = [...text].length <= room ? text : `${[...text].slice(0, room - 1).join("")}…`;
        row.write(from + 1, shown, "label", to);
      }
    } else if (s.kind === "ready") {
      if (s.end > s.start) row.paint(from, to, "·", "ready");
    }
  }
  for (const s of lane.segments) {
    if (s.kind !== "run") continue;
    const from = col(s.start);
    row.paint(from, Math.max(col(s.end), from + 1), "█", "run");
  }
  const last = lane.done ?? timeline.end;
  const at = Math.min(row.width - 1, Math.max(col(last), col(lane.created)) + 1);
  row.write(at, OUTCOME_MARK[lane.outcome], lane.outcome);
}

/** The waiter's row: █ where the loop ran a task's step, · where it was idle, ↷ where it let the host poll. */
function drawWaiter(waiter: WaiterLane, row: Row, col: (t: number) => number): void {
  for (const s of waiter.steps) {
    if (s.kind !== "idle") continue;
    const from = col(s.start);
    const to = Math.max(col(s.end), from + 1);
    row.paint(from, to, "·", "ready");
    if (to - from - 1 >= 6) row.write(from + 1, " idle ", "label", to);
  }
  for (const t of waiter.yields) row.paint(col(t), col(t) + 1, "↷", "wait");
  for (const s of waiter.steps) {
    if (s.kind !== "task") continue;
    const from = col(s.start);
    row.paint(from, Math.max(col(s.end), from + 1), "█", "run");
  }
}

/** At most this many instants are spelled out in the waiter's summary. */
const WAITER_INSTANTS = 12;

/**
 * The waiter's summary: the order of the steps within each instant ("15s: One › Two"), the idle
 * stretches between them, and the totals.
 */
function waiterLine(waiter: WaiterLane, names: ReadonlyMap<number, string>): string {
  const parts: string[] = [];
  let instants = 0;
  let i = 0;
  const steps = waiter.steps;
  while (i < steps.length && instants < WAITER_INSTANTS) {
    const s = steps[i] as WaiterStep;
    if (s.kind === "idle") {
      parts.push(`idle ${formatTime(s.start)}→${formatTime(s.end)}`);
      i++;
      continue;
    }
    // The task steps that begin at this instant, in the order they ran.
    const at = s.start;
    const order: string[] = [];
    for (; i < steps.length; i++) {
      const next = steps[i] as WaiterStep;
      if (next.start !== at || next.kind !== "task") break;
      order.push(names.get(next.task as number) ?? `Task-${next.task}`);
    }
    parts.push(`${formatTime(at)}: ${order.join(" › ")}`);
    instants++;
  }
  if (i < steps.length) parts.push(`… (${steps.length - i} more steps)`);
  const totals = `ran steps ${formatTime(waiter.busy)} · idle ${formatTime(waiter.idle)}${waiter.yields.length > 0 ? ` · yielded to the host ${waiter.yields.length}×` : ""}`;
  return `${totals} · ${parts.join(" · ")}`;
}

function summaryLine(lane: Lane): string {
  const waits = lane.segments
    .filter((s) => s.kind === "wait")
    .map((s) => `${escapeControl(s.label)} (${formatTime(s.start)}→${formatTime(s.end)})`);
  const outcome =
    lane.outcome === "error" ? `failed: ${escapeControl(lane.error ?? "error")}` : escapeControl(lane.outcome);
  const parts = [
    `ran ${formatTime(lane.runTime)}`,
    `waited ${formatTime(lane.waitTime)}${waits.length > 0 ? `: ${waits.join(", ")}` : ""}`,
    `woken ${lane.wakeups}×`,
    outcome,
  ];
  if (lane.slowSteps.length > 0) parts.push(`slow steps: ${lane.slowSteps.map(formatTime).join(", ")}`);
  return parts.join(" · ");
}

/**
 * Draws a recording as a terminal timeline: one lane per task (in creation order), █ where the
 * task ran, ─ where it waited with what it waited on written in, and ✓ / ✗ / ⊘ / … for how it
 * ended (result, error, cancelled, still pending). A summary per task follows, unless turned
 * off. Times count from the first event. Colours only on a TTY, never when `NO_COLOR` is set.
 *
 * Throws `RangeError` if `width` is not an integer of at least 20.
 *
 * @example
 * const recorder = new Recorder();
 * await run(main, { clock: "virtual", trace: recorder });
 * console.log(terminalTimeline(recorder.events, { width: 100 }));
 */
export function terminalTimeline(events: readonly TraceEvent[], options: TerminalTimelineOptions = {}): string {
  const width = options.width ?? (process.stdout.columns || Number.parseInt(process.env.COLUMNS ?? "", 10) || 80);
  if (!(Number.isInteger(width) && width >= 20)) {
    throw new RangeError(`Expected \`width\` to be an integer of at least 20, got ${describe(width)}`);
  }
  checkTrace(events, "terminalTimeline");
  const color = options.color ?? shouldColor();
  const timeline = buildTimeline(fromStart(events));
  // Names come from the program (or a loaded file): their control characters are shown as
  // escapes, never sent to the terminal, and escaped before they are cut to the column.
  for (const lane of timeline.lanes) lane.name = escapeControl(lane.name);
  if (timeline.lanes.length === 0) return "(no tasks in this trace)";
  const nameWidth = Math.min(20, Math.max(WAITER_NAME.length, ...timeline.lanes.map((l) => [...l.name].length)));
  const laneWidth = width - nameWidth - 1;
  const cells = laneWidth - 2; // room for the outcome mark after the last segment
  const span = timeline.end - timeline.start;
  const col = (t: number): number =>
    span <= 0 ? 0 : Math.min(cells - 1, Math.round(((t - timeline.start) / span) * (cells - 1)));
  const pad = (text: string): string => {
    const chars = [...text];
    return chars.length > nameWidth ? `${chars.slice(0, nameWidth - 1).join("")}…` : text.padEnd(nameWidth);
  };

  const lines: string[] = [];
  const axis = new Row(laneWidth);
  if (span > 0) {
    // The end of the recording is always labelled; ticks that would collide with it are not.
    const endLabel = formatTime(timeline.end);
    const endCol = Math.min(col(timeline.end), laneWidth - endLabel.length - 1);
    axis.write(endCol, "╷", "axis");
    axis.write(endCol + 1, endLabel, "axis");
    const step = tickStep(span, Math.max(1, Math.floor(cells / 10)));
    let lastEnd = -1;
    const first = Math.ceil(timeline.start / step) * step;
    for (let t = first; t < timeline.end - step * 1e-9; t += step) {
      const c = col(t);
      const label = formatTime(t);
      if (c <= lastEnd || c + label.length + 1 >= endCol) continue;
      axis.write(c, "╷", "axis");
      axis.write(c + 1, label, "axis");
      lastEnd = c + label.length + 1;
    }
  } else {
    axis.write(0, `╷${formatTime(timeline.start)}`, "axis");
  }
  lines.push(`${" ".repeat(nameWidth)} ${axis.render(color)}`);
  const waiter = waiterLane(fromStart(events));
  if (options.waiter ?? true) {
    const row = new Row(laneWidth);
    drawWaiter(waiter, row, col);
    lines.push(`${pad(WAITER_NAME)} ${row.render(color)}`);
  }
  for (const lane of timeline.lanes) {
    const row = new Row(laneWidth);
    drawLane(lane, row, col, timeline);
    lines.push(`${pad(lane.name)} ${row.render(color)}`);
  }
  if (options.summary ?? true) {
    lines.push("");
    if (options.waiter ?? true) {
      const names = new Map(timeline.lanes.map((l) => [l.id, l.name]));
      lines.push(`${pad(WAITER_NAME)} ${waiterLine(waiter, names)}`);
    }
    for (const lane of timeline.lanes) lines.push(`${pad(lane.name)} ${summaryLine(lane)}`);
  }
  return lines.join("\n");
}
