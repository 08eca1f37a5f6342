/**
 * `AWAITRESS_TRACE`: a process-wide recording of every loop (every `run`, the default loop),
 * written out as the chosen views when the process exits — normally, on an uncaught error, on
 * `process.exit()`, or on SIGINT/SIGTERM. `awaitress trace -- COMMAND` sets the variable for the
 * program it runs; the library reads it when it is loaded (src/node.ts, the build Node loads).
 *
 * One {@link Recorder} per loop, each a ring of `limit` events, so memory stays bounded on long
 * runs; the recordings of at most {@link MAX_LOOPS} loops are kept (the oldest finished ones go
 * first). At exit the recordings are merged into one: task ids renumbered so they stay unique,
 * and each virtual-clock run placed after the one before it (their clocks all start at 0).
 */
import { writeFileSync } from "node:fs";
import { type Loop, type LoopHook, PROCESS_TRACE_HOOK } from "../core/loop.js";
import { htmlTimeline } from "./html.js";
import { perfettoJson } from "./perfetto.js";
import { Recorder } from "./recorder.js";
import type { TraceEvent, TraceSink } from "./sink.js";
import { terminalTimeline } from "./terminal.js";

/** The environment variable: a comma-separated list of outputs. */
export const TRACE_ENV = "AWAITRESS_TRACE";
/** Events kept per loop (the ring's size), from `AWAITRESS_TRACE_LIMIT`. */
export const LIMIT_ENV = "AWAITRESS_TRACE_LIMIT";
/** `AWAITRESS_TRACE_STEPS=1` watches each step (foreign waits seen exactly, slower). */
export const STEPS_ENV = "AWAITRESS_TRACE_STEPS";
/** The default ring size per loop. */
export const DEFAULT_LIMIT = 200_000;
/** Recordings of at most this many loops are kept. */
export const MAX_LOOPS = 16;

/** One output of `AWAITRESS_TRACE`. */
export interface TraceOutput {
  readonly kind: "html" | "perfetto" | "jsonl" | "timeline";
  /** The file; for "timeline", absent (written to stderr) or a file. */
  readonly path?: string;
}

/**
 * Reads `AWAITRESS_TRACE`: `trace.html` (the HTML page), `trace.json` (Perfetto), `trace.jsonl`
 * (JSON lines), `timeline` (the terminal timeline on stderr) or `timeline:FILE`; several joined by
 * commas. `{pid}` in a file name is replaced by the process id (for commands that start several
 * Node processes). Throws a `TypeError` naming the entry it does not understand.
 *
 * @example
 * parseTraceOutputs("trace.html,timeline") // [{ kind: "html", path: "trace.html" }, { kind: "timeline" }]
 */
export function parseTraceOutputs(value: string, pid: number = process.pid): TraceOutput[] {
  const outputs: TraceOutput[] = [];
  for (const raw of value.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    if (entry === "timeline") {
      outputs.push({ kind: "timeline" });
      continue;
    }
    const path = entry.replace(/^timeline:/, "").replaceAll("{pid}", String(pid));
    if (entry.startsWith("timeline:")) outputs.push({ kind: "timeline", path });
    else if (/\.html?$/i.test(path)) outputs.push({ kind: "html", path });
    else if (/\.jsonl$/i.test(path)) outputs.push({ kind: "jsonl", path });
    else if (/\.json$/i.test(path)) outputs.push({ kind: "perfetto", path });
    else {
      throw new TypeError(
        `${TRACE_ENV}: expected file names ending in .html, .json (Perfetto) or .jsonl, or "timeline", got ${JSON.stringify(entry)}`,
      );
    }
  }
  return outputs;
}

interface LoopRecording {
  readonly recorder: Recorder;
  readonly virtual: boolean;
  /** The loop, while it may still run (a finished run's loop is closed). */
  readonly loop: WeakRef<Loop>;
}

/** A sink that hands each event to two sinks: the program's own, then the process recorder. */
class BothSinks implements TraceSink {
  readonly steps: boolean;
  constructor(
    private readonly own: TraceSink,
    private readonly recorder: Recorder,
  ) {
    this.steps = own.steps === true || recorder.steps;
  }
  event(event: TraceEvent): void {
    this.own.event(event);
    this.recorder.event(event);
  }
  flush(): void {
    this.own.flush?.();
  }
}

/**
 * @internal The process-wide recording behind `AWAITRESS_TRACE`. {@link ProcessTrace.sinkFor} is the loop
 * hook's part; {@link ProcessTrace.write} writes every output (once).
 */
