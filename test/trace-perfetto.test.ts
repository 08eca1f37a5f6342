import { describe, expect, it } from "vitest";
import { perfettoJson, perfettoTrace } from "../src/trace/index.js";
import { recordSeed } from "./trace-seed.js";

/**
 * A structural check of the Trace Event Format (the JSON Object Format that chrome://tracing and
 * Perfetto's JSON importer read): the document shape, each phase's required fields, well-nested
 * complete events per thread, and flow events that come in start/finish pairs going forward.
 * Returns the list of problems (empty when valid).
 */
function validateTraceEventFormat(doc: unknown): string[] {
  const problems: string[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const isInt = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v);
  const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  if (!isObj(doc)) return ["the document is not an object"];
  if (!Array.isArray(doc.traceEvents)) return ["traceEvents is not an array"];
  if (doc.displayTimeUnit !== undefined && doc.displayTimeUnit !== "ms" && doc.displayTimeUnit !== "ns") {
    problems.push(`displayTimeUnit must be "ms" or "ns", got ${String(doc.displayTimeUnit)}`);
  }
  const phases = new Set(["B", "E", "X", "i", "I", "C", "b", "n", "e", "s", "t", "f", "M", "P", "O", "N", "D"]);
  const metadataNames = new Set([
    "process_name",
    "process_labels",
    "process_sort_index",
    "thread_name",
    "thread_sort_index",
  ]);
  const flows = new Map<string, { s?: number; f?: number }>();
  const slices = new Map<string, { ts: number; end: number }[]>();
  doc.traceEvents.forEach((e: unknown, i: number) => {
    const where = `traceEvents[${i}]`;
    if (!isObj(e)) {
      problems.push(`${where} is not an object`);
      return;
    }
    if (typeof e.name !== "string") problems.push(`${where}.name is not a string`);
    if (typeof e.ph !== "string" || !phases.has(e.ph)) problems.push(`${where}.ph ${String(e.ph)} is not a phase`);
    if (!isInt(e.pid)) problems.push(`${where}.pid is not an integer`);
    if (!isInt(e.tid)) problems.push(`${where}.tid is not an integer`);
    if (e.args !== undefined && !isObj(e.args)) problems.push(`${where}.args is not an object`);
    if (e.ph !== "M" && !(isNum(e.ts) && e.ts >= 0)) problems.push(`${where}.ts is not a non-negative number`);
    switch (e.ph) {
      case "M":
        if (!metadataNames.has(e.name as string)) problems.push(`${where} unknown metadata ${String(e.name)}`);
        if (!isObj(e.args)) problems.push(`${where} metadata without args`);
        else if (e.name === "thread_name" || e.name === "process_name") {
          if (typeof e.args.name !== "string") problems.push(`${where} ${String(e.name)} without args.name`);
        } else if (String(e.name).endsWith("sort_index") && !isInt(e.args.sort_index)) {
          problems.push(`${where} sort index without args.sort_index`);
        }
        break;
      case "X": {
        if (!(isNum(e.dur) && e.dur >= 0)) problems.push(`${where}.dur is not a non-negative number`);
        const key = `${String(e.pid)}/${String(e.tid)}`;
        const list = slices.get(key) ?? [];
        list.push({ ts: e.ts as number, end: (e.ts as number) + (e.dur as number) });
        slices.set(key, list);
        break;
      }
      case "i":
      case "I":
        if (e.s !== undefined && e.s !== "g" && e.s !== "p" && e.s !== "t")
          problems.push(`${where}.s is not g, p or t`);
        break;
      case "C":
        if (!isObj(e.args) || !Object.values(e.args).every(isNum))
          problems.push(`${where} counter args are not numbers`);
        break;
      case "s":
      case "t":
      case "f": {
        if (!(isInt(e.id) || typeof e.id === "string")) problems.push(`${where} flow without id`);
        if (e.ph === "f" && e.bp !== undefined && e.bp !== "e") problems.push(`${where}.bp must be "e"`);
        const flow = flows.get(`${String(e.cat)}:${String(e.id)}`) ?? {};
        if (e.ph === "s") flow.s = e.ts as number;
        if (e.ph === "f") flow.f = e.ts as number;
        flows.set(`${String(e.cat)}:${String(e.id)}`, flow);
        break;
      }
      default:
        break;
    }
  });
  for (const [id, flow] of flows) {
    if (flow.s === undefined || flow.f === undefined) problems.push(`flow ${id} is not a start/finish pair`);
    else if (flow.f < flow.s) problems.push(`flow ${id} goes back in time`);
  }
  for (const [thread, list] of slices) {
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const open: { ts: number; end: number }[] = [];
    for (const s of list) {
      while (open.length > 0 && (open[open.length - 1] as { end: number }).end <= s.ts) open.pop();
      const top = open[open.length - 1];
      if (top !== undefined && s.end > top.end)
        problems.push(`thread ${thread}: slices overlap without nesting at ${s.ts}`);
      open.push(s);
    }
  }
  return problems;
}

describe("Perfetto / Chrome trace-event export", () => {
  it("is valid trace-event format", async () => {
    const doc = JSON.parse(perfettoJson(await recordSeed()));
    expect(validateTraceEventFormat(doc)).toEqual([]);
  });

  it("the validator catches what is wrong", () => {
    expect(validateTraceEventFormat({ traceEvents: [{ name: "x", ph: "X", pid: 1, tid: 1, ts: 0 }] })).toContain(
      "traceEvents[0].dur is not a non-negative number",
    );
    expect(
      validateTraceEventFormat({
        traceEvents: [
          { name: "a", ph: "X", pid: 1, tid: 1, ts: 0, dur: 10 },
          { name: "b", ph: "X", pid: 1, tid: 1, ts: 5, dur: 10 },
          { name: "w", ph: "s", cat: "c", id: 1, pid: 1, tid: 1, ts: 3 },
        ],
      }),
    ).toEqual(["flow c:1 is not a start/finish pair", "thread 1/1: slices overlap without nesting at 5"]);
  });

  it("has one named track per task with its waits, in microseconds", async () => {
    const trace = perfettoTrace(await recordSeed());
    const names = trace.traceEvents.filter((e) => e.name === "thread_name").map((e) => e.args?.name);
    expect(names).toEqual(["waiter: the loop (steps, idle, timers, clock)", "main (id 1)", "One (id 2)", "Two (id 3)"]);
    const waits = (tid: number) =>
      trace.traceEvents
        .filter((e) => e.ph === "X" && e.tid === tid && e.cat === "wait")
        .map((e) => [e.name, Math.round((e.dur ?? 0) / 1e6)]);
    expect(waits(2)).toEqual([
      ["wait: sleep 15s", 15],
      ["wait: sleep 2s", 2],
    ]);
    expect(waits(3)).toEqual([
      ["wait: sleep 10s", 10],
      ["wait: sleep 5s", 5],
    ]);
  });

  it("draws a flow arrow from the waker to the task it woke", async () => {
    const trace = perfettoTrace(await recordSeed());
    const starts = trace.traceEvents.filter((e) => e.ph === "s");
    const finishes = trace.traceEvents.filter((e) => e.ph === "f");
    expect(starts.length).toBeGreaterThan(0);
    // gather in main (tid 1) is completed by One (tid 2), the last worker to finish.
    const arrow = starts.find((s) => s.tid === 2);
    expect(arrow).toBeDefined();
    const end = finishes.find((f) => f.id === arrow?.id);
    expect(end).toMatchObject({ tid: 1, bp: "e" });
  });
});
