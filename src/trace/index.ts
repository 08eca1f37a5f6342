/**
 * `awaitress/trace`: what the event loop did — the {@link Recorder} that `run({ trace })` fills,
 * and its views: the terminal timeline, the self-contained HTML page, the Perfetto/Chrome trace,
 * JSON lines; and `installProcessTrace`, what `AWAITRESS_TRACE` switches on.
 *
 * Importing it also installs the step hooks of awaitress/debug, which a recorder's `steps` (on by
 * default: it sees awaits of foreign promises) needs.
 *
 * @example
 * import { run, sleep } from "awaitress";
 * import { Recorder, terminalTimeline } from "awaitress/trace";
 *
 * const trace = new Recorder();
 * await run(async () => { await sleep(1); }, { clock: "virtual", trace });
 * console.log(terminalTimeline(trace.events));
 *
 * @module awaitress/trace
 */
import { setInstrumenter } from "../core/run.js";
import { instrument } from "../debug/instrument.js";

setInstrumenter(instrument);

export type { TaskOutcome, TraceEvent, TraceEventType, TraceSink } from "../internal/sink.js";
export { type HtmlTimelineOptions, htmlTimeline } from "./html.js";
export { JsonlWriter, type JsonlWriterOptions, parseJsonl, readJsonl } from "./jsonl.js";
export { type ChromeTrace, type ChromeTraceEvent, perfettoJson, perfettoTrace } from "./perfetto.js";
export { installProcessTrace } from "./process-trace.js";
export { Recorder, type RecorderOptions } from "./recorder.js";
export { shouldColor, type TerminalTimelineOptions, terminalTimeline } from "./terminal.js";
export { buildTimeline, type Lane, type Segment, type Timeline, type Wake } from "./timeline.js";
