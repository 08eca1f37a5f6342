/**
 * Tracing at the edges: a sink that fails never breaks the program, a wait on a foreign promise is
 * never drawn as running, and nothing from the program reaches a terminal as a control sequence.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crawl } from "../examples/crawler.js";
import { type Site, startSite } from "../examples/crawler-site.js";
import { defaultErrorHandler, type ErrorContext } from "../src/core/loop.js";
import { formatTaskTree } from "../src/debug/index.js";
import { escapeControl, safeString } from "../src/internal/text.js";
import {
  createTask,
  DeadlockError,
  gather,
  Lock,
  Queue,
  run,
  sleep,
  type Task,
  type TraceEvent,
  type TraceEventType,
  type TraceSink,
} from "../src/node.js";
import {
  buildTimeline,
  htmlTimeline,
  JsonlWriter,
  perfettoJson,
  perfettoTrace,
  Recorder,
  terminalTimeline,
} from "../src/trace/index.js";

/** Tasks, a bounded queue (put waits, putNowait), a lock, sleeps, gather, odd rejection values. */
async function program(step: number): Promise<unknown> {
  const queue = new Queue<number>(2, { name: "jobs" });
  const lock = new Lock();
  const got: number[] = [];
  const producer = createTask(
    async () => {
      for (let i = 0; i < 4; i++) await queue.put(i);
      await sleep(step * 10); // the consumer has emptied the queue by then
      queue.putNowait(4);
    },
    { name: "producer" },
  );
  const consumer = createTask(
    async () => {
      for (let i = 0; i < 5; i++) {
        const item = await queue.get();
        await lock.acquire();
        try {
          await sleep(step);
          got.push(item);
        } finally {
          lock.release();
        }
      }
      return got;
    },
    { name: "consumer" },
  );
  // Rejection values String() cannot convert.
  const noProto = createTask(
    async () => {
      await sleep(step);
      throw Object.create(null);
    },
    { name: "no-proto" },
  );
  const badToString = createTask(
    async () => {
      throw {
        toString() {
          throw new Error("no");
        },
      };
    },
    { name: "bad-toString" },
  );
  const [, items, late, e1, e2] = await gather(
    producer,
    consumer,
    createTask(() => sleep(step * 3, "late")),
    noProto,
    badToString,
    {
      returnExceptions: true,
    },
  );
  return { items, late, e1: typeof e1, e2: typeof e2, left: queue.qsize() };
}

/** Every event type the loop emits (slow-step needs debug mode, tested apart). */
const TYPES: TraceEventType[] = [
  "task-created",
  "task-started",
  "task-suspended",
  "task-resumed",
  "task-done",
  "queue-put",
  "queue-get",
  "timer-fired",
  "clock-jump",
  "loop-idle",
];

function failingOn(type: TraceEventType): TraceSink & { calls: number } {
  const sink = {
    calls: 0,
    event(e: TraceEvent) {
      sink.calls++;
      if (e.type === type) throw new Error(`sink broke on ${type}`);
    },
  };
  return sink;
}

const SINK_REPORT = /trace sink threw/;

