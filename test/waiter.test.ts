// The waiter's lane: the loop itself, in every view. On the virtual clock the seed's loop is idle
// for exactly the gaps between its sleeps' deadlines, and the order within each instant shows.
import { describe, expect, it, vi } from "vitest";
import { main as seed } from "../examples/seed.js";
import { run, sleep, Timer } from "../src/node.js";
import { htmlTimeline, perfettoTrace, Recorder, terminalTimeline } from "../src/trace/index.js";
import type { PageData } from "../src/trace/page-data.js";
import { waiterLane } from "../src/trace/waiter.js";

async function recordSeed(): Promise<Recorder> {
  const log = vi.spyOn(console, "log").mockImplementation(() => {});
  const recorder = new Recorder();
  try {
    await run(() => seed(), { clock: "virtual", trace: recorder });
  } finally {
    log.mockRestore();
    Timer.timers.clear();
  }
  return recorder;
}

describe("the waiter's lane", () => {
  it("the seed: idle exactly in the sleeps' gaps (0→10, 10→15, 15→17), a step at each deadline", async () => {
    const { events } = await recordSeed();
    const lane = waiterLane(events);
    const idle = lane.steps.filter((s) => s.kind === "idle").map((s) => [s.start, s.end]);
    expect(idle).toEqual([
      [0, 10],
      [10, 15],
      [15, 17],
    ]);
    expect(lane.idle).toBe(17);
    expect(lane.busy).toBe(0);
    // Every task step sits at an instant the program reached: 0 and the deadlines.
    const instants = [...new Set(lane.steps.filter((s) => s.kind === "task").map((s) => s.start))];
    expect(instants).toEqual([0, 10, 15, 17]);
  });

  it("shows the order of the steps within one instant", async () => {
    const { events } = await recordSeed();
    const at15 = waiterLane(events).steps.filter((s) => s.kind === "task" && s.start === 15);
    // One's 15 s sleep was due first (scheduled before Two's 5 s at 10 s): One, then Two.
    expect(at15.map((s) => [s.task, s.order])).toEqual([
      [2, 0],
      [3, 1],
    ]);
    const text = terminalTimeline(events, { width: 100, color: false });
    expect(text).toMatch(/^waiter +█ idle ·+█ idle ·+█ idle ·+█$/m);
    expect(text).toContain(
      "0s: main › One › Two · idle 0s→10s · 10s: Two · idle 10s→15s · 15s: One › Two · idle 15s→17s · 17s: One › main",
    );
  });

  it("Perfetto and the HTML page draw the same lane", async () => {
    const { events } = await recordSeed();
    const trace = perfettoTrace(events);
    // In microseconds; a step of no time is drawn 1 µs wide, so an idle stretch starts up to a few µs late.
    const idle = trace.traceEvents
      .filter((e) => e.cat === "waiter" && e.name === "idle")
      .map((e) => [Math.round((e.ts ?? 0) / 1000), Math.round(((e.ts ?? 0) + (e.dur ?? 0)) / 1000)]);
    expect(idle).toEqual([
      [0, 10_000],
      [10_000, 15_000],
      [15_000, 17_000],
    ]);
    const steps15 = trace.traceEvents.filter(
      (e) => e.cat === "waiter" && e.name.startsWith("step:") && (e.ts ?? 0) >= 15e6 && (e.ts ?? 0) < 15e6 + 10,
    );
    expect(steps15.map((e) => [e.name, e.ts])).toEqual([
      ["step: One", 15e6],
      ["step: Two", 15e6 + 1],
    ]);
    const html = htmlTimeline(events);
    const json = /<script type="application\/json" id="trace-data">(.*?)<\/script>/s.exec(html)?.[1] ?? "null";
    const data = JSON.parse(json) as PageData;
    const waiter = data.lanes[0];
    expect(waiter?.name).toBe("waiter (the loop)");
    expect(waiter?.segments.filter((s) => s.label === "idle").map((s) => [s.start, s.end])).toEqual(
      idle.map(([from, to]) => [(from ?? 0) / 1000, (to ?? 0) / 1000]),
    );
  });

  it("on the real clock: the loop is idle while every task sleeps, busy while one runs", async () => {
    const recorder = new Recorder();
    await run(
      async () => {
        await sleep(0.03);
        const until = performance.now() + 10;
        while (performance.now() < until) {
          // hold the loop for 10 ms
        }
      },
      { trace: recorder },
    );
    const lane = waiterLane(recorder.events);
    expect(lane.idle).toBeGreaterThanOrEqual(0.025);
    expect(lane.busy).toBeGreaterThanOrEqual(0.009);
  });
});
