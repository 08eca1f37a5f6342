/**
 * What the loop tells a trace sink. Times are the loop clock's seconds; tasks are named by id.
 * The loop emits nothing (one null check per site) unless `run(main, { trace })` installs a sink.
 */

/** How a task ended. */
export type TaskOutcome = "result" | "error" | "cancelled";

export type TraceEvent =
  | {
      readonly type: "task-created";
      readonly time: number;
      readonly task: number;
      readonly name: string;
      readonly parent: number | null;
    }
  | { readonly type: "task-started"; readonly time: number; readonly task: number }
  /** The task stopped running to wait on `on` ("sleep 15s", "queue.get", `task "Two"`, ...). */
  | { readonly type: "task-suspended"; readonly time: number; readonly task: number; readonly on: string }
  /** What the task waited on completed; `by` names the task that completed it, if any. */
  | { readonly type: "task-resumed"; readonly time: number; readonly task: number; readonly by: number | null }
  | {
      readonly type: "task-done";
      readonly time: number;
      readonly task: number;
      readonly outcome: TaskOutcome;
      readonly error?: string;
    }
  | {
      readonly type: "queue-put" | "queue-get";
      readonly time: number;
      readonly task: number | null;
      readonly queue: string;
      readonly size: number;
    }
  | { readonly type: "timer-fired"; readonly time: number; readonly label: string }
  | { readonly type: "clock-jump"; readonly time: number; readonly from: number }
  | { readonly type: "loop-idle"; readonly time: number }
  /** The loop had run for its slice (4 ms) and let the host's event loop poll timers and I/O. */
  | { readonly type: "loop-yield"; readonly time: number }
  /** Debug mode: one synchronous step of `task` (null: outside any task) held the loop `duration` s. */
  | { readonly type: "slow-step"; readonly time: number; readonly task: number | null; readonly duration: number };

/** The `type` of every {@link TraceEvent}. */
export type TraceEventType = TraceEvent["type"];

/**
 * Receives the loop's events, in the order they happen. Install one with
 * `run(main, { trace: sink })`; {@link "awaitress/trace"!Recorder} keeps them in memory,
 * {@link "awaitress/trace"!JsonlWriter} streams them to a file.
 *
 * @example
 * const sink: TraceSink = { event: (e) => console.log(e.type, e.time) };
 * await run(main, { trace: sink });
 */
export interface TraceSink {
  /** Called once per event, synchronously, while the loop runs: keep it cheap. */
  event(event: TraceEvent): void;
  /**
   * When true, the loop also watches each synchronous step of each task (with `async_hooks`), so
   * the trace marks a task that waits on a foreign promise (`fetch`, a stream) as waiting on
   * "a foreign promise" instead of running. Costs more: every promise of the process is hooked.
   * @default false
   */
  readonly steps?: boolean;
  /** Called when `run` returns, so a sink that buffers can write out what it holds. */
  flush?(): void;
}