export class ProcessTrace {
  private readonly recordings: LoopRecording[] = [];
  /** Events dropped: by the rings, and in whole recordings let go beyond MAX_LOOPS. */
  private droppedLoops = 0;
  private droppedLoopEvents = 0;
  private written = false;

  constructor(
    readonly outputs: readonly TraceOutput[],
    readonly limit: number = DEFAULT_LIMIT,
    readonly steps: boolean = false,
  ) {}

  /** The sink for a new loop: a recorder of its own, beside the sink the program gave it. */
  sinkFor(loop: Loop, own: TraceSink | null): TraceSink {
    const recorder = new Recorder({ limit: this.limit, steps: this.steps });
    this.keep({ recorder, virtual: loop.clock.kind === "virtual", loop: new WeakRef(loop) });
    return own === null ? recorder : new BothSinks(own, recorder);
  }

  private keep(recording: LoopRecording): void {
    this.recordings.push(recording);
    if (this.recordings.length <= MAX_LOOPS) return;
    // Let go of the oldest recording whose loop has closed (or been collected).
    const index = this.recordings.findIndex((r) => {
      const loop = r.loop.deref();
      return loop === undefined || loop.closed;
    });
    const [gone] = this.recordings.splice(Math.max(index, 0), 1);
    if (gone === undefined) return;
    this.droppedLoops++;
    this.droppedLoopEvents += gone.recorder.events.length + gone.recorder.dropped;
  }

  /** Events dropped so far (rings and recordings let go). */
  get dropped(): number {
    let n = this.droppedLoopEvents;
    for (const r of this.recordings) n += r.recorder.dropped;
    return n;
  }

  /** Every recording merged into one: unique task ids, virtual runs one after another. */
  events(): TraceEvent[] {
    const merged: TraceEvent[] = [];
    const several = this.recordings.filter((r) => r.recorder.events.length > 0).length > 1;
    let nextId = 1;
    let end = Number.NEGATIVE_INFINITY;
    let runNumber = 0;
    for (const { recorder, virtual } of this.recordings) {
      const events = recorder.events;
      if (events.length === 0) continue;
      runNumber++;
      const first = events[0]?.time ?? 0;
      // A virtual clock starts at 0 in every run: place the run after what came before.
      const shift = virtual && end !== Number.NEGATIVE_INFINITY ? Math.max(0, end - first) : 0;
      const ids = new Map<number, number>();
      const id = (local: number): number => {
        let global = ids.get(local);
        if (global === undefined) {
          global = nextId++;
          ids.set(local, global);
        }
        return global;
      };
      for (const e of events) {
        const moved = renumber(e, id, shift, several ? runNumber : 0);
        if (moved.time > end) end = moved.time;
        merged.push(moved);
      }
    }
    return merged;
  }

  /** A line for the views when events were dropped, or "". */
  droppedNote(): string {
    const dropped = this.dropped;
    if (dropped === 0) return "";
    const loops = this.droppedLoops > 0 ? ` (${this.droppedLoops} whole run${this.droppedLoops === 1 ? "" : "s"})` : "";
    return `${dropped} earlier event${dropped === 1 ? " was" : "s were"} dropped${loops}: ${TRACE_ENV} keeps the last ${this.limit} events of each loop (${LIMIT_ENV})`;
  }

