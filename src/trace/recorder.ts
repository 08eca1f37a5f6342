/**
 * `Recorder`: a trace sink that keeps the loop's events in memory, optionally in a bounded ring
 * for long runs, so the views (terminal, HTML, Perfetto) can draw them afterwards.
 */
import { describe } from "../errors.js";
import { RingBuffer } from "../internal/ring-buffer.js";
import type { TraceEvent, TraceSink } from "./sink.js";

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  /**
   * Keep only the last `limit` events (a ring), for programs that run for a long time. The
   * `task-created` event of a task still alive, or whose last events are kept, is never dropped,
   * so every lane keeps its name.
   * @default Infinity (keep everything)
   * @example new Recorder({ limit: 100_000 })
   */
  limit?: number;
  /**
   * Watch each synchronous step (see {@link TraceSink.steps}): waits on foreign promises show as
   * waits, not as running. Set to `false` to trace very large runs more cheaply.
   * @default true
   */
  steps?: boolean;
}

type CreatedEvent = Extract<TraceEvent, { type: "task-created" }>;

/**
 * A {@link TraceSink} that records every event in memory. Pass it to `run`, then hand
 * `recorder.events` to a view: {@link terminalTimeline}, {@link htmlTimeline},
 * {@link perfettoTrace}. asyncio has no equivalent (its debug mode only logs).
 *
 * Throws `RangeError` if `limit` is not a positive integer.
 *
 * @example
 * const recorder = new Recorder();
 * await run(main, { clock: "virtual", trace: recorder });
 * console.log(terminalTimeline(recorder.events));
 */
export class Recorder implements TraceSink {
  /** Whether the loop watches each step for this recorder (see {@link RecorderOptions.steps}). */
  readonly steps: boolean;
  /** The most events kept, or `Infinity`. */
  readonly limit: number;
  private readonly all: TraceEvent[] | undefined;
  private readonly ring: RingBuffer<TraceEvent> | undefined;
  /** `task-created` events of tasks that may still appear in the ring. */
  private readonly created = new Map<number, CreatedEvent>();
  private droppedCount = 0;

  constructor(options: RecorderOptions = {}) {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (limit !== Number.POSITIVE_INFINITY && !(Number.isInteger(limit) && limit > 0)) {
      throw new RangeError(`Expected \`limit\` to be a positive integer, got ${describe(limit)}`);
    }
    this.limit = limit;
    this.steps = options.steps ?? true;
    if (limit === Number.POSITIVE_INFINITY) this.all = [];
    else this.ring = new RingBuffer<TraceEvent>(Math.min(limit, 1024));
  }

  /** Records one event (the loop calls it). */
  event(event: TraceEvent): void {
    if (this.all !== undefined) {
      this.all.push(event);
      return;
    }
    const ring = this.ring as RingBuffer<TraceEvent>;
    if (event.type === "task-created") this.created.set(event.task, event);
    if (ring.length >= this.limit) {
      const evicted = ring.shift() as TraceEvent;
      this.droppedCount++;
      // A task's `task-done` is its last event: once it leaves the ring, nothing refers to it.
      if (evicted.type === "task-done") this.created.delete(evicted.task);
    }
    ring.push(event);
  }

  /** Number of events dropped by the ring so far (0 without a `limit`). */
  get dropped(): number {
    return this.droppedCount;
  }

  /**
   * The recorded events in the order they happened. With a `limit`, the `task-created` events of
   * tasks whose creation fell out of the ring come first, so views can still name every lane.
   */
  get events(): TraceEvent[] {
    if (this.all !== undefined) return this.all.slice();
    const kept = [...(this.ring as RingBuffer<TraceEvent>)];
    const present = new Set<number>();
    for (const e of kept) if (e.type === "task-created") present.add(e.task);
    const restored: TraceEvent[] = [];
    for (const [id, e] of this.created) if (!present.has(id)) restored.push(e);
    return restored.concat(kept);
  }

  /** Forgets every event recorded so far. */
  clear(): void {
    if (this.all !== undefined) this.all.length = 0;
    this.ring?.clear();
    this.created.clear();
    this.droppedCount = 0;
  }
}
