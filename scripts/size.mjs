#!/usr/bin/env node
// What awaitress adds to a bundle: every entry point of package.json's exports, and the seed
// program's imports, bundled from the build (dist/, so run `npm run build` first) with esbuild —
// minified, ESM, one file — for platform=node and platform=browser; minified and gzipped bytes.
// Compared with size-limits.json: the script fails when a case grows more than 10% over its
// recorded size, has no recorded size, or when README.md's table (between its size markers) is
// not the recorded one.
//
//   node scripts/size.mjs              # the table, checked against size-limits.json and README.md
//   node scripts/size.mjs --update     # the table, written to size-limits.json and README.md
//   node scripts/size.mjs --dir PATH   # measures the built checkout at PATH (no check)
//
// - Each case is a module that re-exports what it measures (`export * from "awaitress/trace"`,
//   `export { createTask, ... } from "awaitress"`), so esbuild keeps exactly that and drops what
//   nothing reaches; "awaitress" resolves as a user's bundler resolves it (the package's exports,
//   through a self-reference).
// - platform=node takes the "node" condition (awaitress on Node is src/node.ts); platform=browser
//   the "browser" one, measured only for the entry points whose exports have one (until then the
//   table says so).
// - The optional peer `redis` and Node's built-ins stay out of the bundle: the figures are
//   awaitress's own code.
// - gzip: zlib at level 9. 1 kB = 1000 bytes.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = resolve(fileURLToPath(import.meta.url), "..", "..");
const LIMITS = join(ROOT, "size-limits.json");
/** How much a case may grow over its recorded size before the check fails. */
const TOLERANCE = 0.1;
/** The seed program's imports (README's first example). */
const SEED = ["createTask", "gather", "Queue", "run", "sleep", "Timer"];

function parseArgs(argv) {
  const args = { update: false, dir: ROOT };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--update") args.update = true;
    else if (argv[i] === "--dir") args.dir = resolve(argv[++i] ?? ".");
    else throw new Error(`scripts/size.mjs: unknown argument ${argv[i]} (expected --update or --dir PATH)`);
  }
  return args;
}

/** The cases: name, the module that re-exports what is measured, and where a browser build exists. */
function casesOf(dir) {
  const { exports } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const hasBrowser = (subpath) => typeof exports[subpath] === "object" && "browser" in exports[subpath];
  const cases = [
    {
      name: "seed imports",
      source: `export { ${SEED.join(", ")} } from "awaitress";\n`,
      browser: hasBrowser("."),
    },
  ];
  for (const subpath of Object.keys(exports)) {
    if (subpath === "./package.json") continue;
    const specifier = subpath === "." ? "awaitress" : `awaitress/${subpath.slice(2)}`;
    cases.push({ name: specifier, source: `export * from "${specifier}";\n`, browser: hasBrowser(subpath) });
  }
  return cases;
}