  /**
   * Writes every output (the first call only; the exit handler and the signal handler may both
   * call it). Never throws: a failure to write one output is reported on stderr.
   */
  write(stderr: (text: string) => void = (text) => process.stderr.write(text)): void {
    if (this.written) return;
    this.written = true;
    let events: TraceEvent[];
    try {
      events = this.events();
    } catch (error) {
      stderr(`awaitress: ${TRACE_ENV}: could not merge the recording: ${String(error)}\n`);
      return;
    }
    const note = this.droppedNote();
    if (note !== "") stderr(`awaitress: ${note}\n`);
    for (const output of this.outputs) {
      try {
        const text = render(output, events, note);
        if (output.path === undefined) stderr(`\n${text}\n`);
        else writeFileSync(output.path, text);
      } catch (error) {
        const where = output.path ?? "stderr";
        stderr(
          `awaitress: ${TRACE_ENV}: could not write ${where}: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      }
    }
  }
}

function renumber(e: TraceEvent, id: (local: number) => number, shift: number, run: number): TraceEvent {
  const time = e.time + shift;
  switch (e.type) {
    case "task-created": {
      const name = run > 0 && e.parent === null ? `${e.name} (run ${run})` : e.name;
      return { ...e, time, task: id(e.task), name, parent: e.parent === null ? null : id(e.parent) };
    }
    case "task-resumed":
      return { ...e, time, task: id(e.task), by: e.by === null ? null : id(e.by) };
    case "task-started":
    case "task-suspended":
    case "task-done":
      return { ...e, time, task: id(e.task) };
    case "queue-put":
    case "queue-get":
    case "slow-step":
      return { ...e, time, task: e.task === null ? null : id(e.task) };
    case "clock-jump":
      return { ...e, time, from: e.from + shift };
    default:
      return shift === 0 ? e : { ...e, time };
  }
}

function render(output: TraceOutput, events: readonly TraceEvent[], note: string): string {
  const title = `awaitress trace: ${process.argv.slice(1).join(" ") || "node"}${note === "" ? "" : ` (${note})`}`;
  switch (output.kind) {
    case "html":
      return htmlTimeline(events, { title });
    case "perfetto":
      return perfettoJson(events);
    case "jsonl":
      return events.map((e) => `${JSON.stringify(e)}\n`).join("");
    case "timeline": {
      const width = output.path === undefined ? process.stderr.columns : undefined;
      const text = terminalTimeline(events, {
        color: output.path === undefined && process.stderr.isTTY === true && process.env.NO_COLOR === undefined,
        ...(width !== undefined ? { width } : {}),
      });
      return note === "" ? text : `${text}\n(${note})`;
    }
  }
}

// Marks awaitress's own signal listeners (src/core/signals.ts uses the same key), so `run` does not
// take this one for the program's and leave Ctrl-C to it.
const OURS = Symbol.for("awaitress.runSignalListener");

/**
 * @internal Installs `trace` for the whole process: writes it on `exit` (normal end, `process.exit()`, an
 * uncaught error), and on SIGINT/SIGTERM when nothing else listens — where Node would otherwise
 * die without an `exit` event — writes it, then lets the signal end the process as it would have.
 */
export function writeOnExit(trace: ProcessTrace): void {
  process.on("exit", () => trace.write());
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const listener = Object.assign(
      () => {
        // Another listener (a run's, or the program's own) handles the signal; `exit` follows.
        if (process.listeners(signal).some((other) => other !== listener)) return;
        trace.write();
        process.removeListener(signal, listener);
        process.kill(process.pid, signal);
      },
      { [OURS]: true },
    );
    process.on(signal, listener);
  }
}

/**
 * @internal Reads `AWAITRESS_TRACE` (and `AWAITRESS_TRACE_LIMIT`, `AWAITRESS_TRACE_STEPS`); when set, returns
 * the process recording to install (or null). A malformed value is reported on stderr and ignored:
 * tracing never stops the program.
 */
export function processTraceFromEnv(env: NodeJS.ProcessEnv = process.env): ProcessTrace | null {
  const value = env[TRACE_ENV];
  if (value === undefined || value.trim() === "") return null;
  try {
    const outputs = parseTraceOutputs(value);
    const limitText = env[LIMIT_ENV];
    const limit = limitText === undefined || limitText === "" ? DEFAULT_LIMIT : Number(limitText);
    if (!(Number.isInteger(limit) && limit > 0)) {
      throw new RangeError(`${LIMIT_ENV}: expected a positive integer, got ${JSON.stringify(limitText)}`);
    }
    return new ProcessTrace(outputs, limit, env[STEPS_ENV] === "1");
  } catch (error) {
    process.stderr.write(
      `awaitress: ${error instanceof Error ? error.message : String(error)}; the program runs untraced\n`,
    );
    return null;
  }
}

/**
 * Installs `AWAITRESS_TRACE`'s recording for the whole process, once however many copies of
 * awaitress load this module: its loop hook on `globalThis` (every copy's loops reach it) and its
 * writer at exit. Does nothing when the variable is unset or malformed (reported on stderr).
 */
export function installProcessTrace(env: NodeJS.ProcessEnv = process.env): void {
  const slot = globalThis as { [PROCESS_TRACE_HOOK]?: LoopHook };
  if (slot[PROCESS_TRACE_HOOK] !== undefined) return;
  const trace = processTraceFromEnv(env);
  if (trace === null) return;
  writeOnExit(trace);
  Object.defineProperty(globalThis, PROCESS_TRACE_HOOK, {
    value: (loop: Loop, sink: TraceSink | null) => trace.sinkFor(loop, sink),
    configurable: true,
    enumerable: false,
    writable: false,
  });
}
