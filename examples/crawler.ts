/**
 * A crawler-shaped worker pool: workers take URLs from a queue, fetch each under a deadline,
 * share a rate limit, and put the links they find back on the queue. `queue.join()` tells when
 * every URL has been handled; the workers are then cancelled (asyncio's worker-pool pattern).
 *
 * The "site" is simulated with sleeps, so on the virtual clock the crawl prints the same log on
 * every run, instantly. Put a real `fetch(url, { signal: currentTask()?.signal })` in
 * `fetchPage` and run with `--real` to crawl for real.
 *
 *   npx tsx examples/crawler.ts
 *   npx tsx examples/crawler.ts --real
 */
import { pathToFileURL } from "node:url";
import {
  createTask,
  formatValue,
  gather,
  isCancelled,
  Queue,
  run,
  sleep,
  TimeoutError,
  Timer,
  time,
  timeout,
} from "../src/index.js";

export interface Page {
  readonly url: string;
  readonly links: readonly string[];
}

/** The simulated site: how long each page takes to answer, and its links. */
const SITE: Readonly<Record<string, { seconds: number; links: string[] }>> = {
  "/": { seconds: 0.3, links: ["/docs", "/blog", "/about"] },
  "/docs": { seconds: 0.5, links: ["/docs/tasks", "/docs/queues", "/docs/time"] },
  "/blog": { seconds: 0.4, links: ["/blog/2025", "/blog/2026"] },
  "/about": { seconds: 0.2, links: ["/"] },
  "/docs/tasks": { seconds: 0.6, links: ["/docs/queues", "/docs/cancellation"] },
  "/docs/queues": { seconds: 0.3, links: [] },
  "/docs/time": { seconds: 9, links: [] }, // never answers in time
  "/docs/cancellation": { seconds: 0.4, links: ["/docs/time"] },
  "/blog/2025": { seconds: 0.1, links: ["/blog/2024"] }, // links to a page that is gone
  "/blog/2026": { seconds: 0.2, links: [] },
};

/** Fetches a page of the simulated site (an HTTP 404 for unknown paths). */
async function fetchPage(url: string): Promise<Page> {
  const page = SITE[url];
  await sleep(page?.seconds ?? 0.05);
  if (page === undefined) throw new Error(`404 Not Found: ${url}`);
  return { url, links: page.links };
}

/** At most `perSecond` requests start per second, across every worker that shares it. */
export class RateLimiter {
  private next = 0;
  constructor(readonly perSecond: number) {}

  /** Waits for the next free slot: requests start at least `1 / perSecond` seconds apart. */
  async acquire(): Promise<void> {
    const now = time();
    const slot = Math.max(now, this.next);
    this.next = slot + 1 / this.perSecond;
    if (slot > now) await sleep(slot - now);
  }
}

/** Options of {@link crawl}. */
export interface CrawlOptions {
  /** Number of workers. */
  workers?: number;
  /** Requests per second, for all workers together. */
  perSecond?: number;
  /** Seconds a page may take before it is given up. */
  deadline?: number;
  log?: (line: string) => void;
  /**
   * How a page is fetched: the simulated site by default; pass one built on `fetch` to crawl for
   * real (the tests pass one that waits on a plain `setTimeout` promise, as `fetch` would).
   */
  fetch?: (url: string) => Promise<Page>;
}

/** What happened to each URL: the links found, or why it failed. */
export type Outcome = { url: string; links: number } | { url: string; error: string };

function stamp(): string {
  return `[${formatValue(time(), "5.2f")}s]`;
}

/** Crawls from `start`; resolves once every reachable URL was fetched or gave up. */
export async function crawl(start: string, options: CrawlOptions = {}): Promise<Outcome[]> {
  const { workers = 3, perSecond = 4, deadline = 2, log = console.log, fetch = fetchPage } = options;
  const queue = new Queue<string>();
  const seen = new Set([start]);
  const limiter = new RateLimiter(perSecond);
  const outcomes: Outcome[] = [];
  // Every fetch is timed, timeouts included; the summary is printed at the end.
  const timedFetch = new Timer({ name: "fetch", logger: null }).wrap(fetch);

  async function worker(name: string): Promise<never> {
    for (;;) {
      const url = await queue.get();
      try {
        await limiter.acquire();
        log(`${stamp()} ${name} GET ${url}`);
        // A deadline per job; `waitFor(timedFetch(url), deadline)` does the same.
        const page = await timeout(deadline, () => timedFetch(url));
        for (const link of page.links) {
          if (seen.has(link)) continue;
          seen.add(link);
          queue.putNowait(link);
        }
        log(`${stamp()} ${name} got ${url}: ${page.links.length} link${page.links.length === 1 ? "" : "s"}`);
        outcomes.push({ url, links: page.links.length });
      } catch (error) {
        if (isCancelled(error)) throw error; // let cancellation through
        const why = error instanceof TimeoutError ? `no answer within ${deadline}s` : String(error);
        log(`${stamp()} ${name} gave up ${url}: ${why}`);
        outcomes.push({ url, error: why });
      } finally {
        queue.taskDone();
      }
    }
  }

  queue.putNowait(start);
  const pool = Array.from({ length: workers }, (_, i) =>
    createTask(() => worker(`worker ${i + 1}`), { name: `worker ${i + 1}` }),
  );
  await queue.join(); // every URL taken was marked done
  for (const task of pool) task.cancel();
  await gather(...pool, { returnExceptions: true });
  return outcomes;
}

/** Crawls the simulated site from "/" and prints the log, the failures and the fetch timings. */
export async function main(options: { real?: boolean; log?: (line: string) => void } = {}): Promise<void> {
  const log = options.log ?? console.log;
  Timer.timers.clear();
  const outcomes = await run(() => crawl("/", { log }), { clock: options.real === true ? "real" : "virtual" });
  const failed = outcomes.filter((o) => "error" in o).length;
  log(`\n${outcomes.length} URLs, ${failed} failed`);
  log(Timer.timers.summary(2));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await main({ real: process.argv.includes("--real") });
}
