/**
 * `RateLimiter`: a budget of work per unit of time shared by many tasks — a token bucket
 * (`{ rate, per, burst }`) or a sliding window (`{ rate, window }`). Waiters are served strictly
 * in FIFO order on the primitives' parking lot, so a cancelled waiter takes nothing and passes its
 * turn on, exactly as a cancelled `Semaphore.acquire` does.
 */
import type { TimerHandle } from "../clock/clock.js";
import { FULFILLED, type Future } from "../core/future.js";
import { type LoopImpl, runningLoop } from "../core/loop.js";
import { doneFuture, failedFuture, Parked, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { describe } from "../errors.js";
import { checkOptions, checkPositive } from "./checks.js";

/**
 * A token bucket: `rate` units of weight per `per` seconds, and at most `burst` at once. The
 * bucket starts full.
 */
export interface TokenBucketOptions {
  /**
   * Units of weight refilled every `per` seconds (requests per second, with the default `per`).
   * A positive finite number.
   *
   * @example
   * new RateLimiter({ rate: 5 }); // 5 per second, 5 at once
   */
  readonly rate: number;
  /**
   * The period `rate` is counted over, in seconds.
   *
   * @default 1
   */
  readonly per?: number;
  /**
   * The most weight that can go at one instant (the bucket's size); also the largest weight one
   * `acquire` may ask for. `burst: 1` spaces requests evenly, `per / rate` seconds apart.
   *
   * @default rate
   * @example
   * new RateLimiter({ rate: 10, burst: 1 }); // one every 100 ms, never two together
   */
  readonly burst?: number;
  readonly window?: undefined;
}

/** A sliding window: at most `rate` units of weight in any `window` seconds. */
export interface SlidingWindowOptions {
  /** The most weight let through in any `window` seconds; a positive finite number. */
  readonly rate: number;
  /**
   * Length of the window in seconds: a grant counts against the budget for exactly `window`
   * seconds after it was made.
   *
   * @example
   * new RateLimiter({ rate: 100, window: 60 }); // 100 per minute, however they bunch
   */
  readonly window: number;
  readonly per?: undefined;
  readonly burst?: undefined;
}

/** Options of {@link RateLimiter}: a token bucket, or (with `window`) a sliding window. */
export type RateLimiterOptions = TokenBucketOptions | SlidingWindowOptions;

/** Options of {@link RateLimiter.acquire}. */
export type AcquireOptions = SignalOptions;

function onTimer(limiter: RateLimiter): void {
  limiter._fire();
}

/**
 * A rate limit shared by any number of tasks. `await limiter.acquire(weight)` waits until
 * `weight` fits in the budget, then takes it.
 *
 * - **Token bucket** `{ rate, per = 1, burst = rate }`: the bucket holds up to `burst`, starts
 *   full and refills `rate` per `per` seconds. In any interval of `t` seconds at most
 *   `burst + rate * t / per` goes through. Computed as a GCRA (a theoretical arrival time), so
 *   on the virtual clock the instants are exact.
 * - **Sliding window** `{ rate, window }`: at most `rate` in any `window` seconds, checked
 *   against the instants of the grants themselves (a log of them is kept for `window` seconds).
 *
 * Waiters are served in FIFO order: a light request never overtakes a heavy one queued before it
 * (no starvation). Cancelling a waiting `acquire` (or aborting its signal, or cancelling the task
 * awaiting it) withdraws it: it takes nothing, and whoever is behind it is served as if it had
 * never been there. Time is read from the running loop's clock; a limiter serves one loop at a
 * time (used on a new loop while idle, it starts afresh, full).
 *
 * Errors: `TypeError` for options or a weight that is not a number (or both `window` and
 * `per`/`burst`), `RangeError` for a number out of range, and for a weight larger than one
 * instant can ever allow (`burst`, or the window's `rate`): such a request could never be granted.
 *
 * @example
 * import { createTask, gather, RateLimiter, run, time } from "awaitress";
 * await run(async () => {
 *   const limiter = new RateLimiter({ rate: 2, per: 1, burst: 1 }); // one every 0.5 s
 *   const at: number[] = [];
 *   const call = async () => { await limiter.acquire(); at.push(time()) };
 *   await gather(createTask(call), createTask(call), createTask(call));
 *   console.log(at); // [0, 0.5, 1]
 * }, { clock: "virtual" });
 */
export class RateLimiter {
  /** The budget: units of weight per {@link RateLimiter.period} seconds. */
  readonly rate: number;
  /** Seconds `rate` is counted over: `per` of a bucket, `window` of a window. */
  readonly period: number;
  /** The largest weight that can go at one instant: `burst` of a bucket, `rate` of a window. */
  readonly burst: number;
  /** `"token-bucket"` or `"sliding-window"`. */
  readonly kind: "token-bucket" | "sliding-window";
  private readonly waiters = new ParkingLot("rate-limiter.acquire");
  private loop: LoopImpl | null = null;
  private timer: TimerHandle | null = null;
  /** Token bucket: seconds one unit of weight takes to refill. */
  private readonly interval: number;
  /** Token bucket: the theoretical arrival time (GCRA); the bucket is full when it is ≤ now. */
  private tat = Number.NEGATIVE_INFINITY;
  /** Sliding window: instants and weights of the grants still inside the window (a ring). */
  private times: number[] = [];
  private weights: number[] = [];
  private head = 0;
  private used = 0;
  private granted = 0;

  constructor(options: RateLimiterOptions) {
    const o = checkOptions<{ rate: unknown; per: unknown; burst: unknown; window: unknown }>(options, "RateLimiter");
    if (options === undefined) {
      throw new TypeError("RateLimiter expects options such as { rate: 10, per: 1 } or { rate: 100, window: 60 }");
    }
    this.rate = checkPositive(o.rate, "rate");
    if (o.window !== undefined) {
      if (o.per !== undefined || o.burst !== undefined) {
        throw new TypeError(
          "RateLimiter takes either { rate, per, burst } (a token bucket) or { rate, window } (a sliding window), not both",
        );
      }
      this.kind = "sliding-window";
      this.period = checkPositive(o.window, "window");
      this.burst = this.rate;
      this.interval = 0;
    } else {
      this.kind = "token-bucket";
      this.period = o.per === undefined ? 1 : checkPositive(o.per, "per");
      this.burst = o.burst === undefined ? this.rate : checkPositive(o.burst, "burst");
      this.interval = this.period / this.rate;
    }
  }

  /**
   * Waits until `weight` fits in the budget, in FIFO order behind earlier callers, and takes it.
   * Returns a {@link Future} (already done when the budget allows it at once and nobody waits);
   * cancelling it, or aborting `signal` (it then rejects with `signal.reason`), withdraws the
   * request: it takes nothing. Throws `TypeError`/`RangeError` for a weight that is not a
   * positive number or exceeds {@link RateLimiter.burst}.
   *
   * @example
   * await limiter.acquire();            // one request
   * await limiter.acquire(5, { signal }); // a batch of five, abortable
   */
  acquire(weight = 1, options?: AcquireOptions): Future<void> {
    this.checkWeight(weight);
    const signal = signalOf(options, "RateLimiter.acquire()");
    const loop = this.bindLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    if (this.waiters.size === 0 && this.take(weight, loop.time())) return doneFuture(undefined, loop);
    const op = new AcquireOp(loop, this.waiters.label, this, weight)._parkIn(this.waiters, signal);
    op._onDone(this.onOpDone);
    this.pump();
    return op;
  }

  /**
   * Takes `weight` if the budget allows it now and nobody waits; returns whether it did. Never
   * waits (the `…Nowait` twin of {@link RateLimiter.acquire}).
   *
   * @example
   * if (!limiter.tryAcquire()) console.log("busy, try later");
   */
  tryAcquire(weight = 1): boolean {
    this.checkWeight(weight);
    const loop = this.bindLoop();
    return this.waiters.size === 0 && this.take(weight, loop.time());
  }

  /** Weight that could be taken right now (ignoring waiters). */
  available(): number {
    const now = this.loop === null ? 0 : this.loop.time();
    if (this.kind === "token-bucket") {
      const debt = this.tat === Number.NEGATIVE_INFINITY ? 0 : Math.max(0, this.tat - now);
      return Math.max(0, this.burst - debt / this.interval);
    }
    this.evict(now);
    return this.rate - this.used;
  }

  /** Number of `acquire` calls waiting. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Total weight granted so far. */
  get total(): number {
    return this.granted;
  }

  toString(): string {
    const shape =
      this.kind === "token-bucket"
        ? `rate=${this.rate}, per=${this.period}, burst=${this.burst}`
        : `rate=${this.rate}, window=${this.period}`;
    return `RateLimiter(${shape}, waiting=${this.waiters.size})`;
  }

  /** @internal The head's timer fired. */
  _fire(): void {
    this.timer = null;
    this.pump();
  }

  /** @internal A woken waiter's turn: takes its weight if the budget still allows it. */
  _take(op: AcquireOp, weight: number): boolean {
    if (!this.take(weight, op._loop.time())) return false;
    op._grant(undefined);
    this.pump();
    return true;
  }

  /** @internal Serves the head: wakes it if its weight fits now, else sets a timer for when it will. */
  pump(): void {
    const head = this.waiters.first as AcquireOp | null;
    if (head === null) {
      this.stopTimer();
      return;
    }
    if (head._woken) return; // its turn is on the ready queue; it pumps again when it settles
    const loop = head._loop;
    const at = this.earliest(head.weight, loop.time());
    if (at <= loop.time()) {
      this.stopTimer();
      this.waiters.wakeOne();
      return;
    }
    if (this.timer?.pending && this.timer.when === at) return;
    this.stopTimer();
    this.timer = loop.callAt(at, onTimer, this);
  }

  private readonly onOpDone = (op: AcquireOp): void => {
    // Withdrawn (cancelled, aborted): the next in line may go now, or at another time.
    if (op._state !== FULFILLED) this.pump();
  };

  private stopTimer(): void {
    if (this.timer === null) return;
    this.loop?.clock.cancel(this.timer);
    this.timer = null;
  }

  private bindLoop(): LoopImpl {
    const loop = runningLoop();
    if (loop !== this.loop) {
      if (this.waiters.size > 0) {
        throw new TypeError("RateLimiter is in use by tasks of another loop: use one limiter per loop");
      }
      this.loop = loop;
      this.timer = null;
      this.tat = Number.NEGATIVE_INFINITY;
      this.times = [];
      this.weights = [];
      this.head = 0;
      this.used = 0;
    }
    return loop;
  }

  private checkWeight(weight: unknown): void {
    if (typeof weight !== "number") {
      throw new TypeError(`Expected \`weight\` to be a positive number, got ${describe(weight)}`);
    }
    if (!(weight > 0) || weight === Number.POSITIVE_INFINITY) {
      throw new RangeError(`Expected \`weight\` to be a positive finite number, got ${describe(weight)}`);
    }
    if (weight > this.burst) {
      const what = this.kind === "token-bucket" ? "`burst`" : "the window's `rate`";
      throw new RangeError(
        `RateLimiter.acquire(${weight}) can never be granted: the weight exceeds ${what} (${this.burst}); raise ${what} or split the request`,
      );
    }
  }

  /**
   * The earliest loop time at which `weight` fits. Both kinds compute the instant with the same
   * expression the check uses, so a timer set for it finds the weight fitting (exact on a
   * virtual clock).
   */
  private earliest(weight: number, now: number): number {
    if (this.kind === "token-bucket") {
      if (this.tat === Number.NEGATIVE_INFINITY) return now;
      return this.tat + (weight - this.burst) * this.interval;
    }
    this.evict(now);
    let used = this.used;
    if (used + weight <= this.rate) return now;
    for (let i = this.head; i < this.times.length; i++) {
      used -= this.weights[i] as number;
      if (used + weight <= this.rate) return (this.times[i] as number) + this.period;
    }
    return now; // unreachable: an empty window fits any weight ≤ rate
  }

  private take(weight: number, now: number): boolean {
    if (this.earliest(weight, now) > now) return false;
    this.granted += weight;
    if (this.kind === "token-bucket") {
      this.tat = Math.max(this.tat, now) + weight * this.interval;
      return true;
    }
    this.times.push(now);
    this.weights.push(weight);
    this.used += weight;
    return true;
  }

  /** Drops the grants that left the window (their instant + window ≤ now). */
  private evict(now: number): void {
    const times = this.times;
    while (this.head < times.length && (times[this.head] as number) + this.period <= now) {
      this.used -= this.weights[this.head] as number;
      this.head++;
    }
    if (this.head === times.length && this.head > 0) {
      this.used = 0; // no drift from summing fractions
      this.times = [];
      this.weights = [];
      this.head = 0;
      return;
    }
    if (this.head > 1024 && this.head * 2 > times.length) {
      this.times = times.slice(this.head);
      this.weights = this.weights.slice(this.head);
      this.head = 0;
    }
  }
}

/** A waiting `acquire`: takes its weight when its turn comes, if the budget still allows it. */
class AcquireOp extends Parked<void> {
  constructor(
    loop: LoopImpl,
    label: string,
    private readonly limiter: RateLimiter,
    readonly weight: number,
  ) {
    super(loop, label);
  }
  /** @internal */
  _take(): boolean {
    if (this.limiter._take(this, this.weight)) return true;
    // Not yet after all: stay first in line (still linked), with a timer for when it will fit.
    this.limiter.pump();
    return false;
  }
  /** @internal */
  override _passOn(): void {
    this.limiter.pump();
  }
}
