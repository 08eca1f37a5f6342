// The package as a user installs it: built and packed from a copy of the sources, the tarball
// installed into a consumer project, programs run there by a real `node` (the one running the
// suite: Node 20, then Node 24 under `npm test`).
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as awaitress from "../src/node.js";

const ROOT = resolve(import.meta.dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

let dir: string;
let consumer: string;
/** The tarball's path. */
let tarball: string;
/** The tarball's files, as `npm pack` lists them ("dist/esm/index.js", ...). */
let packed: string[];
/** What `npm install` of the tarball printed. */
let installOutput: string;
interface Conditions {
  import?: { default?: string };
  require?: { default?: string };
}
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, (Conditions & { node?: Conditions }) | string>;
  typesVersions?: Record<string, Record<string, string[]>>;
};
const exportsMap = manifest.exports;
/** package.json's export subpaths, "." first. */
const subpaths = Object.keys(exportsMap).filter((subpath) => subpath !== "./package.json");
/** The specifier a user writes for an export subpath: "awaitress", "awaitress/trace". */
const specifierOf = (subpath: string): string => (subpath === "." ? "awaitress" : `awaitress/${subpath.slice(2)}`);
const specifiers = subpaths.map(specifierOf);

/** The source module Node runs for an entry point's `import`: the "node" condition's, else `import`'s. */
function nodeSourceOf(subpath: string): string {
  const entry = exportsMap[subpath];
  const target = typeof entry === "object" ? (entry.node?.import?.default ?? entry.import?.default) : undefined;
  if (target === undefined) throw new Error(`package.json's exports["${subpath}"] has no import target`);
  return join(ROOT, "src", target.replace(/^\.\/dist\/esm\//, "").replace(/\.js$/, ".ts"));
}

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
  // `npm pack` runs the prepack script, the build.
  const report = execFileSync(npm, ["pack", "--json", "--pack-destination", dir], { cwd: copy, encoding: "utf8" });
  const [info] = JSON.parse(report.slice(report.indexOf("["))) as { filename: string; files: { path: string }[] }[];
  if (info === undefined) throw new Error(`npm pack said: ${report}`);
  packed = info.files.map((f) => f.path);
  tarball = join(dir, info.filename);

  consumer = join(dir, "consumer");
  write(join(consumer, "package.json"), `${JSON.stringify({ name: "consumer", private: true, type: "module" })}\n`);
  const install = spawnSync(npm, ["install", "--offline", "--no-audit", "--no-fund", tarball], {
    cwd: consumer,
    encoding: "utf8",
  });
  installOutput = install.stdout + install.stderr;
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${installOutput}`);
  // The optional peer dependency of awaitress/redis, as a user of that entry installs it.
  symlinkSync(join(ROOT, "node_modules", "redis"), join(consumer, "node_modules", "redis"), "dir");
  // What a TypeScript user on Node has installed beside it.
  mkdirSync(join(consumer, "node_modules", "@types"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules", "@types", "node"), join(consumer, "node_modules", "@types", "node"), "dir");
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
    // Only the shims are CommonJS JavaScript (one per `require` target, the "node" condition's
    // included); everything else runs from dist/esm.
    const requireTargets = subpaths.flatMap((subpath) => {
      const entry = exportsMap[subpath];
      if (typeof entry !== "object") return [];
      return [entry.require?.default, entry.node?.require?.default].flatMap((t) =>
        t === undefined ? [] : [t.slice(2)],
      );
    });
    expect(packed.filter((f) => f.startsWith("dist/cjs/") && f.endsWith(".js")).sort()).toEqual(
      [...new Set(requireTargets)].sort(),
    );
  });
});

describe("every entry point, as a user loads it", () => {
  it("each entry point, imported from ESM and required from CommonJS, is one module with its source's names", async () => {
    write(
      join(consumer, "entries.mjs"),
      `import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const out = {};
for (const specifier of ${JSON.stringify(specifiers)}) {
  const esm = await import(specifier);
  out[specifier] = { names: Object.keys(esm).sort(), sameAsRequire: require(specifier) === esm };
}
console.log(JSON.stringify(out));
`,
    );
    write(
      join(consumer, "entries.cjs"),
      `const out = {};
for (const specifier of ${JSON.stringify(specifiers)}) out[specifier] = Object.keys(require(specifier)).sort();
console.log(JSON.stringify(out));
`,
    );
    const esm = node(["entries.mjs"]);
    const cjs = node(["entries.cjs"]);
    expect(esm.stderr + cjs.stderr).toBe("");
    const fromEsm = JSON.parse(esm.stdout) as Record<string, { names: string[]; sameAsRequire: boolean }>;
    const fromCjs = JSON.parse(cjs.stdout) as Record<string, string[]>;
    for (const subpath of subpaths) {
      const specifier = specifierOf(subpath);
      const names = Object.keys(await import(/* @vite-ignore */ nodeSourceOf(subpath))).sort();
      expect(names.length, specifier).toBeGreaterThan(0);
      expect(fromEsm[specifier], specifier).toEqual({ names, sameAsRequire: true });
      expect(fromCjs[specifier], specifier).toEqual(names);
    }
  });

  it("awaitress/testing runs a program of awaitress on its virtual clock, from ESM and from CommonJS", () => {
    const program = (load: string) => `${load}
runVirtual(async () => {
  const q = new Queue();
  const worker = createTask(async () => { await sleep(15); await q.put("done"); });
  await gather(worker, sleep(10));
  return q.getNowait();
}).then((r) => console.log(JSON.stringify(r)));
`;
    write(
      join(consumer, "virtual.mjs"),
      program(
        `import { createTask, gather, Queue, sleep } from "awaitress";\nimport { runVirtual } from "awaitress/testing";`,
      ),
    );
    write(
      join(consumer, "virtual.cjs"),
      program(
        `const { createTask, gather, Queue, sleep } = require("awaitress");\nconst { runVirtual } = require("awaitress/testing");`,
      ),
    );
    const expected = { status: 0, stdout: `${JSON.stringify({ value: "done", errors: [], time: 15 })}\n`, stderr: "" };
    expect(node(["virtual.mjs"])).toEqual(expected);
    expect(node(["virtual.cjs"])).toEqual(expected);
  });

  // Every runtime name of every entry point is in its types and nothing else is (a mapped type over
  // the namespace: a missing name is a missing property, an extra one an excess property), for each
  // way TypeScript resolves packages; the declarations themselves are checked (skipLibCheck false).
  it.each(["node16", "bundler", "node10"] as const)(
    "TypeScript with moduleResolution %s type-checks every entry point strictly, declarations included",
    async (resolution) => {
      const lines: string[] = [];
      for (const [i, subpath] of subpaths.entries()) {
        const names = Object.keys(await import(/* @vite-ignore */ nodeSourceOf(subpath))).sort();
        lines.push(`import * as entry${i} from "${specifierOf(subpath)}";`);
        lines.push(
          `export const names${i}: { [K in keyof typeof entry${i}]: true } = { ${names.map((n) => `${n}: true`).join(", ")} };`,
        );
      }
      lines.push(`import { createTask, gather, Queue, run, sleep, Timer, type Task } from "awaitress";
import { runVirtual, settle, type VirtualRun } from "awaitress/testing";
export const done: Promise<number> = run(async () => { await sleep(1); return 1; });
export const virtual: Promise<VirtualRun<string>> = runVirtual(async () => {
  const q = new Queue<string>();
  const t: Task<void> = createTask(async () => { await q.put("x"); });
  await gather(t, settle());
  new Timer({ text: "{:.1f}" }).start();
  return q.getNowait();
});
// @ts-expect-error sleep takes seconds, a number
sleep("1");
`);
      const program = lines.join("\n");
      const base = { noEmit: true, strict: true, skipLibCheck: false, types: ["node"], target: "es2022" };
      const files: Record<string, string> =
        resolution === "node16" ? { "check.mts": program, "check.cts": program } : { "check.ts": program };
      const compilerOptions =
        resolution === "node16"
          ? { ...base, module: "node16", moduleResolution: "node16" }
          : resolution === "bundler"
            ? { ...base, module: "preserve", moduleResolution: "bundler" }
            : { ...base, module: "commonjs", moduleResolution: "node10", esModuleInterop: true };
      const project = join(consumer, `ts-${resolution}`);
      for (const [name, text] of Object.entries(files)) write(join(project, name), text);
      write(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, files: Object.keys(files) }));
      const result = node([join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", project]);
      expect(result.stdout + result.stderr).toBe("");
      expect(result.status).toBe(0);
    },
    120_000,
  );

  it("typesVersions maps every subpath for TypeScript's node10 resolution, to the require types", () => {
    const map = manifest.typesVersions?.["*"] ?? {};
    const expected = Object.fromEntries(
      subpaths
        .filter((subpath) => subpath !== ".")
        .map((subpath) => {
          const entry = exportsMap[subpath] as { require: { types: string } };
          return [subpath.slice(2), [entry.require.types]];
        }),
    );
    expect(map).toEqual(expected);
  });
});

describe("the tarball as the registry would serve it", () => {
  it("installs without running a script and without an engine warning", () => {
    expect(installOutput).not.toMatch(/EBADENGINE|npm warn/i);
    const installed = JSON.parse(readFileSync(join(consumer, "node_modules", "awaitress", "package.json"), "utf8")) as {
      scripts?: Record<string, string>;
    };
    // npm runs these when it installs a package from a tarball (prepack runs only on pack and publish).
    for (const script of ["preinstall", "install", "postinstall", "prepare"]) {
      expect(installed.scripts?.[script], script).toBeUndefined();
    }
    const lock = JSON.parse(readFileSync(join(consumer, "package-lock.json"), "utf8")) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    expect(lock.packages["node_modules/awaitress"]).toBeDefined();
    expect(lock.packages["node_modules/awaitress"]?.hasInstallScript).toBeUndefined();
  });

  // publint (package.json against the files) and arethetypeswrong (the types as each resolution
  // mode finds them, strict profile: node10, node16 from CJS and ESM, bundler) on the packed tarball.
  it("publint --strict finds nothing to say", () => {
    const bin = realpathSync(join(ROOT, "node_modules", ".bin", "publint"));
    const result = spawnSync(process.execPath, [bin, "run", tarball, "--strict"], { encoding: "utf8" });
    expect(result.stdout + result.stderr).toContain("All good!");
    expect(result.status).toBe(0);
  });

  it("arethetypeswrong finds no problem in any entry point", () => {
    const bin = realpathSync(join(ROOT, "node_modules", ".bin", "attw"));
    const result = spawnSync(
      process.execPath,
      [bin, tarball, "--profile", "strict", "--no-definitely-typed", "--format", "json"],
      { encoding: "utf8" },
    );
    const report = JSON.parse(result.stdout) as {
      analysis: { problems: unknown[]; entrypoints: Record<string, unknown> };
    };
    expect(report.analysis.problems).toEqual([]);
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual([...subpaths, "./package.json"].sort());
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
  expect(readdirSync(join(consumer, "node_modules", "awaitress", "dist")).sort()).toEqual(["browser", "cjs", "esm"]);
});
