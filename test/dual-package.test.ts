// The package as a user installs it: built and packed from a copy of the sources, the tarball
// installed into a consumer project, programs run there by a real `node` (the one running the
// suite: Node 20, then Node 24 under `npm test`).
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as awaitress from "../src/node.js";

const ROOT = resolve(import.meta.dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

let dir: string;
let consumer: string;
/** The tarball's files, as `npm pack` lists them ("dist/esm/index.js", ...). */
let packed: string[];
/** package.json's export subpaths, "." first. */
const exportsMap = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    exports: Record<string, { require?: { default?: string } } | string>;
  }
).exports;
const subpaths = Object.keys(exportsMap).filter((subpath) => subpath !== "./package.json");

/** The module an entry point names, under dist/cjs and dist/esm: "index", "redis/index". */
function moduleOf(subpath: string): string {
  const entry = exportsMap[subpath];
  const target = typeof entry === "object" ? entry.require?.default : undefined;
  if (target === undefined) throw new Error(`package.json's exports["${subpath}"] has no require target`);
  return target.replace(/^\.\/dist\/cjs\//, "").replace(/\.js$/, "");
}

/** Runs `node args` in the consumer project; its exit code and output. */
function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, args, { cwd: consumer, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "awaitress-pack-"));
  // Build in a copy, not in place: other test files read dist/ while this one runs.
  const copy = join(dir, "awaitress");
  for (const path of ["package.json", "README.md", "tsconfig.base.json", "tsconfig.build.json", "scripts", "src"]) {
    cpSync(join(ROOT, path), join(copy, path), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");
  // `npm pack` runs the prepare script, the build.
  const report = execFileSync(npm, ["pack", "--json", "--pack-destination", dir], { cwd: copy, encoding: "utf8" });
  const [info] = JSON.parse(report.slice(report.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  if (info === undefined) throw new Error(`npm pack said: ${report}`);
  packed = info.files.map((f) => f.path);

  consumer = join(dir, "consumer");
  write(join(consumer, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" })}\n`);
  execFileSync(npm, ["install", "--offline", "--no-audit", "--no-fund", join(dir, info.filename)], {
    cwd: consumer,
    stdio: "ignore",
  });
  // The optional peer dependency of awaitress/redis, as a user of that entry installs it.
  symlinkSync(join(ROOT, "node_modules", "redis"), join(consumer, "node_modules", "redis"), "dir");
  // A CommonJS dependency that uses awaitress, as one in node_modules would.
  write(join(consumer, "node_modules", "cjs-dep", "package.json"), `${JSON.stringify({ name: "cjs-dep" })}\n`);
  write(
    join(consumer, "node_modules", "cjs-dep", "index.js"),
    `"use strict";
const awaitress = require("awaitress");
exports.awaitress = awaitress;
exports.whoAmI = () => awaitress.currentTask();
exports.nap = (seconds) => awaitress.sleep(seconds);
exports.napCatching = async (seconds) => {
  try {
    await awaitress.sleep(seconds);
    return "slept";
  } catch (e) {
    return awaitress.isCancelled(e) ? "cancelled (CommonJS isCancelled)" : \`other: \${e}\`;
  }
};
exports.throwCancelled = () => {
  throw new awaitress.CancelledError("thrown by CommonJS code");
};
exports.isCancelled = (e) => awaitress.isCancelled(e);
`,
  );
  // The consumer's own CommonJS file, outside node_modules.
  write(join(consumer, "own.cjs"), `module.exports = require("awaitress");\n`);
}, 120_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("one runtime, however awaitress is loaded", () => {
  it("an ESM program and a CommonJS dependency share the current task, the clock, cancellation and the error classes", () => {
    write(
      join(consumer, "shared.mjs"),
      `import { createRequire } from "node:module";
import * as esm from "awaitress";
const require = createRequire(import.meta.url);
const dep = require("cjs-dep");
const own = require("./own.cjs");
const out = { sameModule: dep.awaitress.run === esm.run && own.run === esm.run };
await esm.run(
  async () => {
    const me = esm.currentTask();
    out.sameTask = me !== undefined && dep.whoAmI() === me;
    const loopStart = esm.time();
    const realStart = performance.now();
    await dep.nap(5);
    out.loopAdvanced = esm.time() - loopStart;
    out.realMs = performance.now() - realStart;

    const blocked = esm.createTask(() => dep.nap(60));
    const catching = esm.createTask(() => dep.napCatching(60));
    await esm.sleep(1);
    blocked.cancel("stop");
    catching.cancel("stop");
    try {
      await blocked;
      out.cancel = "not cancelled";
    } catch (e) {
      out.cancel = e instanceof esm.CancelledError ? "CancelledError" : String(e);
    }
    out.caught = await catching;

    try {
      dep.throwCancelled();
    } catch (e) {
      out.cjsErrorIsEsmClass = e instanceof esm.CancelledError && esm.isCancelled(e);
    }
    out.cjsIsCancelledOfEsm = dep.isCancelled(new esm.CancelledError("thrown by ESM code"));
  },
  { clock: "virtual" },
);
out.esmNames = Object.keys(esm).sort();
out.cjsNames = Object.keys(dep.awaitress).sort();
console.log(JSON.stringify(out));
`,
    );
    const { status, stdout, stderr } = node(["shared.mjs"]);
    expect(stderr).toBe("");
    expect(status).toBe(0);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out.sameModule).toBe(true);
    expect(out.sameTask).toBe(true);
    expect(out.loopAdvanced).toBe(5);
    expect(out.realMs).toBeLessThan(1000);
    expect(out.cancel).toBe("CancelledError");
    expect(out.caught).toBe("cancelled (CommonJS isCancelled)");
    expect(out.cjsErrorIsEsmClass).toBe(true);
    expect(out.cjsIsCancelledOfEsm).toBe(true);
    const names = Object.keys(awaitress).sort();
    expect(out.esmNames).toEqual(names);
    expect(out.cjsNames).toEqual(names);
  });

  it("the guide's CommonJS program runs as it says, without a warning", () => {
    const guide = readFileSync(join(ROOT, "docs", "guide.md"), "utf8");
    const section = guide.slice(guide.indexOf("## From CommonJS"));
    const program = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(program).toContain('require("awaitress")');
    write(join(consumer, "program.cjs"), program ?? "");
    expect(node(["program.cjs"])).toEqual({ status: 0, stdout: "3\n", stderr: "" });
  });

  // require(esm) refuses a module graph with top-level await (ERR_REQUIRE_ASYNC_MODULE).
  it.each(subpaths)("entry point %s has no top-level await in its ESM graph", (subpath) => {
    const specifier = subpath === "." ? "awaitress" : `awaitress/${subpath.slice(2)}`;
    const result = node(["-e", `require(${JSON.stringify(specifier)})`]);
    expect(result.stderr).not.toContain("ERR_REQUIRE_ASYNC_MODULE");
    expect(result).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it("each entry point's require target is a CommonJS shim over the ESM build, with CommonJS declarations", () => {
    const installed = join(consumer, "node_modules", "awaitress");
    for (const subpath of subpaths) {
      const module = moduleOf(subpath);
      expect(packed).toContain(`dist/cjs/${module}.js`);
      expect(packed).toContain(`dist/cjs/${module}.d.ts`);
      expect(packed).toContain(`dist/esm/${module}.d.ts`);
      const shim = readFileSync(join(installed, "dist", "cjs", `${module}.js`), "utf8");
      expect(shim).toContain(`module.exports = require("${"../".repeat(module.split("/").length)}esm/${module}.js");`);
    }
    expect(JSON.parse(readFileSync(join(installed, "dist", "cjs", "package.json"), "utf8"))).toEqual({
      type: "commonjs",
    });
    // Only the shims are CommonJS JavaScript (one per entry point, and one for Node's build of the
    // root, src/node.ts); everything else runs from dist/esm.
    expect(packed.filter((f) => f.startsWith("dist/cjs/") && f.endsWith(".js")).length).toBe(subpaths.length + 1);
  });

  it("TypeScript consumers compiled as CommonJS and as ESM both see the types", () => {
    write(
      join(consumer, "check.cts"),
      `import { run, sleep, type Task } from "awaitress";
const done: Promise<number> = run(async () => { await sleep(1); return 1; });
const task: Task | undefined = undefined;
// @ts-expect-error sleep takes seconds, a number
sleep("1");
export { done, task };
`,
    );
    write(join(consumer, "check.mts"), readFileSync(join(consumer, "check.cts"), "utf8"));
    const compilerOptions = {
      noEmit: true,
      strict: true,
      skipLibCheck: true,
      types: [],
      module: "node16",
      target: "es2022",
    };
    write(join(consumer, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["check.cts", "check.mts"] }));
    const result = node([join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("stack traces that point somewhere", () => {
  it("every source map in the tarball carries its sources or names files that are in it", () => {
    const maps = packed.filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(0);
    const installed = join(consumer, "node_modules", "awaitress");
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(readFileSync(join(installed, map), "utf8")) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      sources.forEach((source, i) => {
        const file = posix.normalize(posix.join(posix.dirname(map), source));
        if (typeof sourcesContent?.[i] !== "string" && !packed.includes(file)) missing.push(`${map}: ${source}`);
      });
    }
    expect(missing).toEqual([]);
  });

  it("node --enable-source-maps names the TypeScript source in a thrown error's stack", () => {
    write(join(consumer, "throws.mjs"), `import { Queue } from "awaitress";\nnew Queue().getNowait();\n`);
    const { status, stderr } = node(["--enable-source-maps", "throws.mjs"]);
    expect(status).toBe(1);
    expect(stderr).toContain("QueueEmpty");
    expect(stderr).toMatch(/at .*node_modules[\\/]awaitress[\\/]src[\\/]queues[\\/]queue\.ts:\d+:\d+/);
  });
});

// The tarball holds what the exports map names, and no tests or sources it does not need.
it("the tarball holds dist, README.md and package.json only", () => {
  const tops = new Set(packed.map((f) => f.split("/")[0]));
  expect([...tops].sort()).toEqual(["README.md", "dist", "package.json"]);
  expect(readdirSync(join(consumer, "node_modules", "awaitress", "dist")).sort()).toEqual(["cjs", "esm"]);
});
