/**
 * codetiming's `Timer` on the loop's clock: time code with `start()`/`stop()`, a `using` scope,
 * or by wrapping a function; on a virtual clock the figures are exact.
 */
import type { Clock } from "../clock/clock.js";
import { Future } from "../core/future.js";
import { getRunningLoop } from "../core/loop.js";
import { describe, TimerError } from "../errors.js";
import { isThenable } from "../internal/thenable.js";
import { formatTemplate } from "./format.js";
import { Timers } from "./registry.js";

/**
 * What a {@link Timer} prints when it stops: a Python `str.format` template, a function of the
 * elapsed seconds, or a class constructed with them (see {@link TimerOptions.text}).
 */
export type TimerText = string | ((seconds: number) => unknown) | (new (seconds: number) => unknown);

/** Options of {@link Timer}. */
export interface TimerOptions {
  /**
   * The timer's name: each stop adds the elapsed seconds to `Timer.timers` under it, and
   * templates can print it as `{name}`. Unnamed timers record nothing (`{name}` prints `None`,
   * as in Python).
   * @default undefined
   */
  name?: string | undefined;
  /**
   * What to print when the timer stops. A string is a Python `str.format` template filled as
   * `text.format(seconds, name=..., milliseconds=..., seconds=..., minutes=...)`: `{}` or
   * `{:.1f}` is the elapsed seconds, `{name}`, `{milliseconds:.0f}`, `{seconds:.2f}` and
   * `{minutes:.1f}` the named fields, with Python's whole format-spec mini-language
   * (see `formatValue`).
   *
   * A function is called with the seconds and its result printed with `String(...)`. A class
   * (codetiming accepts one) is constructed with `new text(seconds)` and then stringified. The
   * rule that tells them apart: `text` is constructed when it is a `class` or when its
   * `prototype` defines its own `toString`; any other function is called.
   * @default "Elapsed time: {:0.4f} seconds"
   */
  text?: TimerText;
  /**
   * Receives the text when the timer stops (and the initial text when it starts); `null`
   * prints nothing.
   * @default console.log
   */
  logger?: ((message: string) => void) | null;
  /**
   * Printed when the timer starts: `true` prints "Timer started" (or "Timer <name> started");
   * a string is a template filled with `{name}`.
   * @default false
   */
  initialText?: boolean | string;
}

const DEFAULT_TEXT = "Elapsed time: {:0.4f} seconds";

function defaultLogger(message: string): void {
  console.log(message);
}

/** The rule of {@link TimerOptions.text}: classes, and functions whose prototype has its own toString. */
function isConstructedText(text: Function): boolean {
  const prototype = (text as { prototype?: unknown }).prototype;
  if (typeof prototype !== "object" || prototype === null) return false; // arrows, methods
  if (Object.hasOwn(prototype, "toString")) return true;
  return /^class[\s{]/.test(Function.prototype.toString.call(text));
}

function checkOptions(options: unknown): TimerOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected the Timer options to be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  if (o.name !== undefined && typeof o.name !== "string") {
    throw new TypeError(`Expected the timer \`name\` to be a string, got ${describe(o.name)}`);
  }
  if (o.text !== undefined && typeof o.text !== "string" && typeof o.text !== "function") {
    throw new TypeError(`Expected \`text\` to be a template string or a function, got ${describe(o.text)}`);
  }
  if (o.logger !== undefined && o.logger !== null && typeof o.logger !== "function") {
    throw new TypeError(`Expected \`logger\` to be a function or null, got ${describe(o.logger)}`);
  }
  if (o.initialText !== undefined && typeof o.initialText !== "boolean" && typeof o.initialText !== "string") {
    throw new TypeError(
      `Expected \`initialText\` to be a boolean or a template string, got ${describe(o.initialText)}`,
    );
  }
  return o as TimerOptions;
}

/**
 * Times code and prints how long it took (codetiming's `Timer`), on the running loop's clock:
 * a virtual clock gives exact figures, and outside any loop it reads `performance.now()`.
 *
 * Three ways to use it, as in codetiming:
 * - explicitly: `timer.start()` … `timer.stop()` (which returns the seconds);
 * - as a scope: `using timer = new Timer(options).start();` stops it (and prints) when the
 *   block ends (`[Symbol.dispose]` is `stop()`);
 * - as a wrapper: `timer.wrap(fn)` returns `fn` with every call timed; an async function's call
 *   is timed until its promise settles. Calls may overlap (tasks running the same function at
 *   once): each is timed on its own, where codetiming's decorator would raise.
 *
 * A named timer adds every timing to {@link Timer.timers}. `start()` on a running timer and
 * `stop()` on a stopped one throw {@link TimerError}.
 *
 * @example
 * const timer = new Timer({ text: "Task {name} elapsed time: {:.1f}", name: "One" });
 * timer.start();
 * await sleep(15);
 * timer.stop(); // prints "Task One elapsed time: 15.0" on a virtual clock; returns 15
 *
 * @example
 * async function main() {
 *   using _ = new Timer({ text: "\nTotal elapsed time: {:.1f}" }).start();
 *   await gather(sleep(1), sleep(2)); // the work being timed
 * } // prints "Total elapsed time: 2.0" (on a virtual clock) when main's block ends
 */
export class Timer implements Disposable {
  /**
   * The registry every named timer adds to, shared by all timers (codetiming's class-level
   * `Timer.timers`). Frozen: it cannot be replaced, and totals change only through `add()`.
   */
  static readonly timers: Timers = Object.freeze(new Timers()) as Timers;

