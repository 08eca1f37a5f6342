/**
 * The HTML timeline's script, as a typed module: scripts/build.mjs bundles it with esbuild into
 * one IIFE that trace/html.ts inlines into the page (trace/bundled.ts loads it). It reads the
 * JSON that htmlTimeline embeds (its type: ../page-data.ts) and draws the lanes as SVG, with zoom
 * (wheel, buttons), pan (drag), the details of a segment on hover and the wake-up arrows.
 *
 * Runs in a browser: type-checked against the DOM by src/trace/page/tsconfig.json, not by the
 * library's own tsconfig (which has no DOM).
 */
import type { PageData, PageLane, PageSegment } from "../page-data.js";
import { formatTime } from "../timeline.js";

const NS = "http://www.w3.org/2000/svg";
const LANE_H = 28;
const TOP = 28;
const LEFT = 150;
const RIGHT = 40;
const OUTCOME_MARK: Record<string, string> = { result: "✓", error: "✗", cancelled: "⊘", pending: "…" };

function byId<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, name) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The colour class of a wait, by what it waits on. */
function reasonClass(label: string): string {
  if (label.startsWith("queue")) return "queue";
  if (label.startsWith("task ") || label.startsWith("gather") || label.startsWith("wait")) return "task";
  if (/^(lock|semaphore|condition|event|barrier)/.test(label)) return "lock";
  if (label === "a foreign promise") return "foreign";
  if (label === "idle") return "idle";
  return "sleep";
}

interface View {
  t0: number;
  t1: number;
}

