/** The trace sink's types live with the loop that calls it; re-exported here for the trace layer. */
export type { TaskOutcome, TraceEvent, TraceEventType, TraceSink } from "../internal/sink.js";
