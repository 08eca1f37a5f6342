/**
 * The HTML timeline: one self-contained page (inline SVG, CSS and script; nothing fetched) with
 * a lane per task, zoom and pan, the details of a segment on hover, and a summary table.
 */
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

// The page's script: plain ES2017, no template literals, so it can live in a raw string.
const SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById("trace-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var LANE_H = 28, TOP = 28, LEFT = 150, RIGHT = 40;
  var chart = document.getElementById("chart");
  var tooltip = document.getElementById("tooltip");
  var full = { t0: data.start, t1: data.end > data.start ? data.end : data.start + 1 };
  var view = { t0: full.t0, t1: full.t1 };
  var showWakes = true;
  var laneIndex = {};
  data.lanes.forEach(function (l, i) { laneIndex[l.id] = i; });

  function fmt(s) {
    if (s === 0) return "0s";
    var a = Math.abs(s), sign = s < 0 ? "-" : "";
    if (a < 0.001) return sign + +(a * 1e6).toPrecision(3) + "µs";
    if (a < 1) return sign + +(a * 1000).toPrecision(3) + "ms";
    return sign + +a.toPrecision(4) + "s";
  }
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function width() { return Math.max(400, chart.clientWidth || 900); }
  function x(t) { return LEFT + (t - view.t0) / (view.t1 - view.t0) * (width() - LEFT - RIGHT); }
  function tAt(px) { return view.t0 + (px - LEFT) / (width() - LEFT - RIGHT) * (view.t1 - view.t0); }
  function nameOf(id) { var i = laneIndex[id]; return i === undefined ? "task " + id : data.lanes[i].name; }
  function details(lane, seg) {
    var lines = [lane.name + " (id " + lane.id + ")"];
    if (seg.kind === "wait") lines.push("waiting on " + seg.label);
    else if (seg.kind === "run") lines.push("running");
    else lines.push("created, not started");
    lines.push(fmt(seg.start) + " → " + fmt(seg.end) + "  (" + fmt(seg.end - seg.start) + ")");
    if (seg.kind === "wait") lines.push("woken by " + (seg.wokenBy === null ? "no task (timer, callback or I/O)" : nameOf(seg.wokenBy)));
    return lines.join("\n");
  }
  function reasonClass(label) {
    if (label.indexOf("queue") === 0) return "queue";
    if (label.indexOf("task ") === 0 || label.indexOf("gather") === 0 || label.indexOf("wait") === 0) return "task";
    if (/^(lock|semaphore|condition|event|barrier)/.test(label)) return "lock";
    if (label === "a foreign promise") return "foreign";
    return "sleep";
  }
  function ticks() {
    var span = view.t1 - view.t0, raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * p; }).filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var t = Math.ceil(view.t0 / step) * step; t <= view.t1 + step * 1e-9; t += step) out.push(t);
    return out;
  }
  function render() {
    var w = width(), h = TOP + data.lanes.length * LANE_H + 10;
    var svg = el("svg", { width: w, height: h, viewBox: "0 0 " + w + " " + h, id: "timeline" });
    var clipId = "lanes-clip";
    var defs = el("defs", {});
    var clip = el("clipPath", { id: clipId });
    clip.appendChild(el("rect", { x: LEFT, y: 0, width: w - LEFT - RIGHT + 20, height: h }));
    defs.appendChild(clip);
    svg.appendChild(defs);
    ticks().forEach(function (t) {
      var px = x(t);
      svg.appendChild(el("line", { class: "grid", x1: px, x2: px, y1: TOP - 6, y2: h }));
      svg.appendChild(el("text", { class: "tick", x: px + 2, y: TOP - 10 }, fmt(t)));
    });
    var body = el("g", { "clip-path": "url(#" + clipId + ")" });
    data.lanes.forEach(function (lane, i) {
      var y = TOP + i * LANE_H;
      var g = el("g", { class: "lane", "data-task": lane.name, "data-id": lane.id });
      svg.appendChild(el("text", { class: "lane-label", x: 8, y: y + 18, "data-task": lane.name }, lane.name.length > 20 ? lane.name.slice(0, 19) + "…" : lane.name));
      // Waits first, runs on top: a step that took no time stays visible at the edge of a wait.
      var ordered = lane.segments.filter(function (s) { return s.kind !== "run"; })
        .concat(lane.segments.filter(function (s) { return s.kind === "run"; }));
      ordered.forEach(function (seg) {
        var x0 = x(seg.start), x1 = x(seg.end);
        if (x1 < LEFT - 10 || x0 > w) return;
        var minW = seg.kind === "run" ? 3 : 1;
        var r = el("rect", {
          class: "seg " + seg.kind + (seg.kind === "wait" ? " " + reasonClass(seg.label) : ""), x: x0, y: y + (seg.kind === "wait" ? 6 : 4), rx: 2,
          width: Math.max(minW, x1 - x0), height: seg.kind === "wait" ? LANE_H - 12 : LANE_H - 8,
          "data-label": seg.label, "data-kind": seg.kind
        });
        r.addEventListener("mousemove", function (ev) {
          tooltip.textContent = details(lane, seg);
          tooltip.style.display = "block";
          tooltip.style.left = ev.clientX + 12 + "px";
          tooltip.style.top = ev.clientY + 12 + "px";
        });
        r.addEventListener("mouseleave", function () { tooltip.style.display = "none"; });
        g.appendChild(r);
        if (seg.kind === "wait" && x1 - x0 > 30) {
          var label = seg.label, room = Math.floor((x1 - x0 - 8) / 6.5);
          if (label.length > room) label = label.slice(0, Math.max(1, room - 1)) + "…";
          g.appendChild(el("text", { class: "seg-label", x: Math.max(x0, LEFT) + 4, y: y + 18 }, label));
        }
      });
      if (lane.done !== null || lane.outcome === "pending") {
        var mark = { result: "✓", error: "✗", cancelled: "⊘", pending: "…" }[lane.outcome];
        var at = lane.done === null ? data.end : lane.done;
        g.appendChild(el("text", { class: "outcome " + lane.outcome, x: x(at) + 5, y: y + 18 }, mark));
      }
      body.appendChild(g);
    });
    if (showWakes) {
      data.wakes.forEach(function (wk) {
        if (wk.from === null || laneIndex[wk.from] === undefined || laneIndex[wk.to] === undefined) return;
        var px = x(wk.time), y0 = TOP + laneIndex[wk.from] * LANE_H + LANE_H / 2, y1 = TOP + laneIndex[wk.to] * LANE_H + LANE_H / 2;
        body.appendChild(el("path", { class: "wake", d: "M" + px + "," + y0 + " C" + (px + 12) + "," + y0 + " " + (px + 12) + "," + y1 + " " + px + "," + y1, "marker-end": "url(#arrow)" }));
      });
    }
    var marker = el("marker", { id: "arrow", viewBox: "0 0 6 6", refX: 5, refY: 3, markerWidth: 6, markerHeight: 6, orient: "auto" });
    marker.appendChild(el("path", { d: "M0,0 L6,3 L0,6 z", fill: "#e8590c" }));
    defs.appendChild(marker);
    svg.appendChild(body);
    chart.replaceChildren(svg);
    document.getElementById("range").textContent = fmt(view.t0) + " → " + fmt(view.t1);
  }
  function zoom(factor, atPx) {
    var center = atPx === undefined ? (view.t0 + view.t1) / 2 : tAt(atPx);
    var span = (view.t1 - view.t0) * factor;
    var fullSpan = full.t1 - full.t0;
    span = Math.min(fullSpan, Math.max(fullSpan * 1e-6, span));
    var ratio = atPx === undefined ? 0.5 : (center - view.t0) / (view.t1 - view.t0);
    view.t0 = center - span * ratio;
    view.t1 = view.t0 + span;
    clamp();
    render();
  }
  function clamp() {
    var span = view.t1 - view.t0;
    if (view.t0 < full.t0) { view.t0 = full.t0; view.t1 = full.t0 + span; }
    if (view.t1 > full.t1) { view.t1 = full.t1; view.t0 = full.t1 - span; }
  }
  chart.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var rect = chart.getBoundingClientRect();
    zoom(ev.deltaY < 0 ? 0.8 : 1.25, ev.clientX - rect.left);
  }, { passive: false });
  var drag = null;
  chart.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, t0: view.t0, t1: view.t1 }; chart.classList.add("dragging"); });
  window.addEventListener("mouseup", function () { drag = null; chart.classList.remove("dragging"); });
  window.addEventListener("mousemove", function (ev) {
    if (drag === null) return;
    var dt = (ev.clientX - drag.x) / (width() - LEFT - RIGHT) * (drag.t1 - drag.t0);
    view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt;
    clamp();
    render();
  });
  document.getElementById("zoom-in").onclick = function () { zoom(0.5); };
  document.getElementById("zoom-out").onclick = function () { zoom(2); };
  document.getElementById("zoom-reset").onclick = function () { view.t0 = full.t0; view.t1 = full.t1; render(); };
  document.getElementById("wakes").onchange = function (ev) { showWakes = ev.target.checked; render(); };
  window.addEventListener("resize", render);
  window.awaitressTimeline = { zoom: zoom, view: view, render: render };
  render();
})();
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
 * The waiter's lane in the page's lane format: its task steps as runs ("step of One", in order
 * within their instant), idle stretches and the host's turns as waits.
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
          : s.kind === "idle"
            ? "idle"
            : "the host's turn (timers, I/O)",
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
<script>${SCRIPT}</script>
</body>
</html>
`;
}
