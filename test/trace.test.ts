import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createTask, Queue, run, sleep, type TraceEvent } from "../src/node.js";
import { buildTimeline, JsonlWriter, parseJsonl, Recorder, readJsonl, terminalTimeline } from "../src/trace/index.js";
import { recordSeed } from "./trace-seed.js";

const plain = (events: TraceEvent[], width = 100): string => terminalTimeline(events, { width, color: false });

function laneLine(text: string, name: string): string {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no lane ${name} in\n${text}`);
  return line;
}

describe("the seed's terminal timeline", () => {
  it("shows One waiting 15 then 2 and Two waiting 10 then 5, in order and to scale", async () => {
    const text = plain(await recordSeed());
    const one = laneLine(text, "One");
    const two = laneLine(text, "Two");
    expect(one.indexOf("sleep 15s")).toBeGreaterThan(0);
    expect(one.indexOf("sleep 2s")).toBeGreaterThan(one.indexOf("sleep 15s"));
    expect(two.indexOf("sleep 10s")).toBeGreaterThan(0);
    expect(two.indexOf("sleep 5s")).toBeGreaterThan(two.indexOf("sleep 10s"));
    // To scale: Two's second wait starts at 10 s, One's at 15 s (of 17 s).
    const startOf = (line: string, label: string): number => line.indexOf(` ${label}`) - 1;
    const origin = one.indexOf("█");
    const span = startOf(one, "sleep 2s") - origin;
    expect((startOf(two, "sleep 5s") - origin) / span).toBeCloseTo(10 / 15, 1);
    // Both finished with a result.
    expect(one.trimEnd().endsWith("✓")).toBe(true);
    expect(two.trimEnd().endsWith("✓")).toBe(true);
  });

  it("summarises each task's waits with their times", async () => {
    const text = plain(await recordSeed());
    const summary = text.split("\n\n")[1] as string;
    expect(laneLine(summary, "One")).toContain("waited 17s: sleep 15s (0s→15s), sleep 2s (15s→17s)");
    expect(laneLine(summary, "Two")).toContain("waited 15s: sleep 10s (0s→10s), sleep 5s (10s→15s)");
    expect(laneLine(summary, "main")).toContain("result");
  });

  it("fits the width it is given and labels the end of the axis", async () => {
    const events = await recordSeed();
    for (const width of [40, 80, 132]) {
      const text = terminalTimeline(events, { width, color: false, summary: false });
      for (const line of text.split("\n")) expect([...line].length).toBeLessThanOrEqual(width);
      expect(text.split("\n")[0]).toContain("17s");
    }
  });

  it("uses colours only when asked, and never with NO_COLOR by default", async () => {
    const events = await recordSeed();
    expect(terminalTimeline(events, { color: true, width: 80 })).toContain("\x1b[");
    expect(terminalTimeline(events, { color: false, width: 80 })).not.toContain("\x1b[");
    const saved = process.env.NO_COLOR;
    process.env.NO_COLOR = "1";
    try {
      expect(terminalTimeline(events, { width: 80 })).not.toContain("\x1b[");
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
  });

  it("rejects a width too small to draw", () => {
    expect(() => terminalTimeline([], { width: 5 })).toThrow(RangeError);
  });
});

describe("trace events", () => {
  it("records creation with parent, suspension labels, wake-ups by task and by timer, and outcomes", async () => {
    const events = await recordSeed();
    const created = events.filter((e) => e.type === "task-created");
    expect(created.map((e) => e.name)).toEqual(["main", "One", "Two"]);
    expect(created.map((e) => e.parent)).toEqual([null, 1, 1]);
    const waits = events.flatMap((e) => (e.type === "task-suspended" && e.task === 2 ? [e.on] : []));
    expect(waits).toEqual(["sleep 15s", "sleep 2s"]);
    // Sleeps are ended by timers (no task); gather is ended by the task that finished last.
    const wakes = events.filter((e) => e.type === "task-resumed");
    expect(wakes.filter((e) => e.task === 2).map((e) => e.by)).toEqual([null, null]);
    expect(wakes.filter((e) => e.task === 1).map((e) => e.by)).toEqual([2]);
    expect(events.filter((e) => e.type === "timer-fired").map((e) => e.label)).toEqual([
      "sleep 10s",
      "sleep 15s",
      "sleep 5s",
      "sleep 2s",
    ]);
    expect(events.flatMap((e) => (e.type === "queue-get" ? [e.size] : []))).toEqual([3, 2, 1, 0]);
    // On the virtual clock: idle (every task waits), then a jump to the next deadline.
    expect(events.flatMap((e) => (e.type === "clock-jump" ? [[e.from, e.time]] : []))).toEqual([
      [0, 10],
      [10, 15],
      [15, 17],
    ]);
    const jumpAt = events.findIndex((e) => e.type === "clock-jump");
    expect(events[jumpAt - 1]).toEqual({ type: "loop-idle", time: 0 });
    const done = events.filter((e) => e.type === "task-done");
    expect(done.map((e) => [e.task, e.time, e.outcome])).toEqual([
      [3, 15, "result"],
      [2, 17, "result"],
      [1, 17, "result"],
    ]);
  });

  it("marks a task awaiting a foreign promise as waiting on it, then resumed", async () => {
    const recorder = new Recorder();
    await run(
      async () => {
        const t = createTask(
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 5));
            await sleep(0);
          },
          { name: "fetcher" },
        );
        await t;
      },
      { trace: recorder },
    );
    const mine = recorder.events.filter((e) => "task" in e && e.task === 2).map((e) => e.type);
    const foreign = recorder.events.find((e) => e.type === "task-suspended" && e.task === 2);
    expect(foreign).toMatchObject({ on: "a foreign promise" });
    expect(mine.slice(0, 4)).toEqual(["task-created", "task-started", "task-suspended", "task-resumed"]);
    // A real clock's readings start anywhere: the views count from the first event.
    expect(plain(recorder.events).split("\n")[0]).toMatch(/^\s+╷0s /);
    expect(laneLine(plain(recorder.events).split("\n\n")[1] as string, "fetcher")).toContain("waited");
    expect(plain(recorder.events).split("\n\n")[1]).toMatch(/fetcher .*a foreign promise \(/);
  });

  it("marks failures and cancellations", async () => {
    const recorder = new Recorder();
    await run(
      async () => {
        const bad = createTask(
          async () => {
            await sleep(1);
            throw new Error("boom");
          },
          { name: "bad" },
        );
        const slow = createTask(() => sleep(100), { name: "slow" });
        await sleep(2);
        slow.cancel();
        await Promise.allSettled([bad, slow]);
      },
      { clock: "virtual", trace: recorder },
    );
    const lanes = buildTimeline(recorder.events).lanes;
    expect(lanes.find((l) => l.name === "bad")).toMatchObject({ outcome: "error", error: "Error: boom", done: 1 });
    expect(lanes.find((l) => l.name === "slow")).toMatchObject({ outcome: "cancelled", done: 2 });
    const text = plain(recorder.events);
    expect(laneLine(text, "bad")).toContain("✗");
    expect(laneLine(text, "slow")).toContain("⊘");
  });

  it("costs nothing to the program's results: the same output with and without a recorder", async () => {
    const program = async (): Promise<string[]> => {
      const out: string[] = [];
      const q = new Queue<number>();
      const workers = [1, 2, 3].map((n) =>
        createTask(async () => {
          for (;;) {
            const v = await q.get();
            await sleep(v / 10);
            out.push(`${n}:${v}`);
            q.taskDone();
          }
        }),
      );
      for (let i = 0; i < 12; i++) await q.put(i % 5);
      await q.join();
      for (const w of workers) w.cancel();
      return out;
    };
    const without = await run(program, { clock: "virtual" });
    const withTrace = await run(program, { clock: "virtual", trace: new Recorder() });
    expect(withTrace).toEqual(without);
  });
});

describe("Recorder", () => {
  it("keeps only the last events in a ring, but keeps the names of lanes it still shows", async () => {
    const recorder = new Recorder({ limit: 10 });
    await run(
      async () => {
        const worker = createTask(
          async () => {
            for (let i = 0; i < 20; i++) await sleep(1);
          },
          { name: "long-lived" },
        );
        await worker;
      },
      { clock: "virtual", trace: recorder },
    );
    const events = recorder.events;
    expect(recorder.dropped).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(10 + 2);
    expect(events.filter((e) => e.type === "task-created").map((e) => e.name)).toEqual(["main", "long-lived"]);
    expect(buildTimeline(events).lanes.map((l) => l.name)).toEqual(["main", "long-lived"]);
  });

  it("rejects a limit that is not a positive integer", () => {
    expect(() => new Recorder({ limit: 0 })).toThrow("Expected `limit` to be a positive integer, got `0` (number)");
  });

  it("clear() forgets everything", async () => {
    const recorder = new Recorder();
    await run(() => sleep(0), { trace: recorder });
    expect(recorder.events.length).toBeGreaterThan(0);
    recorder.clear();
    expect(recorder.events).toEqual([]);
  });
});

describe("JsonlWriter", () => {
  it("streams events as JSON lines that read back into the same timeline", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "awaitress-trace-")), "seed.jsonl");
    const writer = new JsonlWriter(file, { bufferSize: 64 });
    const recorder = new Recorder();
    const both = {
      steps: true,
      event(e: TraceEvent) {
        writer.event(e);
        recorder.event(e);
      },
      flush() {
        writer.flush();
      },
    };
    await run(
      async () => {
        const q = new Queue<number>(0, { name: "work" });
        await q.put(1);
        const t = createTask(async () => sleep(await q.get()), { name: "worker" });
        await t;
      },
      { clock: "virtual", trace: both },
    );
    writer.close();
    const text = readFileSync(file, "utf8");
    expect(text.trim().split("\n").length).toBe(writer.count);
    expect(readJsonl(file)).toEqual(recorder.events);
    expect(terminalTimeline(readJsonl(file), { width: 80, color: false })).toContain("worker");
  });

  it("names the line that is not JSON", () => {
    expect(() => parseJsonl('{"type":"loop-idle","time":0}\nnot json\n')).toThrow(/Line 2/);
  });
});
