/**
 * The crawler of examples/crawler.ts written on p-queue, with a hand-written retry (p-retry is not
 * installed), for the comparison in the toolkit's notes: lines of code, and whether any request
 * outlives its timeout. Same site (examples/crawler-site.ts), same limits.
 *
 *   npx tsx bench/crawler-p-queue.ts        # prints the same three lines as the awaitress crawler
 */
import { pathToFileURL } from "node:url";
import PQueue from "p-queue";
import { HttpError } from "../examples/crawler.js";
import { startSite } from "../examples/crawler-site.js";

/** Options of {@link crawl}. */
export interface CrawlOptions {
  workers?: number | undefined;
  rate?: number | undefined;
  timeout?: number | undefined;
  onRequest?: ((seconds: number) => void) | undefined;
}

// --- the crawler (counted) ---
export async function crawl(base: string, options: CrawlOptions = {}) {
  const { workers = 8, rate = 100, timeout = 1, onRequest } = options;
  const queue = new PQueue({ concurrency: workers, intervalCap: 1, interval: 1000 / rate });
  const seen = new Set(["/"]);
  const failed: { path: string; error: unknown }[] = [];
  let done = 0;
  let retried = 0;
  const get = async (path: string, signal: AbortSignal | undefined) => {
    const started = performance.now();
    try {
      const deadline = AbortSignal.timeout(timeout * 1000);
      const response = await fetch(base + path, { signal: signal ? AbortSignal.any([signal, deadline]) : deadline });
      if (!response.ok) throw new HttpError(response.status, path);
      return await response.text();
    } finally {
      onRequest?.((performance.now() - started) / 1000);
    }
  };
  const visit = (path: string) =>
    queue.add(async ({ signal }) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const html = await get(path, signal);
          for (const [, link] of html.matchAll(/href="([^"]+)"/g)) {
            if (link !== undefined && !seen.has(link)) seen.add(link) && void visit(link);
          }
          return void done++;
        } catch (error) {
          if (attempt === 3 || !(error instanceof HttpError && error.status >= 500))
            return void failed.push({ path, error });
          retried++;
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** (attempt - 1)));
        }
      }
    });
  void visit("/");
  await queue.onIdle();
  return { done, failed, retried };
}
// --- end of the crawler ---

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const site = await startSite({});
  let slowest = 0;
  const t0 = performance.now();
  const summary = await crawl(site.base, { onRequest: (s) => (slowest = Math.max(slowest, s)) });
  const timeouts = summary.failed.filter((f) => f.error instanceof DOMException && f.error.name === "TimeoutError");
  const notFound = summary.failed.filter((f) => f.error instanceof HttpError && f.error.status === 404);
  console.log(
    `${summary.done} pages crawled in ${((performance.now() - t0) / 1000).toFixed(2)}s, ${summary.retried} retried`,
  );
  console.log(`${summary.failed.length} failed: ${timeouts.length} timed out, ${notFound.length} not found`);
  console.log(`slowest request: ${slowest.toFixed(3)}s (timeout 1s)`);
  const late = site.hits.filter((h) => h.ended - h.arrived > 1.05).length;
  console.log(`server side: ${site.hits.length} requests, ${late} held open past 1.05 s`);
  await site.close();
}
