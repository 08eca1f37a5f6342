/**
 * A web crawler on the work-queue toolkit: a worker pool drains a queue of paths, each request
 * under a deadline, retried on a 503, all sharing one rate limit; the links found go back on the
 * queue, and the pool stops by itself once every path put on it is done. A progress bar shows
 * it on a terminal. It crawls a local site it starts itself (examples/crawler-site.ts): slow
 * pages, dead links and flaky pages included.
 *
 *   npx tsx examples/crawler.ts
 *   npx tsx examples/crawler.ts --pages 1000 --workers 16 --rate 200
 */

import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { progressBar, Queue, RateLimiter, type RetryError, run, TimeoutError, workerPool } from "awaitress";
import { type SiteOptions, startSite } from "./crawler-site.js";

/** An HTTP answer other than 2xx. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`HTTP ${status} for ${path}`);
  }
}

/** Options of {@link crawl}. */
export interface CrawlOptions {
  workers?: number | undefined;
  /** Requests per second, all workers together. */
  rate?: number | undefined;
  /** Seconds a request may take. */
  timeout?: number | undefined;
  /** Draw a progress bar (on a TTY only). */
  progress?: boolean | undefined;
  /** Called with the duration of every request, in seconds (a test checks the deadline). */
  onRequest?: ((seconds: number) => void) | undefined;
}

/** Crawls `base` from "/"; resolves to the pool's summary. */
export async function crawl(base: string, options: CrawlOptions = {}) {
  const { workers = 8, rate = 100, timeout = 1, progress = true, onRequest } = options;
  const queue = new Queue<string>();
  const seen = new Set(["/"]);
  queue.putNowait("/");
  const bar = progressBar({ label: "crawl", enabled: progress ? undefined : false });
  return await workerPool(
    queue,
    async (path, { signal }) => {
      const started = performance.now();
      try {
        const response = await fetch(base + path, { signal });
        if (!response.ok) throw new HttpError(response.status, path);
        for (const [, link] of (await response.text()).matchAll(/href="([^"]+)"/g)) {
          if (link !== undefined && !seen.has(link)) seen.add(link) && queue.putNowait(link);
        }
      } finally {
        onRequest?.((performance.now() - started) / 1000);
      }
    },
    {
      workers,
      timeout,
      rateLimit: new RateLimiter({ rate, burst: 1 }),
      retry: { attempts: 3, backoff: { initial: 0.05 }, retryIf: ({ error }) => (error as HttpError).status >= 500 },
      stopWhenIdle: true,
      onProgress: bar.update,
    },
  );
}

/** Starts the site, crawls it, prints what happened; returns the lines it printed. */
export async function main(options: CrawlOptions & SiteOptions & { log?: (line: string) => void } = {}) {
  const site = await startSite(options);
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    (options.log ?? console.log)(line);
  };
  let slowest = 0;
  try {
    const summary = await run(() =>
      crawl(site.base, {
        ...options,
        onRequest: (s) => {
          slowest = Math.max(slowest, s);
        },
      }),
    );
    const causes = summary.failed.map((f) => (f.error as RetryError).cause);
    const timeouts = causes.filter((e) => e instanceof TimeoutError);
    const notFound = causes.filter((e) => e instanceof HttpError && e.status === 404);
    log(`${summary.done} pages crawled in ${summary.elapsed.toFixed(2)}s, ${summary.retried} retried`);
    log(`${summary.failed.length} failed: ${timeouts.length} timed out, ${notFound.length} not found`);
    log(`slowest request: ${slowest.toFixed(3)}s (timeout ${options.timeout ?? 1}s)`);
    return { summary, lines, site, slowest };
  } finally {
    await site.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseArgs({
    options: {
      pages: { type: "string" },
      workers: { type: "string" },
      rate: { type: "string" },
      timeout: { type: "string" },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  await main({
    pages: num(values.pages),
    workers: num(values.workers),
    rate: num(values.rate),
    timeout: num(values.timeout),
  });
}
