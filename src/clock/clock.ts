/**
 * The clock a loop reads and schedules on. Durations and instants are seconds, as in asyncio.
 */

/** What {@link Clock.callAt} returns: pass it to {@link Clock.cancel}. */
export interface TimerHandle {
  /** The deadline, in the clock's seconds. */
  readonly when: number;
  /** True until the callback ran or the timer was cancelled. */
  readonly pending: boolean;
}

/**
 * What a loop offers the clock attached to it (see {@link Clock.attach}).
 * @inline
 */
export interface ClockHost {
  /** Runs a timer callback as part of the loop: code in it finds the loop with `getRunningLoop()`. */
  runTimer<A>(callback: (arg: A) => void, arg: A): void;
  /** Reports an error a timer callback threw (the loop's exception handler). */
  reportError(context: { message: string; error: unknown }): void;
  /** True while the loop has runnable work: a clock that moves time by itself waits for false. */
  busy(): boolean;
}

/**
 * A source of time and of timed callbacks. `RealClock` follows `performance.now()`;
 * `VirtualClock` jumps to the next deadline whenever the program has nothing else to do.
 *
 * Implement it to drive a loop from another time source (a game tick, a simulation).
 */
export interface Clock {
  /** `"real"`, `"virtual"`, or a name of your own. */
  readonly kind: string;
  /** The current time in seconds. Monotonic. */
  now(): number;
  /**
   * Runs `callback(arg)` once the clock reaches `when`. Callbacks due at the same instant run in
   * the order they were scheduled.
   */
  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle;
  /** Cancels a pending timer; does nothing if it already ran or was cancelled. */
  cancel(handle: TimerHandle): void;
  /** Number of timers still pending. */
  readonly pendingTimers: number;
  /** Drops every pending timer and releases native resources. The loop calls it when it closes. */
  close(): void;
  /**
   * Called by `run` before the main task starts, with the loop the clock now serves. A clock that
   * implements it runs each callback through `host.runTimer` (and reports errors through
   * `host.reportError`); for a clock without it, the loop wraps each callback itself, so either
   * way code in a timer callback finds the right loop.
   */
  attach?(host: ClockHost): void;
}
