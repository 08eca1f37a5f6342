/**
 * JSON lines: a trace sink that streams events to a file as they happen (one JSON object per
 * line), for programs too long to keep in memory, and the reader that loads such a file back.
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { describe } from "../errors.js";
import type { TraceEvent, TraceSink } from "./sink.js";

/** Options of {@link JsonlWriter}. */
export interface JsonlWriterOptions {
  /**
   * Bytes buffered before they are written out; the buffer is written when full and on
   * {@link JsonlWriter.flush}.
   * @default 65536
   */
  bufferSize?: number;
  /**
   * Watch each synchronous step (see {@link TraceSink.steps}).
   * @default true
   */
  steps?: boolean;
}

/**
 * A {@link TraceSink} that writes each event as one line of JSON to a file (or an open file
 * descriptor), buffered, so a long program can be traced without keeping its events in memory.
 * `run` flushes it when it returns; call {@link JsonlWriter.close} when done with it. Load the
 * file back with {@link readJsonl} and draw it with any view.
 *
 * Throws what `fs.openSync` throws if the file cannot be opened.
 *
 * @example
 * const writer = new JsonlWriter("trace.jsonl");
 * await run(main, { trace: writer });
 * writer.close();
 * console.log(terminalTimeline(readJsonl("trace.jsonl")));
 */
export class JsonlWriter implements TraceSink {
  /** Whether the loop watches each step for this writer. */
  readonly steps: boolean;
  private fd: number;
  private readonly ownsFd: boolean;
  private readonly bufferSize: number;
  private chunks: string[] = [];
  private buffered = 0;
  private written = 0;
  private failure: unknown = undefined;

  /** `target`: a path (created or truncated) or an open file descriptor (left open by `close`). */
  constructor(target: string | number, options: JsonlWriterOptions = {}) {
    const bufferSize = options.bufferSize ?? 65536;
    if (!(Number.isInteger(bufferSize) && bufferSize >= 0)) {
      throw new RangeError(`Expected \`bufferSize\` to be a non-negative integer, got ${describe(bufferSize)}`);
    }
    if (typeof target === "number") {
      this.fd = target;
      this.ownsFd = false;
    } else if (typeof target === "string") {
      this.fd = openSync(target, "w");
      this.ownsFd = true;
    } else {
      throw new TypeError(`Expected the JSON-lines target to be a path or a file descriptor, got ${describe(target)}`);
    }
    this.bufferSize = bufferSize;
    this.steps = options.steps ?? true;
  }

  /** Number of events written (or buffered) so far. */
  get count(): number {
    return this.written;
  }

  /** Buffers one event (the loop calls it). */
  event(event: TraceEvent): void {
    if (this.fd < 0 || this.failure !== undefined) return;
    const line = `${JSON.stringify(event)}\n`;
    this.chunks.push(line);
    this.buffered += line.length;
    this.written++;
    if (this.buffered >= this.bufferSize) this.flush();
  }

  /**
   * The error that stopped the writer (a full disk: `ENOSPC`, a closed pipe: `EPIPE`), or
   * undefined. Once a write fails the writer drops what it holds and writes nothing more.
   */
  get error(): unknown {
    return this.failure;
  }

  /**
   * Writes out everything buffered. The first write that fails throws its error (`run` reports
   * it once through `onError` and stops tracing; the program goes on); from then on the writer
   * drops events and `flush` does nothing, so it never throws twice and never retries forever.
   */
  flush(): void {
    if (this.fd < 0 || this.failure !== undefined || this.chunks.length === 0) return;
    const bytes = Buffer.from(this.chunks.join(""), "utf8");
    this.chunks = [];
    this.buffered = 0;
    try {
      // writeSync may write less than asked (a pipe): write the rest, never the same bytes twice.
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    } catch (error) {
      this.failure = error ?? new Error("the write failed");
      throw error;
    }
  }

  /**
   * Flushes and closes the file (a descriptor passed in is left open). Later events are ignored.
   * Throws the error of that last flush if it fails; a writer that already failed just closes.
   */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.flush();
    } finally {
      if (this.ownsFd) closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/**
 * Parses JSON-lines trace text (what {@link JsonlWriter} writes) into events. Blank lines are
 * skipped. Throws `SyntaxError` naming the line that is not valid JSON.
 *
 * @example
 * const events = parseJsonl(text);
 */
export function parseJsonl(text: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === "") continue;
    try {
      events.push(JSON.parse(line) as TraceEvent);
    } catch (e) {
      throw new SyntaxError(`Line ${i + 1} of the trace is not valid JSON: ${(e as Error).message}`);
    }
  }
  return events;
}

/**
 * Reads a JSON-lines trace file written by {@link JsonlWriter}. Throws what `fs.readFileSync`
 * throws, and `SyntaxError` for a malformed line.
 *
 * @example
 * console.log(terminalTimeline(readJsonl("trace.jsonl")));
 */
export function readJsonl(path: string): TraceEvent[] {
  return parseJsonl(readFileSync(path, "utf8"));
}
