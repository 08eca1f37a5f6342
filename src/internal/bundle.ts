/**
 * Programs that do not run in this process — the HTML page's script, the debug watchdog's worker —
 * are real, typed modules (src/trace/page/script.ts, src/debug/watchdog-worker.ts) bundled into one
 * self-contained script each. scripts/build.mjs puts each bundle's text into its built module,
 * internal/bundled/<name>.js; from the sources (tests, tsx) there is none, and the entry is bundled
 * on first use with esbuild, a dev dependency.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** How each bundle is made: the one list scripts/build.mjs also reads. */
export const BUNDLES = {
  /** The HTML timeline's script: runs in a browser. */
  page: { entry: "trace/page/script.ts", platform: "browser" },
  /** The watchdog's worker: runs in a worker thread, evaluated from its source. */
  "watchdog-worker": { entry: "debug/watchdog-worker.ts", platform: "node" },
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
 * The source text of bundle `name`: `built`, the text the build put in internal/bundled/<name>.js
 * (the caller imports that module's `BUILT`), else bundled now from the sources. Throws if neither
 * can be had (a source checkout without its dev dependencies).
 */
export function bundledSource(name: BundleName, built: string | undefined): string {
  if (built !== undefined) return built;
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  // This module is src/internal/bundle.ts: the sources' root is one up.
  const srcRoot = fileURLToPath(new URL("../", import.meta.url)).replace(/[\\/]$/, "");
  const esbuild = createRequire(import.meta.url)("esbuild") as EsbuildSync;
  const text = esbuild.buildSync(bundleOptions(name, srcRoot)).outputFiles[0]?.text ?? "";
  cache.set(name, text);
  return text;
}

/** The part of esbuild's plugin API {@link bundledSourcesPlugin} uses (src/ does not depend on esbuild). */
interface PluginBuild {
  onLoad(
    options: { filter: RegExp },
    callback: (args: { path: string }) => Promise<{ contents: string; loader: "ts" }>,
  ): void;
  readonly esbuild: {
    build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] | undefined }>;
  };
}

/**
 * @internal An esbuild plugin for bundling src/ itself (the bench's bundles, tests that run plain
 * `node` on a bundle of src/): fills in internal/bundled/<name>.ts as scripts/build.mjs does for dist, since
 * a bundle of src/ has no sources beside it to bundle the page's script and the worker from.
 *
 * @example
 * await build({ entryPoints: ["src/index.ts"], bundle: true, plugins: [bundledSourcesPlugin] });
 */
export const bundledSourcesPlugin = {
  name: "awaitress-bundled-sources",
  setup(b: PluginBuild): void {
    b.onLoad({ filter: /[\\/]src[\\/]internal[\\/]bundled[\\/][\w-]+\.ts$/ }, async (args) => {
      const match = /^(.*)[\\/]internal[\\/]bundled[\\/]([\w-]+)\.ts$/.exec(args.path);
      const [, srcRoot = "", name = ""] = match ?? [];
      if (!(name in BUNDLES)) throw new Error(`bundledSourcesPlugin: no bundle named ${name} (${args.path})`);
      const result = await b.esbuild.build(bundleOptions(name as BundleName, srcRoot));
      return { contents: `export const BUILT = ${JSON.stringify(result.outputFiles?.[0]?.text ?? "")};`, loader: "ts" };
    });
  },
};