describe("a failing trace sink never breaks the program", () => {
  it("the program used for the table emits every event type", async () => {
    const recorder = new Recorder({ steps: false });
    await run(() => program(0.1), { clock: "virtual", trace: recorder });
    const seen = new Set(recorder.events.map((e) => e.type));
    for (const type of TYPES) expect(seen.has(type), type).toBe(true);
    const done = recorder.events.filter((e) => e.type === "task-done" && e.outcome === "error");
    expect(done.map((e) => (e as { error?: string }).error)).toEqual(["[object Object]", "[object Object]"]);
  });

  const expected = run(() => program(0.1), { clock: "virtual" });

  it.each(TYPES)("virtual clock: a sink throwing on %s is reported once and switched off", async (type) => {
    const reports: ErrorContext[] = [];
    const sink = failingOn(type);
    const result = await run(() => program(0.1), {
      clock: "virtual",
      trace: sink,
      onError: (c) => reports.push(c),
    });
    expect(result).toEqual(await expected);
    expect(reports.map((r) => r.message)).toEqual([expect.stringMatching(SINK_REPORT)]);
    expect(reports[0]?.message).toContain(`"${type}"`);
    expect((reports[0]?.error as Error | undefined)?.message).toBe(`sink broke on ${type}`);
    const calls = sink.calls;
    await run(() => sleep(1), { clock: "virtual" });
    expect(sink.calls).toBe(calls);
  });

  it("real clock: a sink throwing on each event type in turn is reported once; run neither hangs nor fails", async () => {
    const untraced = await run(() => program(0.002));
    const recorder = new Recorder({ steps: false });
    await run(() => program(0.002), { trace: recorder });
    const types = [...new Set(recorder.events.map((e) => e.type))];
    expect(types).toEqual(expect.arrayContaining(["task-done", "queue-put", "task-created", "timer-fired"]));
    for (const type of types) {
      const reports: ErrorContext[] = [];
      const result = await run(() => program(0.002), { trace: failingOn(type), onError: (c) => reports.push(c) });
      expect(result, type).toEqual(untraced);
      expect(reports.length, type).toBe(1);
      expect(reports[0]?.message).toMatch(SINK_REPORT);
    }
  });

  it("a sink throwing in debug mode (slow-step events too) is reported once", async () => {
    const reports: ErrorContext[] = [];
    const result = await run(() => program(0.002), {
      debug: true,
      slowStepThreshold: 1e-9,
      blockedThreshold: 0,
      trace: failingOn("slow-step"),
      onError: (c) => reports.push(c),
    });
    expect(result).toEqual(await run(() => program(0.002)));
    expect(reports.filter((r) => SINK_REPORT.test(r.message)).length).toBe(1);
  });

  it("a throwing flush() is reported once and run keeps its result", async () => {
    const reports: ErrorContext[] = [];
    const sink: TraceSink = {
      event() {},
      flush() {
        throw new Error("flush broke");
      },
    };
    expect(await run(async () => 42, { clock: "virtual", trace: sink, onError: (c) => reports.push(c) })).toBe(42);
    expect(reports.map((r) => r.message)).toEqual([expect.stringMatching(/threw on flush\(\)/)]);
  });

  it("a sink whose `steps` getter throws is reported once and never called", async () => {
    const reports: ErrorContext[] = [];
    let calls = 0;
    const sink = {
      get steps(): boolean {
        throw new Error("no steps");
      },
      event() {
        calls++;
      },
    };
    expect(await run(async () => 1, { clock: "virtual", trace: sink, onError: (c) => reports.push(c) })).toBe(1);
    expect(reports.length).toBe(1);
    expect(calls).toBe(0);
  });

  it.skipIf(!existsSync("/dev/full")).each(["virtual", "real"] as const)(
    "a JsonlWriter on a full device (%s clock): run resolves with its result, one report",
    async (clock) => {
      const expectedResult = await run(() => program(0.002), { clock });
      for (const bufferSize of [0, 65536]) {
        const writer = new JsonlWriter("/dev/full", { bufferSize, steps: false });
        const reports: ErrorContext[] = [];
        const result = await run(() => program(0.002), { clock, trace: writer, onError: (c) => reports.push(c) });
        expect(result).toEqual(expectedResult);
        expect(reports.length, `bufferSize ${bufferSize}`).toBe(1);
        expect((reports[0]?.error as NodeJS.ErrnoException | undefined)?.code).toBe("ENOSPC");
        expect((writer.error as NodeJS.ErrnoException).code).toBe("ENOSPC");
        writer.event({ type: "loop-idle", time: 0 });
        expect(() => writer.flush()).not.toThrow();
        expect(() => writer.close()).not.toThrow();
      }
    },
  );

  it("run({ trace: 42 }) says what `trace` expects", async () => {
    for (const bad of [42, "trace.jsonl", {}, { event: 1 }]) {
      await expect(run(async () => 1, { trace: bad as unknown as TraceSink })).rejects.toThrow(
        /Expected `trace` to be a trace sink \(an object with an `event\(event\)` function/,
      );
    }
    await expect(run(async () => 1, { trace: null })).resolves.toBe(1);
  });

  it("the views given something that is not a recording say so", () => {
    const views: [string, (x: never) => unknown][] = [
      ["htmlTimeline", htmlTimeline],
      ["terminalTimeline", terminalTimeline],
      ["perfettoTrace", perfettoTrace],
      ["perfettoJson", perfettoJson],
      ["buildTimeline", buildTimeline],
    ];
    for (const [name, view] of views) {
      for (const bad of [null, undefined, {}, "events"]) {
        expect(() => view(bad as never)).toThrow(new RegExp(`^${name} expects the recorded events`));
      }
      expect(() => view([null] as never)).toThrow(/event 0 is `null`/);
      expect(() => view([{ type: "loop-idle", time: "0" }] as never)).toThrow(TypeError);
    }
  });

  it("safeString never throws", () => {
    expect(safeString(Object.create(null))).toBe("[object Object]");
    expect(
      safeString({
        toString() {
          throw new Error("x");
        },
      }),
    ).toBe("[object Object]");
    expect(safeString(Symbol("s"))).toBe("Symbol(s)");
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error("trap");
        },
      },
    );
    expect(safeString(proxy)).toBe("an unprintable value");
  });
});

