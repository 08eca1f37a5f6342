import type { TimerHandle } from "./clock/clock.js";
import { Future } from "./core/future.js";
import { getRunningLoop, type Loop } from "./core/loop.js";
import { type SignalOptions, signalOf } from "./core/park.js";
import { describe } from "./errors.js";

/** Checks a duration in seconds: a number, not NaN. Returns it. */
export function checkSeconds(seconds: unknown, what: string): number {
  if (typeof seconds !== "number") {
    throw new TypeError(`Expected ${what} to be a number of seconds, got ${describe(seconds)}`);
  }
  if (Number.isNaN(seconds)) {
    throw new RangeError(`Expected ${what} to be a number of seconds, got NaN`);
  }
  return seconds;
}

/** The future `sleep` returns: cancelling it cancels its timer. */
class SleepFuture<T> extends Future<T> {
  /** @internal */
  timer: TimerHandle | undefined = undefined;
  constructor(
    loop: Loop,
    /** @internal */ readonly value: T,
    /** @internal */ readonly seconds: number,
  ) {
    super(loop);
  }
  // The label is made only when a trace or a report asks: a string per sleep costs W5 ~3%.
  /** @internal */
  override _waitLabel(): string {
    return this._label ?? `sleep ${formatSeconds(this.seconds)}`;
  }
  /** @internal */
  signal: AbortSignal | undefined = undefined;
  /** @internal */
  onAbort: (() => void) | undefined = undefined;
  override cancel(message?: unknown): boolean {
    if (!super.cancel(message)) return false;
    this.stop();
    return true;
  }
  /** @internal Stops the timer and forgets the signal. */
  stop(): void {
    if (this.timer !== undefined) this._loop.clock.cancel(this.timer);
    this.timer = undefined;
    if (this.signal !== undefined) this.signal.removeEventListener("abort", this.onAbort as () => void);
    this.signal = undefined;
  }
}

/**
 * Durations past this many seconds (about 31,700 years) never end: `sleep(Infinity)` waits until
 * cancelled, and never moves a virtual clock to infinity.
 */
const NEVER = 1e12;

function wake(future: SleepFuture<unknown>): void {
  future.timer = undefined;
  if (future.done()) return;
  future.stop();
  future._resolve(future.value);
}

/**
 * Suspends the calling task for `seconds` on the loop's clock and resolves to `value`
 * (asyncio's `sleep`). `sleep(0)` yields to the loop for one pass. A negative delay is
 * `sleep(0)`; NaN is a `RangeError`; a non-number a `TypeError`.
 *
 * Cancelling the task while it sleeps makes the sleep throw {@link CancelledError}. With
 * `{ signal }` (Node's `timers/promises` shape), aborting stops the timer and rejects with
 * `signal.reason`. `sleep(Infinity)` (any duration from 1e12 s on) never ends by itself.
 *
 * @example
 * await sleep(0.25);               // a quarter of a second
 * const v = await sleep(1, "done"); // "done"
 * await sleep(5, undefined, { signal: AbortSignal.timeout(1000) }); // rejects after 1 s
 */
export function sleep(seconds: number): Future<void>;
export function sleep<T>(seconds: number, value: T, options?: SignalOptions): Future<T>;
export function sleep<T>(seconds: number, value?: T, options?: SignalOptions): Future<T | undefined> {
  checkSeconds(seconds, "`seconds`");
  const signal = signalOf(options, "sleep()");
  const loop = getRunningLoop();
  const future = new SleepFuture<T | undefined>(loop, value, seconds);
  if (signal !== undefined) {
    if (signal.aborted) {
      future._reject(signal.reason);
      return future;
    }
    const onAbort = (): void => {
      if (future.done()) return;
      future.stop();
      future._reject(signal.reason);
    };
    future.signal = signal;
    future.onAbort = onAbort;
    signal.addEventListener("abort", onAbort, { once: true });
  }
  if (seconds <= 0) loop.callSoon(wake, future as SleepFuture<unknown>);
  else if (seconds < NEVER) future.timer = loop.callLater(seconds, wake, future as SleepFuture<unknown>);
  return future;
}

/** "15s", "0.25s", "1.5ms" — how sleeps are labelled in traces. */
export function formatSeconds(seconds: number): string {
  if (seconds <= 0) return "0s";
  if (!(seconds < NEVER)) return "forever";
  if (seconds < 0.001) return `${+(seconds * 1e6).toPrecision(3)}µs`;
  if (seconds < 1) return `${+(seconds * 1000).toPrecision(3)}ms`;
  return `${+seconds.toPrecision(6)}s`;
}

/** The running loop's clock, in seconds (asyncio's `loop.time()`); virtual time on a virtual clock. */
export function time(): number {
  return getRunningLoop().time();
}