function main(): void {
  const data = JSON.parse(byId("trace-data").textContent ?? "null") as PageData;
  const chart = byId<HTMLDivElement>("chart");
  const tooltip = byId<HTMLDivElement>("tooltip");
  const full: View = { t0: data.start, t1: data.end > data.start ? data.end : data.start + 1 };
  const view: View = { t0: full.t0, t1: full.t1 };
  let showWakes = true;
  const laneIndex = new Map<number, number>();
  data.lanes.forEach((l, i) => {
    laneIndex.set(l.id, i);
  });

  const width = (): number => Math.max(400, chart.clientWidth || 900);
  const x = (t: number): number => LEFT + ((t - view.t0) / (view.t1 - view.t0)) * (width() - LEFT - RIGHT);
  const tAt = (px: number): number => view.t0 + ((px - LEFT) / (width() - LEFT - RIGHT)) * (view.t1 - view.t0);
  const nameOf = (id: number): string => {
    const i = laneIndex.get(id);
    return i === undefined ? `task ${id}` : (data.lanes[i] as PageLane).name;
  };

  function details(lane: PageLane, seg: PageSegment): string {
    const lines = [lane.id === 0 ? lane.name : `${lane.name} (id ${lane.id})`];
    if (lane.id === 0) lines.push(seg.label);
    else if (seg.kind === "wait") lines.push(`waiting on ${seg.label}`);
    else if (seg.kind === "run") lines.push("running");
    else lines.push("created, not started");
    lines.push(`${formatTime(seg.start)} → ${formatTime(seg.end)}  (${formatTime(seg.end - seg.start)})`);
    if (seg.kind === "wait" && lane.id !== 0) {
      lines.push(`woken by ${seg.wokenBy === null ? "no task (timer, callback or I/O)" : nameOf(seg.wokenBy)}`);
    }
    return lines.join("\n");
  }

  function ticks(): number[] {
    const span = view.t1 - view.t0;
    const raw = span / 8;
    const p = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? raw;
    const out: number[] = [];
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1 + step * 1e-9; t += step) out.push(t);
    return out;
  }

  function drawSegment(g: SVGElement, lane: PageLane, seg: PageSegment, y: number, w: number): void {
    const x0 = x(seg.start);
    const x1 = x(seg.end);
    if (x1 < LEFT - 10 || x0 > w) return;
    const minW = seg.kind === "run" ? 3 : 1;
    const wait = seg.kind === "wait";
    const r = el("rect", {
      class: `seg ${seg.kind}${wait ? ` ${reasonClass(seg.label)}` : ""}`,
      x: x0,
      y: y + (wait ? 6 : 4),
      rx: 2,
      width: Math.max(minW, x1 - x0),
      height: wait ? LANE_H - 12 : LANE_H - 8,
      "data-label": seg.label,
      "data-kind": seg.kind,
    });
    r.addEventListener("mousemove", (ev: MouseEvent) => {
      tooltip.textContent = details(lane, seg);
      tooltip.style.display = "block";
      tooltip.style.left = `${ev.clientX + 12}px`;
      tooltip.style.top = `${ev.clientY + 12}px`;
    });
    r.addEventListener("mouseleave", () => {
      tooltip.style.display = "none";
    });
    g.appendChild(r);
    if (wait && x1 - x0 > 30) {
      const room = Math.floor((x1 - x0 - 8) / 6.5);
      const label = seg.label.length > room ? `${seg.label.slice(0, Math.max(1, room - 1))}…` : seg.label;
      g.appendChild(el("text", { class: "seg-label", x: Math.max(x0, LEFT) + 4, y: y + 18 }, label));
    }
  }

  function render(): void {
    const w = width();
    const h = TOP + data.lanes.length * LANE_H + 10;
    const svg = el("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, id: "timeline" });
    const clipId = "lanes-clip";
    const defs = el("defs", {});
    const clip = el("clipPath", { id: clipId });
    clip.appendChild(el("rect", { x: LEFT, y: 0, width: w - LEFT - RIGHT + 20, height: h }));
    defs.appendChild(clip);
    svg.appendChild(defs);
    for (const t of ticks()) {
      const px = x(t);
      svg.appendChild(el("line", { class: "grid", x1: px, x2: px, y1: TOP - 6, y2: h }));
      svg.appendChild(el("text", { class: "tick", x: px + 2, y: TOP - 10 }, formatTime(t)));
    }
    const body = el("g", { "clip-path": `url(#${clipId})` });
    data.lanes.forEach((lane, i) => {
      const y = TOP + i * LANE_H;
      const g = el("g", { class: lane.id === 0 ? "lane waiter" : "lane", "data-task": lane.name, "data-id": lane.id });
      const short = lane.name.length > 20 ? `${lane.name.slice(0, 19)}…` : lane.name;
      svg.appendChild(el("text", { class: "lane-label", x: 8, y: y + 18, "data-task": lane.name }, short));
      // Waits first, runs on top: a step that took no time stays visible at the edge of a wait.
      const ordered = lane.segments
        .filter((s) => s.kind !== "run")
        .concat(lane.segments.filter((s) => s.kind === "run"));
      for (const seg of ordered) drawSegment(g, lane, seg, y, w);
      if (lane.id !== 0 && (lane.done !== null || lane.outcome === "pending")) {
        const at = lane.done === null ? data.end : lane.done;
        g.appendChild(
          el("text", { class: `outcome ${lane.outcome}`, x: x(at) + 5, y: y + 18 }, OUTCOME_MARK[lane.outcome]),
        );
      }
      body.appendChild(g);
    });
    if (showWakes) {
      for (const wk of data.wakes) {
        const from = wk.from === null ? undefined : laneIndex.get(wk.from);
        const to = laneIndex.get(wk.to);
        if (from === undefined || to === undefined) continue;
        const px = x(wk.time);
        const y0 = TOP + from * LANE_H + LANE_H / 2;
        const y1 = TOP + to * LANE_H + LANE_H / 2;
        const d = `M${px},${y0} C${px + 12},${y0} ${px + 12},${y1} ${px},${y1}`;
        body.appendChild(el("path", { class: "wake", d, "marker-end": "url(#arrow)" }));
      }
    }
    const marker = el("marker", {
      id: "arrow",
      viewBox: "0 0 6 6",
      refX: 5,
      refY: 3,
      markerWidth: 6,
      markerHeight: 6,
      orient: "auto",
    });
    marker.appendChild(el("path", { d: "M0,0 L6,3 L0,6 z", fill: "#e8590c" }));
    defs.appendChild(marker);
    svg.appendChild(body);
    chart.replaceChildren(svg);
    byId("range").textContent = `${formatTime(view.t0)} → ${formatTime(view.t1)}`;
  }

  function clamp(): void {
    const span = view.t1 - view.t0;
    if (view.t0 < full.t0) {
      view.t0 = full.t0;
      view.t1 = full.t0 + span;
    }
    if (view.t1 > full.t1) {
      view.t1 = full.t1;
      view.t0 = full.t1 - span;
    }
  }

  function zoom(factor: number, atPx?: number): void {
    const center = atPx === undefined ? (view.t0 + view.t1) / 2 : tAt(atPx);
    const fullSpan = full.t1 - full.t0;
    const span = Math.min(fullSpan, Math.max(fullSpan * 1e-6, (view.t1 - view.t0) * factor));
    const ratio = atPx === undefined ? 0.5 : (center - view.t0) / (view.t1 - view.t0);
    view.t0 = center - span * ratio;
    view.t1 = view.t0 + span;
    clamp();
    render();
  }

  chart.addEventListener(
    "wheel",
    (ev: WheelEvent) => {
      ev.preventDefault();
      const rect = chart.getBoundingClientRect();
      zoom(ev.deltaY < 0 ? 0.8 : 1.25, ev.clientX - rect.left);
    },
    { passive: false },
  );
  let drag: { x: number; t0: number; t1: number } | null = null;
  chart.addEventListener("mousedown", (ev: MouseEvent) => {
    drag = { x: ev.clientX, t0: view.t0, t1: view.t1 };
    chart.classList.add("dragging");
  });
  window.addEventListener("mouseup", () => {
    drag = null;
    chart.classList.remove("dragging");
  });
  window.addEventListener("mousemove", (ev: MouseEvent) => {
    if (drag === null) return;
    const dt = ((ev.clientX - drag.x) / (width() - LEFT - RIGHT)) * (drag.t1 - drag.t0);
    view.t0 = drag.t0 - dt;
    view.t1 = drag.t1 - dt;
    clamp();
    render();
  });
  byId("zoom-in").onclick = () => zoom(0.5);
  byId("zoom-out").onclick = () => zoom(2);
  byId("zoom-reset").onclick = () => {
    view.t0 = full.t0;
    view.t1 = full.t1;
    render();
  };
  byId<HTMLInputElement>("wakes").onchange = (ev: Event) => {
    showWakes = (ev.target as HTMLInputElement).checked;
    render();
  };
  window.addEventListener("resize", render);
  (window as unknown as { awaitressTimeline: unknown }).awaitressTimeline = { zoom, view, render };
  render();
}

main();
