/**
 * W4 / real-clock timer storage: `count` concurrent sleeps of 0–50 ms (seeded), each in its own
 * task, measured three ways, alternating A B C A B C ...:
 *
 * - `heap`: awaitress's `RealClock` — one heap, one native timer armed for the earliest deadline;
 * - `native`: the same loop with a clock that arms one native `setTimeout` per timer (the
 *   alternative the design weighed), defined below;
 * - `raw`: no awaitress at all, `Promise.all` over `new Promise((r) => setTimeout(r, ms))`.
 *
 * Reports the wall time against the ideal (the longest sleep, 50 ms) and sleeps per second.
 *
 *   node scripts/node24.mjs --import tsx bench/timers.ts   # Node 24, 100,000 sleeps, 7 rounds
 *   npx tsx bench/timers.ts                   # the machine's Node 20
 *   npx tsx bench/timers.ts --count 10000 --rounds 3
 */
import { pathToFileURL } from "node:url";
import { type Clock, createTask, gather, RealClock, run, sleep, type TimerHandle } from "../src/node.js";
import { seededRandom } from "./prng.js";

/** The rejected alternative: one native timer per awaitress timer. */
class NativeTimersClock implements Clock {
  readonly kind = "real";
  private pending = 0;
  now(): number {
    return performance.now() / 1000;
  }
  get pendingTimers(): number {
    return this.pending;
  }
  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle {
    const handle = new NativeTimer(this, when, callback as (arg: unknown) => void, arg);
    this.pending++;
    return handle;
  }
  cancel(handle: TimerHandle): void {
    if (handle instanceof NativeTimer && handle.pending) {
      clearTimeout(handle.native);
      handle.pending = false;
      this.pending--;
    }
  }
  close(): void {}
  /** @internal */
  fired(): void {
    this.pending--;
  }
}

class NativeTimer implements TimerHandle {
  pending = true;
  readonly native: ReturnType<typeof setTimeout>;
  constructor(
    readonly clock: NativeTimersClock,
    readonly when: number,
    readonly callback: (arg: unknown) => void,
    readonly arg: unknown,
  ) {
    const ms = Math.max(0, Math.ceil((when - clock.now()) * 1000));
    this.native = setTimeout(NativeTimer.fire, ms, this);
  }
  static fire(timer: NativeTimer): void {
    timer.pending = false;
    timer.clock.fired();
    timer.callback(timer.arg);
  }
}

/** Which timer storage a run uses. */
export type TimerStrategy = "heap" | "native" | "raw";

/** What one run measured. */
export interface TimersResult {
  readonly strategy: TimerStrategy;
  readonly count: number;
  /** Wall milliseconds from the first sleep scheduled to the last one woken. */
  readonly ms: number;
  /** The ideal: the longest sleep, in milliseconds. */
  readonly idealMs: number;
  /** Sleeps completed per second. */
  readonly sleepsPerSecond: number;
  /** Sleeps that woke over 1 ms before their deadline (0 for awaitress; raw timers may). */
  readonly early: number;
}

function delays(count: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = random() * 0.05;
  return out;
}

/**
 * Runs `count` concurrent sleeps of 0–50 ms with `strategy`; resolves to what it measured.
 *
 * @example
 * const { ms } = await timersWorkload("heap", 100_000);
 */
export async function timersWorkload(strategy: TimerStrategy, count = 100_000, seed = 1): Promise<TimersResult> {
  const seconds = delays(count, seed);
  let idealMs = 0;
  for (const s of seconds) idealMs = Math.max(idealMs, s * 1000);
  let early = 0;
  let ms: number;
  if (strategy === "raw") {
    const started = performance.now();
    const all: Promise<void>[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const due = started + (seconds[i] as number) * 1000;
      all[i] = new Promise<void>((resolve) => setTimeout(resolve, (seconds[i] as number) * 1000)).then(() => {
        if (performance.now() < due - 1) early++; // Node's timers may round down by under 1 ms
      });
    }
    await Promise.all(all);
    ms = performance.now() - started;
  } else {
    const clock = strategy === "heap" ? new RealClock() : new NativeTimersClock();
    ms = await run(
      async () => {
        const started = performance.now();
        const sleeper = (s: number) => async () => {
          const due = performance.now() + s * 1000;
          await sleep(s);
          if (performance.now() < due - 1) early++;
        };
        const all = new Array(count);
        for (let i = 0; i < count; i++) all[i] = createTask(sleeper(seconds[i] as number));
        await gather(...all);
        return performance.now() - started;
      },
      { clock },
    );
  }
  return { strategy, count, ms, idealMs, sleepsPerSecond: (count / ms) * 1000, early };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
}

async function main(args: string[]): Promise<void> {
  const count = Number(option(args, "count", "100000"));
  const rounds = Number(option(args, "rounds", "7"));
  const strategies: TimerStrategy[] = ["heap", "native", "raw"];
  for (const s of strategies) await timersWorkload(s, Math.min(count, 10_000)); // warm-up
  const times: Record<TimerStrategy, number[]> = { heap: [], native: [], raw: [] };
  const early: Record<TimerStrategy, number> = { heap: 0, native: 0, raw: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const s of strategies) {
      const result = await timersWorkload(s, count, r + 1);
      // Node measures a native timer from the loop's cached time, which can be older than the
      // moment it was set: raw timers may wake early. awaitress's clocks must not.
      if (result.early > 0 && s !== "raw") throw new Error(`${s}: ${result.early} sleeps woke before their deadline`);
      early[s] += result.early;
      times[s].push(result.ms);
      (globalThis as { gc?: () => void }).gc?.();
    }
  }
  console.log(`${count} concurrent sleeps of 0–50 ms, Node ${process.version}, ${rounds} rounds (median, min–max):`);
  const raw = median(times.raw);
  for (const s of strategies) {
    const m = median(times[s]);
    console.log(
      `  ${s.padEnd(6)} ${m.toFixed(1).padStart(7)} ms (${Math.min(...times[s]).toFixed(1)}–${Math.max(...times[s]).toFixed(1)}) ` +
        `= ${(((count / m) * 1000) / 1e6).toFixed(3)} M sleeps/s, ${(m / 50).toFixed(2)}× the ideal 50 ms, ${(m / raw).toFixed(2)}× raw` +
        (early[s] > 0 ? `; ${early[s]} sleeps woke over 1 ms early` : ""),
    );
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await main(process.argv.slice(2));
}
