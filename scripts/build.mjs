// Builds the package with the TypeScript compiler, and esbuild for the two bundled scripts.
//
// dist/esm is the one runtime: ESM, with .d.ts, and source maps that carry their sources. dist/cjs
// holds, per entry point, a small CommonJS file that require()s the ESM build (Node's require(esm),
// unflagged since Node 20.19 and 22.12), so `require("awaitress")` and `import "awaitress"` load
// the same modules: one running loop, one current task, one virtual clock, one CancelledError.
// Beside each shim, CommonJS-flavoured declarations (the ESM .d.ts files, read as CommonJS by
// dist/cjs/package.json), so TypeScript projects compiled as CommonJS type-check and the
// `require` condition's types and JavaScript agree in format.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The entry points: package.json's export subpath, and its module under src/ (without ".ts").
 * package.json's exports name dist/esm/<module>.js for `import` and dist/cjs/<module>.js for
 * `require`, each with its .d.ts. Adding an entry point is one line here, and its block in
 * package.json's exports (the build fails if the two disagree).
 */
const ENTRIES = {
  ".": "index",
  "./trace": "trace/index",
  "./debug": "debug/index",
  "./redis": "redis/index",
  "./testing": "testing/index",
};

/**
 * The entry points with a Node build of their own, under the "node" condition (before `import`
 * and `require`): `awaitress` on Node is src/node.ts, which adds debug mode on demand,
 * `awaitress ps` and `AWAITRESS_TRACE` to src/index.ts.
 */
const NODE_ENTRIES = {
  ".": "node",
};

/**
 * The browser build of `awaitress` (package.json's "browser" condition, first in exports["."]):
 * src/index.ts as one ESM file, where the modules that need Node are swapped for the browser's —
 * the current task without AsyncLocalStorage (src/core/context.browser.ts), no process signals,
 * no `shutdownOn` — and `setImmediate` is a MessageChannel message. It has no `node:` import
 * (test/browser-core.test.ts checks the built file). Types: dist/esm/index.d.ts.
 */
const BROWSER_ENTRY = { module: "index", outfile: "dist/browser/index.js" };

/** Modules of src/ (and `node:` modules) the browser build replaces, by what replaces them. */
const BROWSER_SWAPS = {
  "src/core/context.ts": "src/core/context.browser.ts",
  "src/core/signals.ts": "src/core/signals.browser.ts",
  "src/toolkit/shutdown.ts": "src/toolkit/shutdown.browser.ts",
  "node:async_hooks": "src/internal/async-hooks.browser.ts",
};

/**
 * esbuild's options for the browser build (`root`: the package's directory). Exported for the tests,
 * which bundle the source the same way.
 */
export function browserBundleOptions(root = process.cwd()) {
  const swaps = new Map(Object.entries(BROWSER_SWAPS).map(([from, to]) => [from, resolve(root, to)]));
  const swap = {
    name: "awaitress-browser",
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (args) => {
        const path = swaps.get(args.path);
        if (path !== undefined) return { path };
        return {
          errors: [
            {
              text: `${args.path} has no browser version: the browser build must not import it (from ${args.importer})`,
            },
          ],
        };
      });
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const source = relative(root, resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts"))).replaceAll(
          "\\",
          "/",
        );
        const path = swaps.get(source);
        return path === undefined ? undefined : { path };
      });
    },
  };
  return {
    absWorkingDir: root,
    entryPoints: [resolve(root, `src/${BROWSER_ENTRY.module}.ts`)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    inject: [resolve(root, "src/internal/immediate.browser.ts")],
    plugins: [swap],
    legalComments: "none",
    logLevel: "silent",
  };
}

