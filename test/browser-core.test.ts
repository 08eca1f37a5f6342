/**
 * The core in a real headless Chromium, through package.json's "browser" condition: a page that
 * imports "awaitress" is bundled by esbuild for the browser (the library built from src/ as
 * scripts/build.mjs builds dist/browser/index.js), and runs the seed on the virtual clock,
 * cancellation, a waitFor timeout, a TaskGroup error and the foreign-await rule.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, transform } from "esbuild";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main as seedMain } from "../examples/seed.js";
import { browserBundleOptions } from "../scripts/build.mjs";
import { run } from "../src/index.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = "/usr/bin/chromium";
// Skipped only on a developer's machine without Chromium; in CI (.ci/run installs it) it must run.
const skip = !existsSync(CHROMIUM) && !process.env.CI;

/** The page's program: each scenario returns what it observed, as JSON. */
const PAGE = String.raw`
import {
  CancelledError, ExceptionGroup, InvalidStateError, Queue, TaskGroup, TimeoutError, Timer,
  createTask, currentTask, ensureFuture, gather, run, sleep, time, waitFor,
} from "awaitress";

// examples/seed.ts's program, as a page would write it.
async function task(name, workQueue) {
  const timer = new Timer({ text: "Task " + name + " elapsed time: {:.1f}" });
  while (!workQueue.empty()) {
    const delay = await workQueue.get();
    console.log("Task " + name + " running");
    timer.start();
    await sleep(delay);
    timer.stop();
  }
}
async function seed() {
  const workQueue = new Queue();
  for (const work of [15, 10, 5, 2]) await workQueue.put(work);
  const total = new Timer({ text: "\nTotal elapsed time: {:.1f}" }).start();
  await gather(
    createTask(() => task("One", workQueue), { name: "One" }),
    createTask(() => task("Two", workQueue), { name: "Two" }),
  );
  total.stop();
}

const virtual = { clock: "virtual" };
const scenarios = {
  async seed() {
    const lines = [];
    const log = console.log;
    console.log = (...args) => lines.push(args.join(" "));
    const start = performance.now();
    try {
      await run(seed, virtual);
    } finally {
      console.log = log;
    }
    return { lines, ms: performance.now() - start };
  },

  // Two tasks interleaving on queues, locks of time and sleeps: each finds itself after every await.
  async identity() {
    const seen = [];
    await run(async () => {
      const q = new Queue(1);
      const worker = (name, n) => async () => {
        for (let i = 0; i < n; i++) {
          await sleep(0.5 * (i % 3));
          if (currentTask()?.name !== name) seen.push(name + " lost itself at step " + i);
          await q.put(name + i);
          if (currentTask()?.name !== name) seen.push(name + " lost itself after put " + i);
        }
      };
      const reader = createTask(async () => {
        for (let i = 0; i < 20; i++) {
          await q.get();
          if (currentTask()?.name !== "reader") seen.push("reader lost itself at " + i);
        }
      }, { name: "reader" });
      await gather(createTask(worker("a", 10), { name: "a" }), createTask(worker("b", 10), { name: "b" }), reader);
      seen.push("done at " + time());
    }, virtual);
    return seen;
  },

  async cancellation() {
    return run(async () => {
      const sleeper = createTask(async () => {
        try {
          await sleep(10);
          return "slept";
        } catch (e) {
          return (e instanceof CancelledError ? "cancelled: " + e.reason : "other") + " at " + time();
        }
      });
      await sleep(1);
      sleeper.cancel("enough");
      return await sleeper;
    }, virtual);
  },

  async waitForTimeout() {
    return run(async () => {
      try {
        await waitFor(sleep(10, "late"), 2);
        return "no timeout";
      } catch (e) {
        return (e instanceof TimeoutError ? "TimeoutError" : String(e)) + " at " + time();
      }
    }, virtual);
  },

  async taskGroupError() {
    return run(async () => {
      let sibling;
      try {
        await new TaskGroup().run(async (tg) => {
          sibling = tg.createTask(() => sleep(5));
          tg.createTask(async () => {
            await sleep(1);
            throw new Error("boom");
          });
        });
        return "no error";
      } catch (e) {
        const messages = e instanceof ExceptionGroup ? e.exceptions.map((x) => x.message) : [String(e)];
        return { messages, siblingCancelled: sibling.cancelled(), at: time() };
      }
    }, virtual);
  },

  // A foreign promise wrapped in a future: awaited like any awaitress wait, the task still itself.
  async wrappedForeign() {
    return run(async () => {
      const value = await ensureFuture(new Promise((resolve) => setTimeout(resolve, 20, "fetched")));
      const name = currentTask()?.name;
      await sleep(3);
      return { value, name, at: time() };
    }, { ...virtual, name: "main" });
  },

  // The same promise awaited bare: the task cannot be followed across it, and says so.
  async bareForeign() {
    try {
      await run(async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await sleep(3);
      }, { ...virtual, name: "fetcher" });
      return { error: null };
    } catch (e) {
      return { error: e instanceof InvalidStateError ? e.message : String(e) };
    }
  },

  // An async function a task started and did not await resumes after a foreign promise, outside
  // any task: what it asks of awaitress then is refused, not run on a real-time default loop.
  async orphan() {
    let error = null;
    await run(async () => {
      const side = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        try {
          await sleep(1);
        } catch (e) {
          error = e instanceof InvalidStateError ? e.message : String(e);
        }
      })();
      await sleep(0);
      await ensureFuture(side);
    }, virtual);
    return error;
  },
};

window.scenario = async (name) => JSON.stringify(await scenarios[name]());
window.nodeLike = typeof process !== "undefined";
`;

