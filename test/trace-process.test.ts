// `awaitress trace -- COMMAND` and AWAITRESS_TRACE, on real processes: each view is written, the
// views agree with each other, and they are written when the program throws or is stopped.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../src/node.js";
import { parseJsonl } from "../src/trace/index.js";
import { parseTraceOutputs } from "../src/trace/process-trace.js";
import { type ChildOutcome, type RunTsxOptions, runTsx } from "./child.js";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "src/cli/main.ts");

/** Spawns `node --import tsx args` without colours; `onStdout` sees the output so far (to signal the child). */
function node(args: string[], options: RunTsxOptions = {}): Promise<ChildOutcome> {
  return runTsx(args, { ...options, env: { NO_COLOR: "1", ...options.env } });
}

function files(): { dir: string; html: string; perfetto: string; jsonl: string } {
  const dir = mkdtempSync(join(tmpdir(), "awaitress-trace-"));
  return { dir, html: join(dir, "t.html"), perfetto: join(dir, "t.json"), jsonl: join(dir, "t.jsonl") };
}

interface HtmlLane {
  name: string;
  segments: { kind: string; label: string | null }[];
}

/** What each view says: the tasks (by name) and each task's waits, in order. */
function views(paths: { html: string; perfetto: string; jsonl: string }) {
  const events = parseJsonl(readFileSync(paths.jsonl, "utf8"));
  const fromJsonl = new Map<string, string[]>();
  const names = new Map<number, string>();
  for (const e of events) {
    if (e.type === "task-created") {
      names.set(e.task, e.name);
      fromJsonl.set(e.name, []);
    }
    if (e.type === "task-suspended") fromJsonl.get(names.get(e.task) as string)?.push(e.on);
  }
  const html = readFileSync(paths.html, "utf8");
  const embedded = /<script type="application\/json" id="trace-data">(.*?)<\/script>/s.exec(html)?.[1] ?? "null";
  const data = JSON.parse(embedded.replace(/\\u003c/g, "<")) as { lanes: HtmlLane[] };
  const fromHtml = new Map(
    data.lanes
      .filter((l) => l.name !== "waiter (the loop)")
      .map((l) => [l.name, l.segments.filter((s) => s.kind === "wait").map((s) => s.label as string)]),
  );
  const trace = JSON.parse(readFileSync(paths.perfetto, "utf8")) as {
    traceEvents: { name: string; ph: string; tid: number; ts: number; args?: { name?: string } }[];
  };
  const threads = new Map<number, string>();
  for (const e of trace.traceEvents) {
    if (e.name === "thread_name" && e.args?.name !== undefined && /\(id \d+\)$/.test(e.args.name)) {
      threads.set(e.tid, e.args.name.replace(/ \(id \d+\)$/, ""));
    }
  }
  const fromPerfetto = new Map<string, string[]>([...threads.values()].map((n) => [n, []]));
  for (const e of [...trace.traceEvents].sort((a, b) => a.ts - b.ts)) {
    if (e.ph === "X" && e.name.startsWith("wait: "))
      fromPerfetto.get(threads.get(e.tid) as string)?.push(e.name.slice(6));
  }
  return { events, fromJsonl, fromHtml, fromPerfetto };
}

describe("AWAITRESS_TRACE", () => {
  it("reads file names by extension, `timeline`, and {pid}", () => {
    expect(parseTraceOutputs("a.html, b.json,c.jsonl,timeline,timeline:t-{pid}.txt", 42)).toEqual([
      { kind: "html", path: "a.html" },
      { kind: "perfetto", path: "b.json" },
      { kind: "jsonl", path: "c.jsonl" },
      { kind: "timeline" },
      { kind: "timeline", path: "t-42.txt" },
    ]);
    expect(() => parseTraceOutputs("trace.txt")).toThrow(/\.html, \.json \(Perfetto\) or \.jsonl/);
  });

  it("a malformed value is reported and the program runs untraced", async () => {
    const out = await node(["examples/seed.ts"], { env: { AWAITRESS_TRACE: "trace.txt" } });
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/AWAITRESS_TRACE: expected file names .* the program runs untraced/);
    expect(out.stdout).toContain("Total elapsed time: 17.0");
  });
});