/** A wait that awaitress cannot see: what `fetch` looks like to the loop. */
function foreign<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

let site: Site | undefined;
// Started outside any run: the server's callbacks must not belong to a task.
beforeAll(async () => {
  site = await startSite({ pages: 40, slowSeconds: 0.3, pageSeconds: 0.02 });
});
afterAll(async () => {
  await site?.close();
});

/** The crawler example on its local HTTP site: every request is a real `fetch`, a foreign promise. */
function crawlForeign(): Promise<unknown> {
  return crawl((site as Site).base, { workers: 3, rate: 1000, timeout: 0.15, progress: false });
}

/** Seconds each task spent in its synchronous steps, as debug mode measures them. */
async function debugStepTimes(): Promise<Map<string, number>> {
  const recorder = new Recorder({ steps: false });
  await run(crawlForeign, {
    debug: true,
    slowStepThreshold: 1e-9,
    blockedThreshold: 0,
    trace: recorder,
    onError: () => {},
  });
  const names = new Map<number, string>();
  const total = new Map<string, number>();
  for (const e of recorder.events) {
    if (e.type === "task-created") names.set(e.task, e.name);
    if (e.type === "slow-step" && e.task !== null) {
      const name = names.get(e.task) ?? `Task-${e.task}`;
      total.set(name, (total.get(name) ?? 0) + e.duration);
    }
  }
  return total;
}

