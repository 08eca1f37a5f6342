import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import { cli } from "../src/cli/cli.js";

afterEach(() => {
  vi.restoreAllMocks();
});

it("awaitress demo --timeline --html --perfetto draws and writes the seed's timeline", async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  const dir = mkdtempSync(join(tmpdir(), "awaitress-cli-"));
  const html = join(dir, "out.html");
  const perfetto = join(dir, "out.json");
  let stdout = "";
  let stderr = "";
  const io = {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
  };
  expect(await cli(["demo", "--timeline", "--html", html, "--perfetto", perfetto], io)).toBe(0);
  expect(stderr).toBe("");
  // Two worker lanes: 15 then 2, and 10 then 5.
  expect(stdout).toMatch(/waited 17s: sleep 15s \(0s→15s\), sleep 2s \(15s→17s\)/);
  expect(stdout).toMatch(/waited 15s: sleep 10s \(0s→10s\), sleep 5s \(10s→15s\)/);
  expect(readFileSync(html, "utf8")).toContain('id="trace-data"');
  expect(JSON.parse(readFileSync(perfetto, "utf8")).traceEvents.length).toBeGreaterThan(10);
});
