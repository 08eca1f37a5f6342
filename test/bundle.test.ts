// The programs that run elsewhere — the HTML page's script, the watchdog's worker — are typed
// modules bundled by esbuild (src/internal/bundle.ts), not strings inside the library's modules.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { BUNDLES, bundledSource } from "../src/internal/bundle.js";
import { htmlTimeline } from "../src/trace/index.js";

const SRC = resolve(import.meta.dirname, "../src");

describe("bundled scripts", () => {
  it("each bundle is its typed module, bundled into one self-contained script", () => {
    for (const name of Object.keys(BUNDLES) as (keyof typeof BUNDLES)[]) {
      const text = bundledSource(name, undefined);
      expect(text.startsWith('"use strict";\n(() => {')).toBe(true);
      // Self-contained: no import of another module of the library is left in it.
      expect(text).not.toMatch(/\bimport\s*\(\s*["']\.\.?\//);
      expect(text).not.toMatch(/\brequire\(/);
    }
  });

  it("the page inlines the bundled script, and trace/html.ts and debug/watchdog.ts hold no program text", () => {
    expect(htmlTimeline([])).toContain(bundledSource("page", undefined).slice(0, 200));
    for (const file of ["trace/html.ts", "debug/watchdog.ts"]) {
      const text = readFileSync(join(SRC, file), "utf8");
      expect(text).not.toMatch(/String\.raw`|WORKER_SOURCE|function \(\)/);
    }
  });

  it.runIf(existsSync(join(SRC, "../dist/esm/internal/bundled/page.js")))(
    "the build holds each bundle in its own module, so debug mode does not carry the page's script",
    async () => {
      for (const name of Object.keys(BUNDLES)) {
        const built = readFileSync(join(SRC, `../dist/esm/internal/bundled/${name}.js`), "utf8");
        expect(built).toMatch(/^\/\/ Written by scripts\/build\.mjs/);
        expect(built).toContain("export const BUILT = ");
      }
      const page = readFileSync(join(SRC, "../dist/esm/internal/bundled/page.js"), "utf8");
      const imports = (file: string) =>
        [...readFileSync(join(SRC, "../dist/esm", file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
      expect(imports("debug/watchdog.js")).not.toContain("../internal/bundled/page.js");
      expect(imports("trace/html.js")).toContain("../internal/bundled/page.js");
      expect(page.length).toBeGreaterThan(1000);
    },
  );
});
