/**
 * Progress of a pool or a concurrent map: the event they report, and a small terminal progress
 * bar that draws it on a TTY only. Hand-written (about a hundred lines) rather than a dependency:
 * a bar of one line needs no layout engine, and the core keeps no runtime dependencies.
 */
import { checkOptions } from "./checks.js";

/** The counts a pool or `mapConcurrent` reports after each job ends, and once at the end. */
export interface Progress {
  /** Jobs that succeeded. */
  readonly done: number;
  /** Jobs that failed. */
  readonly failed: number;
  /** Jobs running now. */
  readonly inFlight: number;
  /** Items waiting (a pool's queue size; 0 for `mapConcurrent`, which reads lazily). */
  readonly queued: number;
  /** Retries made so far. */
  readonly retried: number;
  /** Items known so far: `done + failed + inFlight + queued`, or an array's length. */
  readonly total: number | undefined;
  /** Jobs ended per second since the start (loop time). */
  readonly rate: number;
  /** Loop seconds since the start. */
  readonly elapsed: number;
  /** True on the last event, when the pool or map has ended. */
  readonly finished: boolean;
}

/** Receives {@link Progress} events. */
export type ProgressListener = (progress: Progress) => void;

/** Where a {@link ProgressBar} draws: `process.stderr` or any stream with the same fields. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** Options of {@link progressBar}. */
export interface ProgressBarOptions {
  /**
   * The stream to draw on.
   *
   * @default process.stderr
   */
  readonly stream?: ProgressStream;
  /** A label before the bar (control characters are escaped). */
  readonly label?: string | undefined;
  /**
   * Draw or not. By default: only when the stream is a TTY, `CI` is not set and `TERM` is not
   * `dumb` — quiet in a pipe, a log file or a CI job.
   */
  readonly enabled?: boolean | undefined;
  /**
   * The least real time between two redraws, in milliseconds (the last event always draws).
   *
   * @default 100
   */
  readonly interval?: number;
}

/**
 * Escapes the C0/C1 control characters and DEL of `text` (`\x1b` → `\\x1b`, a newline →
 * `\\n`), so a URL or a name from outside cannot move the cursor, recolour or clear the
 * terminal. @internal
 */
export function escapeControl(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const mm = String(m % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The bar's text for `p` in `columns` characters (without the carriage return). @internal */
export function formatProgress(p: Progress, label: string, columns: number): string {
  const ended = p.done + p.failed;
  const total = p.total;
  const parts: string[] = [];
  if (total !== undefined && total > 0) {
    parts.push(`${ended}/${total}`, `${Math.floor((100 * ended) / total)}%`);
  } else {
    parts.push(`${ended}`);
  }
  parts.push(`${p.rate.toFixed(1)}/s`);
  if (total !== undefined && !p.finished) {
    parts.push(`ETA ${clock(p.rate > 0 ? (total - ended) / p.rate : Number.POSITIVE_INFINITY)}`);
  } else {
    parts.push(clock(p.elapsed));
  }
  if (p.failed > 0) parts.push(`${p.failed} failed`);
  if (p.retried > 0) parts.push(`${p.retried} retried`);
  const head = label === "" ? "" : `${label} `;
  const tail = ` ${parts.join("  ")}`;
  const room = columns - head.length - tail.length - 2;
  if (room < 5 || total === undefined || total === 0) return `${head}${tail.trimStart()}`.slice(0, columns - 1);
  const width = Math.min(room, 40);
  const filled = Math.min(width, Math.round((width * ended) / total));
  return `${head}[${"#".repeat(filled)}${"-".repeat(width - filled)}]${tail}`;
}

/**
 * A one-line terminal progress bar: `[#####-----] 120/300 40% 12.0/s ETA 00:15 3 failed`.
 * Pass {@link ProgressBar.update} as a pool's or `mapConcurrent`'s `onProgress`. Draws only on
 * a TTY (see {@link ProgressBarOptions.enabled}); elsewhere every call does nothing.
 */
/** `process.stderr`, where there is one (not in a browser: then a stream must be given). */
function standardError(): ProgressStream {
  if (typeof process === "undefined" || process.stderr === undefined) {
    throw new TypeError("progressBar() draws on process.stderr, which is missing here (a browser?): pass { stream }");
  }
  return process.stderr;
}

export class ProgressBar {
  /** Whether the bar draws at all. */
  readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly interval: number;
  private lastDraw = 0;
  private last: Progress | undefined = undefined;
  private drawn = false;

  constructor(options?: ProgressBarOptions) {
    const o = checkOptions<ProgressBarOptions>(options, "progressBar()");
    this.stream = o.stream ?? standardError();
    this.label = escapeControl(o.label ?? "");
    this.interval = o.interval ?? 100;
    const env = typeof process === "undefined" ? {} : process.env;
    this.enabled =
      o.enabled ?? (this.stream.isTTY === true && (env.CI === undefined || env.CI === "") && env.TERM !== "dumb");
  }

  /** Redraws the bar with `p` (at most once per `interval` ms, and always for the last event). */
  readonly update = (p: Progress): void => {
    this.last = p;
    if (!this.enabled) return;
    const now = Date.now();
    if (!p.finished && now - this.lastDraw < this.interval) return;
    this.lastDraw = now;
    this.draw(p);
    if (p.finished) this.close();
  };

  /** Prints `line` above the bar (control characters escaped), then redraws the bar. */
  log(line: string): void {
    if (!this.enabled) return;
    this.clear();
    this.stream.write(`${escapeControl(line)}\n`);
    if (this.last !== undefined) this.draw(this.last);
  }

  /** Ends the bar's line, leaving the last state visible. */
  close(): void {
    if (!this.drawn) return;
    this.stream.write("\n");
    this.drawn = false;
  }

  private draw(p: Progress): void {
    const columns = this.stream.columns ?? 80;
    this.stream.write(`\r${formatProgress(p, this.label, columns)}\x1b[K`);
    this.drawn = true;
  }

  private clear(): void {
    if (this.drawn) this.stream.write("\r\x1b[K");
  }
}

/**
 * Makes a {@link ProgressBar}: give its `update` as `onProgress`.
 *
 * @example
 * import { progressBar, Queue, run, sleep, workerPool } from "awaitress";
 * await run(async () => {
 *   const queue = new Queue<number>();
 *   for (let i = 0; i < 100; i++) queue.putNowait(i);
 *   const bar = progressBar({ label: "jobs" }); // draws on a TTY only
 *   await workerPool(queue, () => sleep(0.1), { workers: 10, stopWhenIdle: true, onProgress: bar.update });
 * }, { clock: "virtual" });
 */
export function progressBar(options?: ProgressBarOptions): ProgressBar {
  return new ProgressBar(options);
}
