/**
 * Programs that do not run in this process — the HTML page's script, the debug watchdog's worker —
 * are real, typed modules (src/trace/page/script.ts, src/debug/watchdog-worker.ts) bundled into one
 * self-contained script each. scripts/build.mjs writes the bundles beside the built modules
 * (dist/esm/trace/page.bundle.js, dist/esm/debug/watchdog-worker.bundle.js); from the sources (tests,
 * tsx) there is no bundle, and the entry is bundled on first use with esbuild, a dev dependency.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** How each bundle is made: the one list scripts/build.mjs also reads. */
export const BUNDLES = {
  /** The HTML timeline's script: runs in a browser. */
  page: { entry: "trace/page/script.ts", out: "trace/page.bundle.js", platform: "browser" },
  /** The watchdog's worker: runs in a worker thread, evaluated from its source. */
  "watchdog-worker": { entry: "debug/watchdog-worker.ts", out: "debug/watchdog-worker.bundle.js", platform: "node" },
} as const;

/** A bundle's name. */
export type BundleName = keyof typeof BUNDLES;

const cache = new Map<BundleName, string>();

interface EsbuildSync {
  buildSync(options: Record<string, unknown>): { outputFiles: { text: string }[] };
}

/** esbuild's options for a bundle (scripts/build.mjs uses the same). */
export function bundleOptions(name: BundleName, srcRoot: string): Record<string, unknown> {
  const spec = BUNDLES[name];
  return {
    entryPoints: [`${srcRoot}/${spec.entry}`],
    bundle: true,
    format: "iife",
    platform: spec.platform,
    target: spec.platform === "browser" ? "es2020" : "node20",
    minify: false,
    legalComments: "none",
    write: false,
  };
}

/**
 * The source text of bundle `name`: the built file when running from dist, else bundled now from
 * the sources. Throws if neither can be had (a source checkout without its dev dependencies).
 */
export function bundledSource(name: BundleName): string {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  // This module is src/internal/bundle.ts or dist/esm/internal/bundle.js: the root is one up.
  const root = new URL("../", import.meta.url);
  const built = fileURLToPath(new URL(BUNDLES[name].out, root));
  let text: string;
  if (existsSync(built)) {
    text = readFileSync(built, "utf8");
  } else {
    const esbuild = createRequire(import.meta.url)("esbuild") as EsbuildSync;
    const result = esbuild.buildSync(bundleOptions(name, fileURLToPath(root).replace(/\/$/, "")));
    text = result.outputFiles[0]?.text ?? "";
  }
  cache.set(name, text);
  return text;
}
