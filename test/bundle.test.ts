// The programs that run elsewhere — the HTML page's script, the watchdog's worker — are typed
// modules bundled by esbuild (src/internal/bundle.ts), not strings inside the library's modules.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLES, bundledSource } from "../src/internal/bundle.js";
import { htmlTimeline } from "../src/trace/index.js";

const SRC = resolve(import.meta.dirname, "../src");

describe("bundled scripts", () => {
  it("each bundle is its typed module, bundled into one self-contained script", () => {
    for (const name of Object.keys(BUNDLES) as (keyof typeof BUNDLES)[]) {
      const text = bundledSource(name);
      expect(text.startsWith('"use strict";\n(() => {')).toBe(true);
      // Self-contained: no import of another module of the library is left in it.
      expect(text).not.toMatch(/\bimport\s*\(\s*["']\.\.?\//);
      expect(text).not.toMatch(/\brequire\(/);
    }
  });

  it("the page inlines the bundled script, and trace/html.ts and debug/watchdog.ts hold no program text", () => {
    expect(htmlTimeline([])).toContain(bundledSource("page").slice(0, 200));
    for (const file of ["trace/html.ts", "debug/watchdog.ts"]) {
      const text = readFileSync(join(SRC, file), "utf8");
      expect(text).not.toMatch(/String\.raw`|WORKER_SOURCE|function \(\)/);
    }
  });
});
