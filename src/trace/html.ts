/**
 * The HTML timeline: one self-contained page (inline SVG, CSS and script; nothing fetched) with
 * a lane per task, zoom and pan, the details of a segment on hover, and a summary table.
 */
import { bundledSource } from "../internal/bundle.js";
import { BUILT as PAGE } from "../internal/bundled/page.js";
import { safeString } from "../internal/text.js";
import type { PageData, PageLane, PageSegment } from "./page-data.js";
import type { TraceEvent } from "./sink.js";
import { buildTimeline, checkTrace, formatTime, fromStart, type Timeline } from "./timeline.js";
import { waiterLane } from "./waiter.js";

/** Options of {@link htmlTimeline}. */
export interface HtmlTimelineOptions {
  /**
   * The page's title.
   * @default "awaitress timeline"
   */
  title?: string;
}

/**
 * The page's script (src/trace/page/script.ts, bundled): "</script" cannot occur in it unescaped,
 * or the page would end the script element early.
 */
function pageScript(): string {
  return bundledSource("page", PAGE).replace(/<\/(script)/gi, "<\\/$1");
}

/** Any value as HTML text: every field of a loaded trace may have been tampered with. */
function escapeHtml(value: unknown): string {
  return safeString(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: #1d2330; background: #fbfbfd; }
h1 { font-size: 18px; margin: 0 0 4px; }
.meta { color: #5b6475; margin-bottom: 8px; }
.toolbar { margin: 8px 0; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.toolbar label { white-space: nowrap; margin: 0 8px; }
.toolbar button { font: inherit; padding: 2px 10px; border: 1px solid #c5cad6; background: #fff; border-radius: 4px; cursor: pointer; }
.legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 12px; color: #5b6475; }
.legend i { display: inline-block; width: 14px; height: 10px; border-radius: 2px; }
#chart { border: 1px solid #d9dce4; background: #fff; border-radius: 6px; overflow: hidden; cursor: grab; user-select: none; }
#chart.dragging { cursor: grabbing; }
svg text { font: 12px system-ui, sans-serif; }
.lane-label { font-weight: 600; fill: #1d2330; }
.seg.run { fill: #2f9e44; }
.seg.wait { fill: #dbe4ff; stroke: #91a7ff; stroke-width: 1; }
.seg.wait.queue { fill: #fff3bf; stroke: #fcc419; }
.seg.wait.task { fill: #f3d9fa; stroke: #da77f2; }
.seg.wait.lock { fill: #ffe3e3; stroke: #ff8787; }
.seg.wait.foreign { fill: #e9ecef; stroke: #adb5bd; stroke-dasharray: 3 2; }
.seg.wait.idle { fill: #f8f9fa; stroke: #dee2e6; }
.lane.waiter .seg.run { fill: #1971c2; }
.seg.ready { fill: #f1f3f5; }
.seg:hover, .seg.hot { stroke: #e8590c; stroke-width: 2; }
.seg-label { fill: #364fc7; pointer-events: none; }
.wake { stroke: #e8590c; stroke-width: 1.2; fill: none; opacity: 0.7; pointer-events: none; }
.grid { stroke: #eef0f4; }
.tick { fill: #5b6475; }
.outcome { font-weight: 700; }
.outcome.result { fill: #2f9e44; } .outcome.error { fill: #e03131; } .outcome.cancelled { fill: #f08c00; } .outcome.pending { fill: #862e9c; }
#tooltip { position: fixed; pointer-events: none; background: #1d2330; color: #fff; padding: 6px 8px; border-radius: 4px; font-size: 12px; white-space: pre; display: none; z-index: 10; }
table { border-collapse: collapse; margin-top: 16px; }
th, td { border-bottom: 1px solid #e3e6ee; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
`;

function summaryRows(lanes: ReturnType<typeof buildTimeline>["lanes"]): string {
  const byId = new Map(lanes.map((l) => [l.id, l.name]));
  return lanes
    .map((l) => {
      const reasons = [...l.waitByReason]
        .sort((a, b) => b[1] - a[1])
        .map(([reason, seconds]) => `${escapeHtml(reason)}: ${escapeHtml(formatTime(seconds))}`)
        .join("<br>");
      const parent = l.parent === null ? "" : escapeHtml(byId.get(l.parent) ?? `task ${l.parent}`);
      // Every field is escaped, numbers too: a loaded trace may carry markup anywhere.
      const outcome = l.outcome === "error" ? `error: ${escapeHtml(l.error ?? "")}` : escapeHtml(l.outcome);
      const slow = l.slowSteps.length === 0 ? "" : escapeHtml(l.slowSteps.map(formatTime).join(", "));
      const cells = [
        `<td>${escapeHtml(l.name)}</td>`,
        `<td class="num">${escapeHtml(l.id)}</td>`,
        `<td>${parent}</td>`,
        `<td class="num">${escapeHtml(formatTime(l.runTime))}</td>`,
        `<td class="num">${escapeHtml(formatTime(l.waitTime))}</td>`,
        `<td>${reasons}</td>`,
        `<td class="num">${escapeHtml(l.wakeups)}</td>`,
        `<td>${outcome}</td>`,
        `<td>${slow}</td>`,
      ];
      return `<tr data-task="${escapeHtml(l.name)}">${cells.join("")}</tr>`;
    })
    .join("\n");
}

/** The name of the loop's own lane on the page (id 0: no task has it). */
const WAITER_LANE = "waiter (the loop)";

/**
 * The waiter's lane in the page's lane format: its task steps as runs ("step 2 at 15s: Two", in
 * order within their instant), idle stretches as waits.
 */
function waiterData(events: readonly TraceEvent[], timeline: Timeline): PageLane {
  const names = new Map(timeline.lanes.map((l) => [l.id, l.name]));
  const segments = waiterLane(events).steps.map(
    (s): PageSegment => ({
      kind: s.kind === "task" ? "run" : "wait",
      start: s.start,
      end: s.end,
      label:
        s.kind === "task"
          ? `step ${s.order + 1} at ${formatTime(s.start)}: ${names.get(s.task as number) ?? `Task-${s.task}`}`
          : "idle",
      wokenBy: null,
    }),
  );
  return {
    id: 0,
    name: WAITER_LANE,
    parent: null,
    created: timeline.start,
    done: timeline.end,
    outcome: "result",
    error: null,
    segments,
  };
}

/**
 * Renders a recording as one self-contained HTML page (inline SVG, CSS and script; it loads
 * nothing from the network): a lane per task with running and waiting segments labelled with
 * what the task waited on, wake-up arrows, zoom (wheel, buttons) and pan (drag), the details of a
 * segment on hover, and a summary table per task (run time, wait time by reason, wake-ups).
 * Times count from the first event.
 *
 * @example
 * writeFileSync("timeline.html", htmlTimeline(recorder.events, { title: "seed" }));
 */
export function htmlTimeline(events: readonly TraceEvent[], options: HtmlTimelineOptions = {}): string {
  checkTrace(events, "htmlTimeline");
  const origin = events.reduce((min, e) => Math.min(min, e.time), Number.POSITIVE_INFINITY);
  const timeline = buildTimeline(fromStart(events));
  const title = escapeHtml(options.title ?? "awaitress timeline");
  const data: PageData = {
    start: timeline.start,
    end: timeline.end,
    lanes: [waiterData(fromStart(events), timeline)].concat(
      timeline.lanes.map(
        (l): PageLane => ({
          id: l.id,
          name: l.name,
          parent: l.parent,
          created: l.created,
          done: l.done,
          outcome: l.outcome,
          error: l.error ?? null,
          segments: l.segments
            .filter((s) => s.kind !== "ready" || s.end > s.start)
            .map((s) => ({ kind: s.kind, start: s.start, end: s.end, label: s.label, wokenBy: s.wokenBy })),
        }),
      ),
    ),
    wakes: timeline.wakes,
  };
  // "<" escaped so no "</script>" inside the data can end the script element.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${title}</h1>
<div class="meta">${timeline.lanes.length} tasks · ${formatTime(timeline.end - timeline.start)}${origin > 0 && origin !== Number.POSITIVE_INFINITY ? ` from loop time ${formatTime(origin)}` : ""} · view <span id="range"></span></div>
<div class="toolbar">
<button id="zoom-in" title="Zoom in">+</button><button id="zoom-out" title="Zoom out">−</button><button id="zoom-reset">Reset</button>
<label><input type="checkbox" id="wakes" checked> wake-up arrows</label>
<span class="legend"><span><i style="background:#2f9e44"></i>running</span><span><i style="background:#dbe4ff;border:1px solid #91a7ff"></i>sleep</span><span><i style="background:#fff3bf;border:1px solid #fcc419"></i>queue</span><span><i style="background:#f3d9fa;border:1px solid #da77f2"></i>task, gather</span><span><i style="background:#ffe3e3;border:1px solid #ff8787"></i>lock, event</span><span><i style="background:#e9ecef;border:1px dashed #adb5bd"></i>foreign promise</span><span>✓ result ✗ error ⊘ cancelled … pending</span></span>
</div>
<div id="chart"></div>
<div id="tooltip" role="tooltip"></div>
<table id="summary">
<thead><tr><th>task</th><th>id</th><th>parent</th><th>run time</th><th>wait time</th><th>wait by reason</th><th>wake-ups</th><th>outcome</th><th>slow steps</th></tr></thead>
<tbody>
${summaryRows(timeline.lanes)}
</tbody>
</table>
<script type="application/json" id="trace-data">${json}</script>
<script>${pageScript()}</script>
</body>
</html>
`;
}