describe("awaitress trace -- COMMAND", () => {
  it("on examples/seed.ts (TypeScript): the timeline, HTML, Perfetto and JSONL agree", async () => {
    const paths = files();
    const out = await node([
      CLI,
      "trace",
      "--timeline",
      "--html",
      paths.html,
      "--perfetto",
      paths.perfetto,
      "--jsonl",
      paths.jsonl,
      "--",
      "examples/seed.ts",
    ]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Total elapsed time: 17.0");
    // The terminal timeline, on stderr (stdout is the program's).
    expect(out.stderr).toMatch(/One +ran 0s · waited 17s: sleep 15s \(0s→15s\), sleep 2s \(15s→17s\)/);
    expect(out.stderr).toContain(`wrote the HTML timeline to ${paths.html}`);
    const { fromJsonl, fromHtml, fromPerfetto } = views(paths);
    expect([...fromJsonl.keys()]).toEqual(["main", "One", "Two"]);
    expect(fromJsonl.get("One")).toEqual(["sleep 15s", "sleep 2s"]);
    expect(fromHtml).toEqual(fromJsonl);
    expect(fromPerfetto).toEqual(fromJsonl);
  });

  it("on a JavaScript program (.mjs), with a queue, a lock and sleeps: the views agree", async () => {
    const paths = files();
    const out = await node(
      [
        CLI,
        "trace",
        "--html",
        paths.html,
        "--perfetto",
        paths.perfetto,
        "--jsonl",
        paths.jsonl,
        "--",
        "test/fixtures/trace-js.mjs",
      ],
      // The fixture imports the TypeScript sources; a user's program imports the built package.
      { env: { NODE_OPTIONS: "--import tsx" } },
    );
    expect(out.code).toBe(0);
    expect(out.stdout).toBe("done\n");
    const { fromJsonl, fromHtml, fromPerfetto } = views(paths);
    expect([...fromJsonl.keys()]).toEqual(["main", "A", "B"]);
    const waits = [...fromJsonl.values()].flat();
    expect(waits).toContain("lock.acquire");
    expect(waits).toContain("sleep 30ms");
    expect(fromHtml).toEqual(fromJsonl);
    expect(fromPerfetto).toEqual(fromJsonl);
  });

  it("on a program that throws: the views are still written, and the exit code is the program's", async () => {
    const paths = files();
    const out = await node([
      CLI,
      "trace",
      "--html",
      paths.html,
      "--perfetto",
      paths.perfetto,
      "--jsonl",
      paths.jsonl,
      "--",
      "test/fixtures/trace-throws.ts",
    ]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("the kitchen is on fire");
    const { events, fromHtml, fromPerfetto, fromJsonl } = views(paths);
    const done = events.filter((e): e is Extract<TraceEvent, { type: "task-done" }> => e.type === "task-done");
    expect(done.map((e) => e.outcome)).toEqual(["error", "error"]);
    expect(fromHtml).toEqual(fromJsonl);
    expect(fromPerfetto).toEqual(fromJsonl);
  });

  it("on a run() stopped with SIGINT: main unwinds, exit code 130, the views are written", async () => {
    const paths = files();
    let sent = false;
    const out = await node(
      [CLI, "trace", "--html", paths.html, "--jsonl", paths.jsonl, "--", "test/fixtures/trace-forever.ts"],
      {
        onStdout: (text, child) => {
          if (!sent && text.includes("ready")) {
            sent = true;
            child.kill("SIGINT");
          }
        },
      },
    );
    expect(out.code).toBe(130);
    expect(out.stderr).toContain("interrupted by SIGINT");
    const events = parseJsonl(readFileSync(paths.jsonl, "utf8"));
    const done = events.filter((e) => e.type === "task-done");
    expect(done.map((e) => (e as { outcome: string }).outcome)).toEqual(["cancelled", "cancelled"]);
    expect(existsSync(paths.html)).toBe(true);
  });

  it("on tasks of the default loop (no run) stopped with SIGINT: written, then the signal ends the process", async () => {
    const paths = files();
    let sent = false;
    const out = await node(["test/fixtures/trace-forever.ts", "default"], {
      env: { AWAITRESS_TRACE: paths.jsonl },
      onStdout: (text, child) => {
        if (!sent && text.includes("ready")) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(out.signal).toBe("SIGINT");
    const events = parseJsonl(readFileSync(paths.jsonl, "utf8"));
    expect(events.find((e) => e.type === "task-created")).toMatchObject({ name: "napper" });
    expect(events.filter((e) => e.type === "task-suspended").length).toBeGreaterThan(1);
  });

  it("with --limit: bounded memory, and a note says what was dropped", async () => {
    const paths = files();
    const out = await node([
      CLI,
      "trace",
      "--limit",
      "20",
      "--jsonl",
      paths.jsonl,
      "--timeline",
      "--",
      "examples/seed.ts",
    ]);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      /\d+ earlier events were dropped: AWAITRESS_TRACE keeps the last 20 events of each loop/,
    );
    const events = parseJsonl(readFileSync(paths.jsonl, "utf8"));
    // The ring's 20, plus the creations of tasks whose lanes it still shows.
    expect(events.length).toBeLessThanOrEqual(23);
  });

  it("says so when the program never loaded awaitress, and refuses a command it cannot run", async () => {
    const paths = files();
    const out = await node([CLI, "trace", "--html", paths.html, "--", process.execPath, "-e", "1"]);
    expect(out.code).toBe(0);
    expect(out.stderr).toContain("was not written: the program did not load awaitress");
    const none = await node([CLI, "trace"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no command to run");
  });
});
