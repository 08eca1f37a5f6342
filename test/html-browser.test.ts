import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { htmlTimeline } from "../src/trace/index.js";
import { recordSeed } from "./trace-seed.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
// Skipped only on a developer's machine without Chromium; in CI (.ci/run installs it) it must run.
const skip = !available && !process.env.CI;
const screenshot = join(dirname(fileURLToPath(import.meta.url)), "..", "docs", "timeline-seed.png");

describe.skipIf(skip)("the HTML timeline in a real headless Chromium", () => {
  it("shows the seed's lanes and labels, details on hover, and zooms", async () => {
    const html = htmlTimeline(await recordSeed(), { title: "The seed: two workers, one queue" });
    const file = join(mkdtempSync(join(tmpdir(), "awaitress-html-")), "seed.html");
    writeFileSync(file, html);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 420 } });
      const requests: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("file:")) requests.push(r.url());
      });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector("svg#timeline");

      // The waiter's lane (the loop itself), then one lane per task, in creation order.
      const lanes = await page.$$eval("svg .lane", (gs) => gs.map((g) => g.getAttribute("data-task")));
      expect(lanes).toEqual(["waiter (the loop)", "main", "One", "Two"]);
      const labels = await page.$$eval("svg .lane-label", (ts) => ts.map((t) => t.textContent));
      expect(labels).toEqual(["waiter (the loop)", "main", "One", "Two"]);
      const idle = await page.$$eval(`svg .lane[data-id="0"] rect.seg.wait`, (rs) =>
        rs.map((r) => r.getAttribute("data-label")),
      );
      expect(idle).toEqual(["idle", "idle", "idle"]);

      // The waits, labelled with what each task waited on, in order.
      const waits = (task: string) =>
        page.$$eval(`svg .lane[data-task="${task}"] rect.seg.wait`, (rs) =>
          rs.map((r) => r.getAttribute("data-label")),
        );
      expect(await waits("One")).toEqual(["sleep 15s", "sleep 2s"]);
      expect(await waits("Two")).toEqual(["sleep 10s", "sleep 5s"]);
      const texts = await page.$$eval(`svg .lane[data-task="One"] .seg-label`, (ts) => ts.map((t) => t.textContent));
      expect(texts[0]).toBe("sleep 15s");

      // Hover shows the details of the segment.
      await page.hover(`svg .lane[data-task="Two"] rect.seg.wait[data-label="sleep 10s"]`);
      const tip = page.locator("#tooltip");
      await expect.poll(() => tip.isVisible()).toBe(true);
      const details = (await tip.textContent()) ?? "";
      expect(details).toContain("Two (id 3)");
      expect(details).toContain("waiting on sleep 10s");
      expect(details).toContain("0s → 10s");
      expect(details).toContain("woken by no task");

      // The summary table: run time, wait time by reason, wake-ups.
      const row = await page.$$eval('#summary tr[data-task="One"] td', (tds) => tds.map((td) => td.textContent));
      expect(row[0]).toBe("One");
      expect(row[4]).toBe("17s");
      expect(row[5]).toBe("sleep: 17s");
      expect(row[6]).toBe("2");

      await page.mouse.move(5, 5);
      await page.screenshot({ path: screenshot, fullPage: true });

      // Zoom in with the wheel over the lanes: the visible range shrinks.
      const before = await page.textContent("#range");
      const box = await page.locator("#chart").boundingBox();
      if (box === null) throw new Error("no chart");
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.wheel(0, -300);
      await expect.poll(() => page.textContent("#range")).not.toBe(before);
      // And pan by dragging.
      const zoomed = await page.textContent("#range");
      await page.mouse.down();
      await page.mouse.move(box.x + box.width / 2 - 200, box.y + box.height / 2);
      await page.mouse.up();
      expect(await page.textContent("#range")).not.toBe(zoomed);

      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe("the HTML page", () => {
  it("is self-contained: no external scripts, styles or images", async () => {
    const html = htmlTimeline(await recordSeed());
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it("cannot be broken out of by a task name", () => {
    const html = htmlTimeline([{ type: "task-created", time: 0, task: 1, name: "</script><b>x", parent: null }]);
    expect(html).not.toContain("</script><b>x");
  });
});

mkdirSync(dirname(screenshot), { recursive: true });
