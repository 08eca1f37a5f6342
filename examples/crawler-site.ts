/**
 * The local web site the crawler examples crawl: `pages` pages on 127.0.0.1 (a free port), each
 * linking to a few others. Some answer too slowly (past any sane timeout), some link to pages
 * that do not exist (404), some fail with a 503 on their first request and work on the next
 * (what retries are for). The server logs every request it receives, with its arrival time and
 * how long the client kept the connection, so a test can check the crawler's limits from the
 * server's side.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Options of {@link startSite}. */
export interface SiteOptions {
  /** Number of pages, `/p/0` to `/p/<pages - 1>`. */
  pages?: number | undefined;
  /** Seconds a slow page takes to answer. */
  slowSeconds?: number | undefined;
  /** Seconds an ordinary page takes (each page a fixed fraction of it). */
  pageSeconds?: number | undefined;
}

/** A request as the server saw it: when it arrived and when its connection ended (seconds). */
export interface Hit {
  readonly path: string;
  readonly arrived: number;
  ended: number;
  status: number;
}

/** A running site: its base URL, its request log, and `close()`. */
export interface Site {
  readonly base: string;
  readonly hits: Hit[];
  /** Pages that answer after `slowSeconds`. */
  readonly slow: ReadonlySet<string>;
  /** Pages that fail with 503 on their first request. */
  readonly flaky: ReadonlySet<string>;
  close(): Promise<void>;
}

/** Whether page `i` is slow, flaky, or links to a missing page (fixed by its number). */
const isSlow = (i: number) => i % 37 === 11;
const isFlaky = (i: number) => i % 10 === 7;
const hasDeadLink = (i: number) => i % 25 === 3;

function links(i: number, pages: number): string[] {
  const out = [2 * i + 1, 2 * i + 2, i + 1].filter((j) => j < pages).map((j) => `/p/${j}`);
  if (hasDeadLink(i)) out.push(`/gone/${i}`);
  return out;
}

/** Starts the site; resolves once it listens. */
export async function startSite(options: SiteOptions = {}): Promise<Site> {
  const { pages = 300, slowSeconds = 3, pageSeconds = 0.02 } = options;
  const hits: Hit[] = [];
  const served = new Set<string>();
  const t0 = performance.now();
  const now = () => (performance.now() - t0) / 1000;
  const slow = new Set<string>();
  const flaky = new Set<string>();
  for (let i = 0; i < pages; i++) {
    if (isSlow(i)) slow.add(`/p/${i}`);
    else if (isFlaky(i)) flaky.add(`/p/${i}`);
  }
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    const hit: Hit = { path, arrived: now(), ended: Number.NaN, status: 0 };
    hits.push(hit);
    // Ended when the answer was written, or when the client hung up first (an aborted fetch).
    const end = () => {
      if (Number.isNaN(hit.ended)) hit.ended = now();
      clearTimeout(timer);
    };
    res.on("finish", end);
    res.on("close", end);
    const match = /^\/p\/(\d+)$/.exec(path === "/" ? "/p/0" : path);
    const i = match === null ? -1 : Number(match[1]);
    const answer = (status: number, body: string) => {
      hit.status = status;
      res.writeHead(status, { "content-type": "text/html" }).end(body);
    };
    const delay = i < 0 ? 0 : slow.has(`/p/${i}`) ? slowSeconds : pageSeconds * (0.5 + (i % 5) / 8);
    const timer = setTimeout(() => {
      if (i < 0 || i >= pages) return answer(404, "not found");
      if (flaky.has(path) && !served.has(path)) {
        served.add(path);
        return answer(503, "try again");
      }
      answer(
        200,
        links(i, pages)
          .map((l) => `<a href="${l}">${l}</a>`)
          .join("\n"),
      );
    }, delay * 1000);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    slow,
    flaky,
    close: async () => {
      // A request still open now was held open until now: say so in its `ended`.
      const at = now();
      for (const hit of hits) if (Number.isNaN(hit.ended)) hit.ended = at;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
