/**
 * The layers of src/ import only downwards: util (internal/, errors.ts) ← clock ← core ← the
 * primitives, combinators, trace and debug ← the public barrel (index.ts) and the CLI. A core that
 * reached up into a primitive (or a clock into the core) would make the layering a fiction.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const LAYERS = ["util", "clock", "core", "primitives", "top"] as const;

function layerOf(path: string): number {
  const rel = relative(src, path).replaceAll("\\", "/");
  if (rel.startsWith("internal/") || rel === "errors.ts") return 0;
  if (rel.startsWith("clock/")) return 1;
  if (rel.startsWith("core/")) return 2;
  if (rel === "index.ts" || rel === "node.ts" || rel.startsWith("cli/")) return 4;
  return 3;
}

function importsOf(path: string): string[] {
  const text = readFileSync(path, "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g)) found.push(m[1] as string);
  for (const m of text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g)) found.push(m[1] as string);
  return found.map((spec) => resolve(dirname(path), spec.replace(/\.js$/, ".ts")));
}

describe("the layers of src/", () => {
  it("every import points down: util ← clock ← core ← primitives ← index / cli", () => {
    const upward: string[] = [];
    for (const file of files(src)) {
      const from = layerOf(file);
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to > from) {
          upward.push(`${relative(src, file)} (${LAYERS[from]}) imports ${relative(src, target)} (${LAYERS[to]})`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it("the check sees the imports it is meant to see", () => {
    // A test that cannot fail is a defect: the core's loop does import the clock layer.
    const loop = join(src, "core/loop.ts");
    expect(importsOf(loop).map((t) => layerOf(t))).toContain(1);
    expect(layerOf(join(src, "queues/queue.ts"))).toBe(3);
  });
});