describe("a wait on a foreign promise is drawn as a wait, never as running", () => {
  it.each([
    ["loop only (steps: false)", false],
    ["step monitor (steps: true)", true],
  ] as const)("%s: tasks awaiting setTimeout promises run for no time", async (_, steps) => {
    const recorder = new Recorder({ steps });
    await run(
      async () => {
        const a = createTask(
          async () => {
            await foreign(60, 1);
            await foreign(40, 2); // a second foreign wait in a row
            await sleep(0.01);
            return foreign(30, 3); // the task returns a foreign promise
          },
          { name: "a" },
        );
        const b = createTask(() => foreign(80, "b"), { name: "b" }); // the body is a foreign promise
        return gather(a, b);
      },
      { trace: recorder },
    );
    const { lanes } = buildTimeline(recorder.events);
    for (const lane of lanes) expect(lane.runTime, lane.name).toBeLessThan(0.015);
    const a = lanes.find((l) => l.name === "a");
    expect(a?.waitByReason.get("a foreign promise")).toBeGreaterThan(0.1);
    expect(lanes.find((l) => l.name === "b")?.waitByReason.get("a foreign promise")).toBeGreaterThan(0.07);
  });

  it("the crawler on a foreign fetch: no task runs longer than debug mode measured its steps", async () => {
    const measured = await debugStepTimes();
    for (const steps of [false, true]) {
      const recorder = new Recorder({ steps });
      await run(crawlForeign, { trace: recorder });
      const timeline = buildTimeline(recorder.events);
      const report: string[] = [];
      for (const lane of timeline.lanes) {
        const stepTime = measured.get(lane.name) ?? 0;
        const steps_ = lane.segments.filter((s) => s.kind === "run").length;
        report.push(
          `${lane.name}: ran ${(lane.runTime * 1000).toFixed(1)} ms, steps ${(stepTime * 1000).toFixed(1)} ms`,
        );
        // Margin: the two runs differ, and the loop sees a step end only at its next turn.
        if (process.env.SHOW_STEPS) console.log(steps, report.at(-1));
        expect(lane.runTime, report.join("; ")).toBeLessThan(stepTime + 0.02 + 0.002 * steps_);
      }
      const workers = timeline.lanes.filter((l) => / worker \d+$/.test(l.name));
      expect(workers.length).toBe(3);
      const foreignWait = workers.reduce((sum, l) => sum + (l.waitByReason.get("a foreign promise") ?? 0), 0);
      expect(foreignWait).toBeGreaterThan(0.3);

      // Every view draws the foreign waits as waits.
      const text = terminalTimeline(recorder.events, { width: 120, color: false });
      expect(text).toMatch(/worker \d +ran [\d.]+(?:µs|ms|s) · waited [^\n]*a foreign promise \(/);
      const html = htmlTimeline(recorder.events);
      expect(html).toMatch(/"kind":"wait","start":[\d.e-]+,"end":[\d.e-]+,"label":"a foreign promise"/);
      const chrome = perfettoTrace(recorder.events).traceEvents;
      expect(chrome.some((e) => e.name === "wait: a foreign promise" && e.cat === "wait")).toBe(true);
    }
  });
});

const NASTY = ["\x1b]0;pwned\x07", "\x1b[2J", "line\rover", "back\bspace", "bell\x07", "csi\u009b31m"];
/** The library's own colour codes: SGR sequences only. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, "g");

function hasControl(text: string, allowNewline = true): boolean {
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (allowNewline && c === 10) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

async function recordNasty(): Promise<TraceEvent[]> {
  const recorder = new Recorder({ steps: false });
  await run(
    async () => {
      const queue = new Queue<number>(0, { name: "q\x1b[2J" });
      const tasks: Task<unknown>[] = NASTY.map((name) => createTask(() => sleep(1), { name }));
      tasks.push(createTask(() => queue.get(), { name: `${"x".repeat(17)}\x1b]0;pwned\x07` }));
      tasks.push(
        createTask(
          async () => {
            await sleep(0.5);
            throw new Error("boom \x1b]0;pwned\x07\x1b[2J");
          },
          { name: "fails" },
        ),
      );
      await sleep(2);
      queue.putNowait(1);
      await gather(...tasks, { returnExceptions: true });
    },
    { clock: "virtual", trace: recorder },
  );
  return recorder.events;
}

describe("nothing from the program reaches a terminal as a control sequence", () => {
  it("escapeControl shows control characters as escapes", () => {
    expect(escapeControl("\x1b]0;pwned\x07")).toBe("\\x1b]0;pwned\\x07");
    expect(escapeControl("a\rb\bc\nd\te\u009b")).toBe("a\\rb\\bc\\nd\\te\\x9b");
    expect(escapeControl("a\nb\x1b", true)).toBe("a\nb\\x1b");
    const plain = "plain ✓ text";
    expect(escapeControl(plain)).toBe(plain);
  });

  it("the terminal timeline escapes names, labels and errors, before cutting them", async () => {
    const events = await recordNasty();
    for (const width of [40, 80, 160]) {
      const plain = terminalTimeline(events, { width, color: false });
      expect(hasControl(plain), plain).toBe(false);
      const colored = terminalTimeline(events, { width, color: true });
      expect(hasControl(colored.replace(SGR, ""))).toBe(false);
    }
    const text = terminalTimeline(events, { width: 160, color: false });
    expect(text).toContain("\\x1b]0;pwned\\x07");
    expect(text).toContain("failed: Error: boom \\x1b]0;pwned\\x07\\x1b[2J");
    expect(text).toContain("queue.get q\\x1b[2J");
    // The long name is cut after it was escaped: the cut shows "…" and no half sequence.
    expect(text).toMatch(/^x{17}\\x…/m);
  });

  it("the task tree, the deadlock error and the default error handler escape names and messages", async () => {
    let tree = "";
    await run(
      async () => {
        const t = createTask(() => sleep(5), { name: "\x1b]0;pwned\x07" });
        await sleep(1);
        tree = formatTaskTree();
        t.cancel();
      },
      { clock: "virtual" },
    );
    expect(tree).toContain("\\x1b]0;pwned\\x07 (id 2)");
    expect(hasControl(tree)).toBe(false);

    const deadlock = await run(() => new Queue<number>().get(), { clock: "virtual", name: "\x1b[2Jmain" }).catch(
      (e: unknown) => e,
    );
    expect(deadlock).toBeInstanceOf(DeadlockError);
    expect(hasControl((deadlock as Error).message)).toBe(false);

    const printed: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => printed.push(args);
    try {
      defaultErrorHandler({
        message: "Task exception was never retrieved \x1b[2J",
        error: new Error("bad \x1b]0;pwned\x07"),
        task: { name: "\rname\b" } as never,
      });
      defaultErrorHandler({ message: "plain", error: new Error("fine") });
    } finally {
      console.error = original;
    }
    const first = printed[0]?.map(String).join(" ") ?? "";
    expect(hasControl(first)).toBe(false);
    expect(first).toContain('(task "\\rname\\b")');
    expect(first).toContain("bad \\x1b]0;pwned\\x07");
    // An error with nothing to escape is passed as it is, so console keeps formatting it.
    expect(printed[1]?.[1]).toBeInstanceOf(Error);
  });
});
