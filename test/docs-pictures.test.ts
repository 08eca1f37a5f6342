// The pictures of docs/tracing.md, taken in headless Chromium (as docs/timeline-seed.png is, by
// html-browser.test.ts): the crawler waiting on a real `fetch`, a blocking step caught in debug
// mode, and `awaitress ps` on a running server. Each page must render with no page errors.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { crawl } from "../examples/crawler.js";
import { startSite } from "../examples/crawler-site.js";
import { run, sleep } from "../src/node.js";
import { htmlTimeline, Recorder, terminalTimeline } from "../src/trace/index.js";

const ROOT = resolve(import.meta.dirname, "..");
const DOCS = join(ROOT, "docs");
const CHROMIUM = "/usr/bin/chromium";
const skip = !existsSync(CHROMIUM) && !process.env.CI;
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** Opens `html` in Chromium, checks it has no page errors, and saves a screenshot to docs/`png`. */
async function shoot(html: string, png: string, size = { width: 1100, height: 480 }): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), "awaitress-docs-")), "page.html");
  writeFileSync(file, html);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage({ viewport: size });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    await page.waitForLoadState("load");
    await page.screenshot({ path: join(DOCS, png), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
}

/** A terminal's text as a page (for the pictures of command-line output). */
function terminalPage(title: string, text: string): string {
  const escaped = text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>
body { margin: 0; background: #1d2330; }
pre { margin: 0; padding: 16px 20px; color: #e9ecef; font: 13px/1.45 "DejaVu Sans Mono", monospace; white-space: pre-wrap; }
</style></head><body><pre>${escaped}</pre></body></html>`;
}

describe.skipIf(skip)("the pictures of docs/tracing.md", () => {
  it("the crawler, its workers waiting on a real fetch (docs/timeline-crawler.png)", async () => {
    // A small local site: each page answers after a delay, with its links.
    // The crawler example on its own local site: every request a real fetch.
    const site = await startSite({ pages: 24, slowSeconds: 0.4, pageSeconds: 0.08 });
    const recorder = new Recorder();
    try {
      await run(() => crawl(site.base, { workers: 3, rate: 100, timeout: 0.25, progress: false }), {
        trace: recorder,
      });
    } finally {
      await site.close();
    }
    const html = htmlTimeline(recorder.events, { title: "The crawler: three workers waiting on fetch" });
    expect(html).toContain('"label":"a foreign promise"');
    await shoot(html, "timeline-crawler.png", { width: 1100, height: 360 });
  });

  it("a blocking step caught in debug mode (docs/debug-blocking.png)", async () => {
    const reports: string[] = [];
    const recorder = new Recorder();
    await run(
      async () => {
        await sleep(0.02);
        const until = performance.now() + 150;
        while (performance.now() < until) {
          // parse a huge JSON file, synchronously
        }
        await sleep(0.02);
      },
      {
        debug: true,
        trace: recorder,
        blockedThreshold: 0.05,
        onError: (context) => {
          reports.push(`awaitress: ${context.message}`);
        },
      },
    );
    expect(reports.some((r) => /took 0\.1\d+ seconds/.test(r))).toBe(true);
    const text = `$ AWAITRESS_DEBUG=1 node app.js\n${reports.join("\n")}\n\n${terminalTimeline(recorder.events, { width: 110, color: false })}`;
    await shoot(terminalPage("debug mode: a blocking step", text), "debug-blocking.png", { width: 980, height: 260 });
  });

  it("awaitress ps and pstree on a running server (docs/ps-server.png)", async () => {
    const port = await new Promise<number>((done) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const a = s.address();
        s.close(() => done(typeof a === "object" && a !== null ? a.port : 0));
      });
    });
    const server = spawn(
      process.execPath,
      ["--import", "tsx", `--inspect-port=${port}`, "test/fixtures/ps-server.ts"],
      {
        cwd: ROOT,
        env: { ...process.env, AWAITRESS_DEBUG: "1" },
      },
    );
    children.push(server);
    await new Promise<void>((done) => {
      server.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) done();
      });
    });
    const cli = (command: string) =>
      promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", command, "--port", String(port), String(server.pid)],
        { cwd: ROOT },
      );
    const ps = await cli("ps");
    await new Promise((r) => setTimeout(r, 200));
    const tree = await cli("pstree");
    expect(ps.stdout).toContain("queue.get jobs");
    const text = `$ awaitress ps ${server.pid}\n${ps.stdout}\n$ awaitress pstree ${server.pid}\n${tree.stdout}`;
    await shoot(terminalPage("awaitress ps", text), "ps-server.png", { width: 980, height: 300 });
  });
});