async function build() {
  checkExports();
  rmSync("dist", { recursive: true, force: true });
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
    stdio: "inherit",
  });
  writeFileSync("dist/esm/package.json", `${JSON.stringify({ type: "module" })}\n`);
  await bundle();
  const { build: esbuild } = await import("esbuild");
  await esbuild({ ...browserBundleOptions(), outfile: BROWSER_ENTRY.outfile });

  mkdirSync("dist/cjs", { recursive: true });
  cpSync("dist/esm", "dist/cjs", { recursive: true, filter: (path) => !/(\.js|\.js\.map|package\.json)$/.test(path) });
  writeFileSync("dist/cjs/package.json", `${JSON.stringify({ type: "commonjs" })}\n`);
  for (const module of [...Object.values(ENTRIES), ...Object.values(NODE_ENTRIES)]) {
    if (!existsSync(`dist/esm/${module}.js`)) throw new Error(`scripts/build.mjs: no dist/esm/${module}.js`);
    const up = "../".repeat(module.split("/").length);
    writeFileSync(
      `dist/cjs/${module}.js`,
      `"use strict";\n// The ESM build itself (Node's require(esm)): one runtime however awaitress is loaded.\nmodule.exports = require("${up}esm/${module}.js");\n`,
    );
  }
}

/**
 * The programs that run outside this process's modules (the HTML page's script, the watchdog's
 * worker): type-checked (the page against the DOM, by its own tsconfig), bundled with esbuild, and
 * written as strings into the built internal/bundled/<name>.js, one module per bundle (a program
 * that imports only debug mode does not carry the HTML page's script).
 * The list is bundle.ts's own.
 */
async function bundle() {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "src/trace/page/tsconfig.json"], {
    stdio: "inherit",
  });
  const { BUNDLES, bundleOptions } = await import("../dist/esm/internal/bundle.js");
  const { buildSync } = await import("esbuild");
  const texts = {};
  for (const [name, spec] of Object.entries(BUNDLES)) {
    const [output] = buildSync(bundleOptions(name, "src")).outputFiles;
    if (output === undefined) throw new Error(`scripts/build.mjs: esbuild wrote nothing for ${spec.entry}`);
    texts[name] = output.text;
  }
  for (const [name, text] of Object.entries(texts)) {
    writeFileSync(
      `dist/esm/internal/bundled/${name}.js`,
      `// Written by scripts/build.mjs: bundle "${name}" of src/internal/bundle.ts.\nexport const BUILT = ${JSON.stringify(text)};\n`,
    );
  }
}

/** Fails the build if package.json's exports and ENTRIES disagree. */
function checkExports() {
  const { exports } = JSON.parse(readFileSync("package.json", "utf8"));
  const subpaths = Object.keys(exports).filter((subpath) => subpath !== "./package.json");
  const listed = Object.keys(ENTRIES);
  if (JSON.stringify([...subpaths].sort()) !== JSON.stringify([...listed].sort())) {
    throw new Error(
      `scripts/build.mjs: package.json exports ${subpaths.join(", ")}; ENTRIES lists ${listed.join(", ")}`,
    );
  }
  const conditions = (module) => ({
    import: { types: `./dist/esm/${module}.d.ts`, default: `./dist/esm/${module}.js` },
    require: { types: `./dist/cjs/${module}.d.ts`, default: `./dist/cjs/${module}.js` },
  });
  for (const [subpath, module] of Object.entries(ENTRIES)) {
    const node = NODE_ENTRIES[subpath];
    let expected = node === undefined ? conditions(module) : { node: conditions(node), ...conditions(module) };
    if (module === BROWSER_ENTRY.module) {
      expected = {
        browser: { types: `./dist/esm/${module}.d.ts`, default: `./${BROWSER_ENTRY.outfile}` },
        ...expected,
      };
    }
    if (JSON.stringify(exports[subpath]) !== JSON.stringify(expected)) {
      throw new Error(`scripts/build.mjs: package.json exports["${subpath}"] should be ${JSON.stringify(expected)}`);
    }
  }
}

// Imported by the tests for browserBundleOptions: build only when run as a script.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await build();
