/**
 * A smoke run of the whole benchmark suite at tiny sizes, so it never rots: every workload,
 * every implementation, on Node 20 and Node 24, one run each. No thresholds: timings on a
 * shared machine are for people to read (BENCHMARKS.md), not for CI to judge.
 */
import { describe, expect, it } from "vitest";
import { type CaseResult, caseStats, formatCase, runSuite } from "../bench/run.js";
import { cases } from "../bench/workloads.js";

describe("benchmark suite (smoke run at tiny sizes)", () => {
  let results: CaseResult[] = [];

  it("runs every workload with every implementation, each returning the right checksum", async () => {
    results = await runSuite({ runs: 1, scale: 0.001, quiet: true, timeoutSeconds: 30, jobs: 2 });
    const nodes = new Set(results.map((r) => r.node));
    expect([...nodes].map((v) => v.split(".")[0]).sort()).toEqual(["v20", "v24"]);
    expect(results).toHaveLength(cases.length * nodes.size);
    const failures = results.flatMap((r) =>
      r.rows
        .filter((rr) => rr.errors.length > 0)
        .map((rr) => `${r.case.id} ${rr.row.label} on ${r.node}: ${rr.errors[0]}`),
    );
    expect(failures).toEqual([]);
    for (const result of results) {
      for (const rr of result.rows) expect(rr.samples, `${result.case.id} ${rr.row.label}`).toHaveLength(1);
    }
  }, 90_000);

  it("prints a table per workload with ratios to raw promises", () => {
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) {
      const stats = caseStats(result);
      const raw = result.rows.find((rr) => rr.row.role === "raw");
      expect(raw && stats.get(raw)?.vsRaw).toBe(1);
      const table = formatCase(result);
      expect(table).toContain(`### ${result.case.id}:`);
      for (const rr of result.rows) expect(table).toContain(rr.row.label);
    }
  });
});
