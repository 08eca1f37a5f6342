/**
 * A loaded trace file can carry anything: the HTML timeline must show markup in it as text, in
 * a real headless Chromium, and never run it.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../src/node.js";
import { htmlTimeline, parseJsonl } from "../src/trace/index.js";

const CHROMIUM = "/usr/bin/chromium";
// Skipped only on a developer's machine without Chromium; in CI it must run.
const skip = !existsSync(CHROMIUM) && !process.env.CI;

const IMG = `<img src=x onerror="window.__pwned = 'img'; alert(1)">`;
const SCRIPT_END = `</script><script>window.__pwned = 'script'; alert(2)</script>`;
const SVG = `<svg onload="window.__pwned = 'svg'">`;

/** A trace as a tampered `.jsonl` file would load it: markup in every string, and in the ids. */
function tamperedTrace(): TraceEvent[] {
  const lines = [
    { type: "task-created", time: 0, task: 1, name: `main ${IMG}`, parent: null },
    { type: "task-started", time: 0, task: 1 },
    { type: "task-created", time: 0, task: IMG, name: `${SCRIPT_END} worker`, parent: 1 },
    { type: "task-started", time: 0, task: IMG },
    { type: "task-suspended", time: 0, task: 1, on: `sleep ${SVG}` },
    { type: "task-suspended", time: 0.1, task: IMG, on: `queue.get ${IMG}${SCRIPT_END}` },
    { type: "task-resumed", time: 1, task: IMG, by: 1 },
    { type: "task-done", time: 1.5, task: IMG, outcome: "error", error: `Error: ${IMG} ${SCRIPT_END}` },
    { type: "slow-step", time: 1.5, task: 1, duration: `${IMG}` },
    { type: "task-resumed", time: 2, task: 1, by: null },
    { type: "task-done", time: 2, task: 1, outcome: `${SVG}${IMG}` },
  ];
  return parseJsonl(lines.map((l) => JSON.stringify(l)).join("\n"));
}

describe.skipIf(skip)("the HTML timeline of a tampered trace, in a real headless Chromium", () => {
  it("shows the markup as text and runs none of it", async () => {
    const html = htmlTimeline(tamperedTrace(), { title: `trace ${IMG}${SCRIPT_END}` });
    const file = join(mkdtempSync(join(tmpdir(), "awaitress-html-")), "tampered.html");
    writeFileSync(file, html);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 500 } });
      const dialogs: string[] = [];
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector("svg#timeline");
      // Give an onerror handler of a broken image the time to fire, if one were there.
      await page.waitForTimeout(300);

      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
      expect(dialogs).toEqual([]);
      expect(errors).toEqual([]);
      // No element came from the trace's text: no img, no second script, no inner svg.
      expect(await page.$$eval("img", (xs) => xs.length)).toBe(0);
      expect(await page.$$eval("script", (xs) => xs.length)).toBe(2);
      expect(await page.$$eval("svg svg", (xs) => xs.length)).toBe(0);

      // The text shows literally: title, names, ids, outcomes, labels, errors.
      expect(await page.title()).toBe(`trace ${IMG}${SCRIPT_END}`);
      expect(await page.textContent("h1")).toBe(`trace ${IMG}${SCRIPT_END}`);
      const rows = await page.$$eval("#summary tbody tr", (trs) =>
        trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
      );
      expect(rows[0]?.[0]).toBe(`main ${IMG}`);
      expect(rows[0]?.[7]).toBe(`${SVG}${IMG}`);
      expect(rows[1]?.[0]).toBe(`${SCRIPT_END} worker`);
      expect(rows[1]?.[1]).toBe(IMG);
      expect(rows[1]?.[5]).toContain(`queue.get ${IMG}${SCRIPT_END}`);
      expect(rows[1]?.[7]).toBe(`error: Error: ${IMG} ${SCRIPT_END}`);
      const laneLabels = await page.$$eval("svg .lane-label", (ts) => ts.map((t) => t.textContent));
      // Lane 0 is the waiter's (the loop's); the tasks follow.
      expect(laneLabels[1]).toBe(`main ${IMG}`.slice(0, 19) + "…");
      const segLabels = await page.$$eval("svg rect.seg.wait", (rs) => rs.map((r) => r.getAttribute("data-label")));
      expect(segLabels).toContain(`queue.get ${IMG}${SCRIPT_END}`);
      // The tooltip (set as text) shows it literally too.
      const box = await page.$("svg .lane[data-id='1'] rect.seg.wait");
      await box?.hover();
      expect(await page.textContent("#tooltip")).toContain(`waiting on sleep ${SVG}`);
      expect(await page.$$eval("img", (xs) => xs.length)).toBe(0);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