  /** The timer's name (see {@link TimerOptions.name}). */
  name: string | undefined;
  /** What is printed on stop (see {@link TimerOptions.text}). */
  text: TimerText;
  /** Where the texts go; `null` for nowhere. */
  logger: ((message: string) => void) | null;
  /** What is printed on start (see {@link TimerOptions.initialText}). */
  initialText: boolean | string;
  /** Seconds measured by the last `stop()` (or the last wrapped call); `NaN` before. */
  last = Number.NaN;
  private startedAt = 0;
  private clock: Clock | undefined = undefined;

  constructor(options?: TimerOptions) {
    const o = checkOptions(options);
    this.name = o.name;
    this.text = o.text ?? DEFAULT_TEXT;
    this.logger = o.logger === undefined ? defaultLogger : o.logger;
    this.initialText = o.initialText ?? false;
    // A bad template fails here, where it is written, not at the first stop() (codetiming's
    // KeyError/ValueError come only then): fill both templates once with sample values.
    if (typeof this.text === "string") this.render(0);
    if (typeof this.initialText === "string") formatTemplate(this.initialText, [], { name: this.name });
  }

  /** True between `start()` and `stop()`. */
  get running(): boolean {
    return this.clock !== undefined;
  }

  /**
   * Starts timing on the running loop's clock and prints the initial text, if any. Returns the
   * timer, so `using t = new Timer().start()` works. Throws {@link TimerError} if it is running.
   */
  start(): this {
    if (this.clock !== undefined) throw new TimerError("Timer is running. Use .stop() to stop it");
    this.announce();
    const clock = getRunningLoop().clock;
    this.clock = clock;
    this.startedAt = clock.now();
    return this;
  }

  /**
   * Stops timing, prints the text through the logger, adds the time to `Timer.timers` if the
   * timer is named, and returns the elapsed seconds. Throws {@link TimerError} if it is not
   * running.
   */
  stop(): number {
    const clock = this.clock;
    if (clock === undefined) throw new TimerError("Timer is not running. Use .start() to start it");
    const elapsed = clock.now() - this.startedAt;
    this.clock = undefined;
    this.record(elapsed);
    return elapsed;
  }

  /** Stops the timer at the end of a `using` block (codetiming's `__exit__`). */
  [Symbol.dispose](): void {
    this.stop();
  }

  /**
   * Returns `fn` with every call timed: the initial text when it starts, the text when it
   * returns or throws, or, when it returns a promise (an `async` function), when that promise
   * settles. Each call is measured on its own, so overlapping calls are fine; each one sets
   * {@link Timer.last} and, for a named timer, adds to `Timer.timers`.
   *
   * @example
   * const fetchPage = new Timer({ name: "fetch", text: "fetched in {:.2f} s" }).wrap(async (url: string) => {
   *   await sleep(0.25);
   *   return `<html>${url}</html>`;
   * });
   * await fetchPage("/a"); // prints "fetched in 0.25 s" on a virtual clock
   */
  wrap<This, A extends unknown[], R>(fn: (this: This, ...args: A) => R): (this: This, ...args: A) => R {
    if (typeof fn !== "function") {
      throw new TypeError(`Timer.wrap expects a function to time, got ${describe(fn)}`);
    }
    const timer = this;
    return function timed(this: This, ...args: A): R {
      timer.announce();
      const clock = getRunningLoop().clock;
      const startedAt = clock.now();
      let result: R;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        timer.record(clock.now() - startedAt);
        throw error;
      }
      if (result instanceof Future) {
        // A task or future: stop when it is done, without awaiting it (which would suspend us).
        result._onDone(() => timer.record(clock.now() - startedAt));
        return result;
      }
      if (isThenable(result)) {
        return result.then(
          (value) => {
            timer.record(clock.now() - startedAt);
            return value;
          },
          (error: unknown) => {
            timer.record(clock.now() - startedAt);
            throw error;
          },
        ) as R;
      }
      timer.record(clock.now() - startedAt);
      return result;
    };
  }

  /** Prints the initial text, if there is one and a logger. */
  private announce(): void {
    const logger = this.logger;
    const initial = this.initialText;
    if (logger === null || initial === false || initial === "") return;
    let message: string;
    if (typeof initial === "string") message = formatTemplate(initial, [], { name: this.name });
    else message = this.name ? `Timer ${this.name} started` : "Timer started";
    logger(message);
  }

  /** codetiming's end of `stop()`: sets `last`, prints the text, adds to the registry. */
  private record(elapsed: number): void {
    this.last = elapsed;
    const logger = this.logger;
    if (logger !== null) logger(this.render(elapsed));
    if (this.name) Timer.timers.add(this.name, elapsed);
  }

  private render(elapsed: number): string {
    const text = this.text;
    if (typeof text === "string") {
      return formatTemplate(text, [elapsed], {
        name: this.name,
        milliseconds: elapsed * 1000,
        seconds: elapsed,
        minutes: elapsed / 60,
      });
    }
    if (isConstructedText(text)) return String(new (text as new (seconds: number) => unknown)(elapsed));
    return String((text as (seconds: number) => unknown)(elapsed));
  }
}

// `Timer.timers = other` throws in strict code, like assigning to the registry's entries.
Object.defineProperty(Timer, "timers", { writable: false, configurable: false });