async function measure(dir, source, platform) {
  const result = await build({
    stdin: { contents: source, resolveDir: dir, loader: "js", sourcefile: "size-case.js" },
    absWorkingDir: dir,
    bundle: true,
    minify: true,
    format: "esm",
    platform,
    target: "es2022",
    external: ["redis", "@redis/*"],
    // The built package as a user's bundler sees it: not tsconfig.json's `paths`, which map
    // "awaitress" to src/ for development (and would leave src/node.ts's lazy import unresolved).
    tsconfigRaw: "{}",
    write: false,
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error("scripts/size.mjs: esbuild wrote nothing");
  return { minified: output.contents.length, gzip: gzipSync(output.contents, { level: 9 }).length };
}

const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

/** The table, as README.md shows it: one row per case, the platforms measured. */
function table(sizes) {
  const cell = (size) => (size === undefined ? ["—", "—"] : [kB(size.minified), kB(size.gzip)]);
  const lines = [
    "| Imports | node, minified | node, gzipped | browser, minified | browser, gzipped |",
    "| --- | ---: | ---: | ---: | ---: |",
  ];
  for (const [name, platforms] of Object.entries(sizes)) {
    lines.push(`| \`${name}\` | ${[...cell(platforms.node), ...cell(platforms.browser)].join(" | ")} |`);
  }
  if (Object.values(sizes).every((s) => s.browser === undefined)) {
    lines.push("", 'browser: not measured yet — no entry point has a "browser" condition in package.json\'s exports.');
  }
  return lines.join("\n");
}

const README = join(ROOT, "README.md");
const START = "<!-- size:start (npm run size -- --update writes this table) -->";
const END = "<!-- size:end -->";

/** README.md's table, between the markers; `undefined` without them. */
function readmeTable() {
  const text = readFileSync(README, "utf8");
  const from = text.indexOf(START);
  const to = text.indexOf(END);
  if (from < 0 || to < from) return undefined;
  return { text, from, to, table: text.slice(from + START.length, to).trim() };
}

async function main() {
  const { update, dir } = parseArgs(process.argv.slice(2));
  const sizes = {};
  for (const c of casesOf(dir)) {
    sizes[c.name] = {};
    for (const platform of ["node", "browser"]) {
      if (platform === "browser" && !c.browser) continue;
      try {
        sizes[c.name][platform] = await measure(dir, c.source, platform);
      } catch (error) {
        throw new Error(
          `scripts/size.mjs: bundling ${c.name} for ${platform} failed (is dist/ built?)\n${error.message}`,
        );
      }
    }
  }
  console.log(table(sizes));
  if (dir !== ROOT) return;
  if (update) {
    writeFileSync(LIMITS, `${JSON.stringify(sizes, null, 2)}\n`);
    const readme = readmeTable();
    if (readme === undefined)
      throw new Error(`scripts/size.mjs: README.md has no size table between ${START} and ${END}`);
    writeFileSync(
      README,
      `${readme.text.slice(0, readme.from + START.length)}\n${table(sizes)}\n${readme.text.slice(readme.to)}`,
    );
    console.log("\nsize-limits.json and README.md's table: written");
    return;
  }
  const recorded = JSON.parse(readFileSync(LIMITS, "utf8"));
  const failures = [];
  const readme = readmeTable();
  if (readme === undefined) failures.push(`README.md: no size table between ${START} and ${END}`);
  else if (readme.table !== table(recorded)) failures.push("README.md: its size table is not size-limits.json's");
  const shrunk = [];
  for (const [name, platforms] of Object.entries(sizes)) {
    for (const [platform, size] of Object.entries(platforms)) {
      const limit = recorded[name]?.[platform];
      if (limit === undefined) {
        failures.push(`${name} (${platform}): no recorded size`);
        continue;
      }
      for (const measure of ["minified", "gzip"]) {
        if (size[measure] > limit[measure] * (1 + TOLERANCE)) {
          const growth = ((size[measure] / limit[measure] - 1) * 100).toFixed(1);
          failures.push(
            `${name} (${platform}, ${measure}): ${size[measure]} bytes, ${growth}% over the recorded ${limit[measure]}`,
          );
        } else if (size[measure] < limit[measure] * (1 - TOLERANCE)) {
          shrunk.push(`${name} (${platform}, ${measure}): ${size[measure]} bytes, recorded ${limit[measure]}`);
        }
      }
    }
  }
  if (shrunk.length > 0) {
    // Not a failure, but the check guards the recorded size: record the smaller one.
    console.log(
      `\nsmaller by more than ${TOLERANCE * 100}% (npm run size -- --update records it):\n${shrunk.map((s) => `- ${s}`).join("\n")}`,
    );
  }
  if (failures.length > 0) {
    console.error(
      `\nscripts/size.mjs: the size check failed (a case may grow ${TOLERANCE * 100}% over size-limits.json):\n` +
        failures.map((f) => `- ${f}`).join("\n") +
        "\nIf the change is meant, record it: npm run size -- --update (and say why in the commit).",
    );
    process.exitCode = 1;
    return;
  }
  console.log(`\nsize-limits.json: every case within ${TOLERANCE * 100}% of its recorded size`);
}

await main();