let dir: string;
let browser: Browser | undefined;
let page: Awaited<ReturnType<Browser["newPage"]>>;
let library: string;
const pageErrors: string[] = [];

async function scenario<T>(name: string): Promise<T> {
  const out = await page.evaluate(
    (n) => (globalThis as unknown as { scenario(n: string): Promise<string> }).scenario(n),
    name,
  );
  return JSON.parse(out) as T;
}

beforeAll(async () => {
  // A package directory: awaitress's package.json, its browser build (made from src/ as the
  // build makes it), and a page that imports "awaitress" by name.
  dir = mkdtempSync(join(tmpdir(), "awaitress-browser-"));
  const pkg = join(dir, "node_modules", "awaitress");
  mkdirSync(join(pkg, "dist", "browser"), { recursive: true });
  writeFileSync(join(pkg, "package.json"), readFileSync(join(ROOT, "package.json")));
  const lib = await build({ ...browserBundleOptions(ROOT), write: false, outfile: join(pkg, "dist/browser/index.js") });
  library = lib.outputFiles[0]?.text ?? "";
  writeFileSync(join(pkg, "dist", "browser", "index.js"), library);
  const bundled = await build({
    stdin: { contents: PAGE, resolveDir: dir, sourcefile: "page.js", loader: "js" },
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  const script = bundled.outputFiles[0]?.text ?? "";
  const html = join(dir, "index.html");
  writeFileSync(html, `<!doctype html><meta charset="utf-8"><title>awaitress</title><script>${script}</script>`);
  if (skip) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  page = await browser.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(pathToFileURL(html).href);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("the browser build", () => {
  it("imports nothing from node: and touches `process` only behind a typeof check", async () => {
    expect(library.length).toBeGreaterThan(10_000);
    expect(library).not.toMatch(/\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\s*\(/);
    expect(library).not.toMatch(/["']node:/);
    // Every access to a member of `process` (in the code, not the comments) follows a `typeof process` check.
    const code = (await transform(library, { minify: true, format: "esm" })).code;
    const accesses = [...code.matchAll(/\bprocess\b(?=\s*[.[?])/g)].map((m) => m.index ?? 0);
    expect(accesses.length).toBeGreaterThan(0); // the progress bar's, guarded
    for (const at of accesses) {
      const guarded =
        code.slice(at - 7, at) === "typeof " || /typeof process/.test(code.slice(Math.max(0, at - 200), at));
      expect(guarded, `unguarded process access: …${code.slice(at - 80, at + 40)}…`).toBe(true);
    }
    expect(code).not.toMatch(/new AsyncLocalStorage\b|AsyncLocalStorage\.|async_hooks/);
  });

  it("is what package.json's browser condition names", () => {
    const exports = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).exports["."];
    expect(Object.keys(exports)[0]).toBe("browser");
    expect(exports.browser).toEqual({ types: "./dist/esm/index.d.ts", default: "./dist/browser/index.js" });
  });
});

describe.skipIf(skip)("the core in headless Chromium", () => {
  it("runs in a page without Node's globals", async () => {
    expect(await page.evaluate(() => (globalThis as unknown as { nodeLike: boolean }).nodeLike)).toBe(false);
  });

  it("prints exactly what the Node seed prints, on the virtual clock, instantly", async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.join(" "));
    });
    try {
      await run(() => seedMain(), { clock: "virtual" });
    } finally {
      spy.mockRestore();
    }
    expect(lines).toContain("\nTotal elapsed time: 17.0");
    const { lines: inBrowser, ms } = await scenario<{ lines: string[]; ms: number }>("seed");
    expect(inBrowser).toEqual(lines);
    // 17 virtual seconds: a real second would mean the clock fell back to real time.
    expect(ms).toBeLessThan(1000);
  });

  it("every task finds itself after each await, while tasks interleave", async () => {
    const seen = await scenario<string[]>("identity");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^done at \d/);
  });

  it("delivers a cancellation at the await the task is suspended on", async () => {
    expect(await scenario<string>("cancellation")).toBe("cancelled: enough at 1");
  });

  it("waitFor times out on the virtual clock", async () => {
    expect(await scenario<string>("waitForTimeout")).toBe("TimeoutError at 2");
  });

  it("a TaskGroup fails with its child's error and cancels the sibling", async () => {
    expect(await scenario("taskGroupError")).toEqual({ messages: ["boom"], siblingCancelled: true, at: 1 });
  });

  it("a foreign promise wrapped in ensureFuture() is awaited, and the task is still itself", async () => {
    expect(await scenario("wrappedForeign")).toEqual({ value: "fetched", name: "main", at: 3 });
  });

  it("a bare foreign promise fails the task with the error that says to wrap it, never silently", async () => {
    const { error } = await scenario<{ error: string | null }>("bareForeign");
    expect(error).toMatch(/^Task "fetcher" awaited a promise that is not awaitress's/);
    expect(error).toContain("await ensureFuture(promise)");
    expect(pageErrors).toEqual([]);
  });

  it("code that lost its task is refused the real-time default loop while the run goes on", async () => {
    expect(await scenario<string | null>("orphan")).toMatch(
      /^No running task: in a browser, while a run\(\) is in progress/,
    );
  });
});
