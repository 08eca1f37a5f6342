/**
 * `Timers`: the registry of named timings behind `Timer.timers` (codetiming's `Timers`), with
 * statistics per name and a summary table.
 */
import { describe } from "../errors.js";
import { formatValue } from "./format.js";

function checkName(name: unknown): string {
  if (typeof name !== "string") {
    throw new TypeError(`Expected the timer \`name\` to be a string, got ${describe(name)}`);
  }
  return name;
}

/** Arithmetic mean, summing in order (Python's `statistics.mean` is exact; this may differ in the last bit). */
function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Every time a named {@link Timer} stops, it adds its seconds here under its name. Read the sum
 * with `get(name)` and statistics with `count`, `total`, `min`, `max`, `mean`, `median`, `stdev`;
 * print them all with `summary()`.
 *
 * Departures from codetiming: it is not a dict, so there is no `timers[name]`; use
 * `get(name)`. Writing a total directly is not possible (codetiming raises `TypeError` on
 * `timers[name] = x`; here `Timer.timers` is frozen, so assigning a property throws the same
 * `TypeError`): use `add(name, seconds)`, which also records the sample for the statistics.
 * Asking about a name with no timings throws `RangeError` (codetiming's `KeyError`).
 *
 * @example
 * const t = new Timer({ name: "fetch", logger: null });
 * for (let i = 0; i < 3; i++) { t.start(); await sleep(0.5); t.stop(); }
 * Timer.timers.count("fetch"); // 3
 * Timer.timers.total("fetch"); // 1.5 on a virtual clock
 * console.log(Timer.timers.summary());
 */
export class Timers {
  private readonly samples = new Map<string, number[]>();
  private readonly totals = new Map<string, number>();

  /** Records one timing of `seconds` under `name` (codetiming's `Timers.add`). */
  add(name: string, seconds: number): void {
    checkName(name);
    if (typeof seconds !== "number" || Number.isNaN(seconds)) {
      throw new TypeError(`Expected \`seconds\` to be a number, got ${describe(seconds)}`);
    }
    const samples = this.samples.get(name);
    if (samples === undefined) this.samples.set(name, [seconds]);
    else samples.push(seconds);
    this.totals.set(name, (this.totals.get(name) ?? 0) + seconds);
  }

  /** The total seconds recorded under `name` (codetiming's `timers[name]`). Throws `RangeError` if none. */
  get(name: string): number {
    return this.apply(() => this.totals.get(name) as number, name);
  }

  /** True if `name` has timings (codetiming's `name in timers`). */
  has(name: string): boolean {
    return this.samples.has(name);
  }

  /** Number of names with timings. */
  get size(): number {
    return this.samples.size;
  }

  /** The names with timings, in the order they were first recorded. */
  names(): string[] {
    return [...this.samples.keys()];
  }

  /** `[name, total]` pairs, as iterating codetiming's dict items. */
  *[Symbol.iterator](): IterableIterator<[string, number]> {
    yield* this.totals;
  }

  /** Forgets every timing (codetiming's `clear`). Timers keep recording afterwards. */
  clear(): void {
    this.samples.clear();
    this.totals.clear();
  }

  /**
   * Applies `fn` to the list of timings of `name` (codetiming's `apply`). Throws `RangeError`
   * if `name` has none.
   */
  apply<R>(fn: (values: readonly number[]) => R, name: string): R {
    checkName(name);
    const values = this.samples.get(name);
    if (values === undefined) {
      const known = this.names();
      throw new RangeError(
        `No timings recorded for timer "${name}": a Timer with that name records when it stops${
          known.length > 0 ? ` (timers with timings: ${known.map((n) => `"${n}"`).join(", ")})` : ""
        }`,
      );
    }
    return fn(values);
  }

  /** Number of timings of `name`. */
  count(name: string): number {
    return this.apply((values) => values.length, name);
  }

  /** Sum of the timings of `name`, in seconds. */
  total(name: string): number {
    return this.apply((values) => {
      let sum = 0;
      for (const v of values) sum += v;
      return sum;
    }, name);
  }

  /** Shortest timing of `name`. */
  min(name: string): number {
    return this.apply((values) => {
      let min = Number.POSITIVE_INFINITY;
      for (const v of values) if (v < min) min = v;
      return min;
    }, name);
  }

  /** Longest timing of `name`. */
  max(name: string): number {
    return this.apply((values) => {
      let max = Number.NEGATIVE_INFINITY;
      for (const v of values) if (v > max) max = v;
      return max;
    }, name);
  }

  /** Mean of the timings of `name`. */
  mean(name: string): number {
    return this.apply(mean, name);
  }

  /** Median of the timings of `name` (the mean of the two middle ones for an even count). */
  median(name: string): number {
    return this.apply((values) => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      if (sorted.length % 2 === 1) return sorted[mid] as number;
      return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    }, name);
  }

  /** Sample standard deviation of the timings of `name`; `NaN` with fewer than two. */
  stdev(name: string): number {
    return this.apply((values) => {
      if (values.length < 2) return Number.NaN;
      const m = mean(values);
      let squares = 0;
      for (const v of values) squares += (v - m) * (v - m);
      return Math.sqrt(squares / (values.length - 1));
    }, name);
  }

  /**
   * A table of every named timer: name, count, total, mean, min, max and stdev, in seconds
   * with `digits` decimals (default 4), one row per name in the order first recorded. An empty
   * registry gives `"(no timings)"`.
   *
   * @example
   * console.log(Timer.timers.summary());
   * // name      count    total     mean      min      max   stdev
   * // Task One      2  17.0000   8.5000   2.0000  15.0000  9.1924
   * // Task Two      1  10.0000  10.0000  10.0000  10.0000       -
   */
  summary(digits = 4): string {
    if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
      throw new RangeError(`Expected \`digits\` to be an integer from 0 to 20, got ${describe(digits)}`);
    }
    if (this.samples.size === 0) return "(no timings)";
    const header = ["name", "count", "total", "mean", "min", "max", "stdev"];
    const spec = `.${digits}f`;
    const rows = this.names().map((name) => {
      const stdev = this.stdev(name);
      return [
        name,
        String(this.count(name)),
        formatValue(this.total(name), spec),
        formatValue(this.mean(name), spec),
        formatValue(this.min(name), spec),
        formatValue(this.max(name), spec),
        Number.isNaN(stdev) ? "-" : formatValue(stdev, spec),
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    const line = (cells: string[]): string =>
      cells
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
        .join("  ")
        .trimEnd();
    return [line(header), ...rows.map(line)].join("\n");
  }
}
