// The declarations a user's editor reads: dist/**/*.d.ts publish the API and nothing else. No
// member or export named `_…` (the library's own state), none of the core's wiring (the hooks
// src/index.ts sets, the task context), and the files still compile for a strict consumer that
// checks them (`skipLibCheck: false`), through every entry point package.json exports, under
// `moduleResolution` node16 (ESM and CommonJS) and bundler.
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const DIST = join(ROOT, "dist");

/**
 * Exports of the core's modules that exist for the library's own wiring, never for users: if one
 * of these names is declared in a .d.ts, the internals are showing.
 */
const INTERNAL_EXPORTS = [
  "setInstrumenter",
  "Instrumenter",
  "Instrumentation",
  "setLoopHook",
  "LoopHook",
  "isDefaultLoop",
  "taskContext",
  "defaultErrorHandler",
  "PROCESS_TRACE_HOOK",
  "LoopImpl",
  "LoopOptions",
  "StepObserver",
  "runningLoop",
  "trampoline",
  "resumeReaction",
  "toFuture",
  "doneFuture",
  "failedFuture",
  "operationTask",
  "trackLoop",
  "registerPs",
  "instrument",
  "processTraceFromEnv",
  "writeOnExit",
];

/** A target in package.json's exports: a path, or conditions (in order) mapping to targets. */
type Target = string | { [condition: string]: Target };
const exportsMap = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, Target> })
  .exports;

/** The first `types` file `target` resolves to under `conditions` (as Node and TypeScript pick: first key that matches). */
function typesFor(target: Target, conditions: string[]): string | undefined {
  if (typeof target === "string") return undefined;
  for (const [condition, next] of Object.entries(target)) {
    if (condition === "types" && typeof next === "string") return join(ROOT, next);
    if (condition !== "default" && !conditions.includes(condition)) continue;
    const found = typesFor(next, conditions);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every `types` file a target names, under any condition. */
function allTypes(target: Target): string[] {
  if (typeof target === "string") return [];
  return Object.entries(target).flatMap(([condition, next]) =>
    condition === "types" && typeof next === "string" ? [join(ROOT, next)] : allTypes(next),
  );
}

/**
 * The conditions TypeScript resolves with, per consumer: `moduleResolution` node16 importing
 * from ESM (.mts) and from CommonJS (.cts) — Node's conditions — and bundler (no "node").
 */
const RESOLUTIONS = {
  mts: ["types", "node", "import"],
  cts: ["types", "node", "require"],
  ts: ["types", "import"],
} as const;

/** Every entry point: its specifier, its export target, and the declarations each consumer resolves it to. */
const entries = Object.entries(exportsMap)
  .filter(([subpath]) => subpath !== "./package.json")
  .map(([subpath, target]) => {
    const resolved = (kind: keyof typeof RESOLUTIONS): string => {
      const path = typesFor(target, [...RESOLUTIONS[kind]]);
      if (path === undefined) throw new Error(`package.json's exports["${subpath}"] has no types for .${kind}`);
      return path;
    };
    return {
      specifier: subpath === "." ? "awaitress" : `awaitress/${subpath.slice(2)}`,
      types: allTypes(target),
      mts: resolved("mts"),
      cts: resolved("cts"),
      ts: resolved("ts"),
    };
  });

function declarationFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...declarationFiles(path));
    else if (entry.name.endsWith(".d.ts")) files.push(path);
  }
  return files;
}

/** The name a declaration node gives, if it names anything. */
function declaredName(node: ts.Node): string | undefined {
  if (
    (ts.isClassElement(node) ||
      ts.isTypeElement(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isClassDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isEnumDeclaration(node) ||
      ts.isEnumMember(node) ||
      ts.isVariableDeclaration(node) ||
      ts.isModuleDeclaration(node) ||
      ts.isExportSpecifier(node)) &&
    node.name !== undefined &&
    (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name) || ts.isPrivateIdentifier(node.name))
  ) {
    return node.name.text;
  }
  return undefined;
}

/** Every declaration in the .d.ts files under dist/esm and dist/cjs that should not be there, as "file:line name". */
function leaks(): string[] {
  const denied = new Set(INTERNAL_EXPORTS);
  const found: string[] = [];
  for (const file of [...declarationFiles(join(DIST, "esm")), ...declarationFiles(join(DIST, "cjs"))]) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      const name = declaredName(node);
      if (name !== undefined && (name.startsWith("_") || denied.has(name))) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        found.push(`${relative(ROOT, file)}:${line + 1} ${name}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/** The names (values and types) each declaration file exports: one program over them all. */
function publicNames(declarations: string[]): Map<string, string[]> {
  const program = ts.createProgram(declarations, { noEmit: true, module: ts.ModuleKind.Node16, types: [] });
  const checker = program.getTypeChecker();
  const names = new Map<string, string[]>();
  for (const file of declarations) {
    const source = program.getSourceFile(file);
    const symbol = source === undefined ? undefined : checker.getSymbolAtLocation(source);
    if (symbol === undefined) throw new Error(`${file} is not a module`);
    names.set(
      file,
      checker
        .getExportsOfModule(symbol)
        .map((s) => s.name)
        .sort(),
    );
  }
  return names;
}

let consumer: string;

beforeAll(() => {
  if (!existsSync(join(DIST, "esm", "index.d.ts")) || !existsSync(join(DIST, "cjs", "index.d.ts"))) {
    execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, stdio: "ignore" });
  }
  // A project that depends on awaitress: the package (this checkout, with its dist) and what its
  // declarations refer to (Node's types; redis for awaitress/redis) in its node_modules.
  consumer = mkdtempSync(join(tmpdir(), "awaitress-decl-"));
  mkdirSync(join(consumer, "node_modules", "@types"), { recursive: true });
  symlinkSync(ROOT, join(consumer, "node_modules", "awaitress"), "dir");
  symlinkSync(join(ROOT, "node_modules", "@types", "node"), join(consumer, "node_modules", "@types", "node"), "dir");
  symlinkSync(join(ROOT, "node_modules", "redis"), join(consumer, "node_modules", "redis"), "dir");
  const kinds = ["mts", "cts", "ts"] as const;
  const names = publicNames([...new Set(entries.flatMap((entry) => kinds.map((kind) => entry[kind])))]);
  for (const [i, entry] of entries.entries()) {
    for (const kind of kinds) {
      // Importing a name checks it is exported; with skipLibCheck off, tsc checks every
      // declaration file the program loads.
      const exported = names.get(entry[kind]);
      if (exported === undefined || exported.length === 0) throw new Error(`${entry[kind]} exports nothing`);
      const program = `import { ${exported.join(", ")} } from "${entry.specifier}";\nexport {};\n`;
      writeFileSync(join(consumer, `entry${i}.${kind}`), program);
    }
  }
  // What a program sees of the loop and of a task: the API, not the state behind it.
  const narrow = `import { getRunningLoop, type Loop, type Task } from "awaitress";
const loop: Loop = getRunningLoop();
export const now: number = loop.time() + loop.clock.now();
export const closed: boolean = loop.closed || loop.debug;
loop.callSoon((n: number) => n, 1);
// @ts-expect-error the loop's registry of tasks is not API (allTasks() is)
loop.tasks;
// @ts-expect-error nor is its trace sink
loop.trace;
// @ts-expect-error nor closing it (run does)
loop.close();
export function state(task: Task): void {
  // @ts-expect-error a task's cancellation state is its own
  task._mustCancel;
}
`;
  writeFileSync(join(consumer, "narrow.mts"), narrow);
  writeFileSync(join(consumer, "narrow.ts"), narrow);
}, 120_000);

afterAll(() => {
  if (consumer !== undefined) rmSync(consumer, { recursive: true, force: true });
});

/** Runs tsc in the consumer project with `compilerOptions` over `files`; what it printed. */
function tsc(compilerOptions: Record<string, unknown>, files: string[]): { status: number | null; output: string } {
  const config = `tsconfig.${String(compilerOptions.moduleResolution)}.json`;
  const options = {
    noEmit: true,
    strict: true,
    skipLibCheck: false,
    target: "es2022",
    lib: ["es2023", "esnext.disposable"],
    types: ["node"],
    ...compilerOptions,
  };
  writeFileSync(join(consumer, config), JSON.stringify({ compilerOptions: options, files }));
  const result = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", config], {
    cwd: consumer,
    encoding: "utf8",
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("the published declarations", () => {
  it("package.json exports at least the root entry point, each declaration file it names built", () => {
    expect(entries.map((e) => e.specifier)).toContain("awaitress");
    for (const entry of entries) {
      for (const path of entry.types) expect(existsSync(path), path).toBe(true);
    }
  });

  it("declare no `_` member or export and none of the core's wiring, in dist/esm or dist/cjs", () => {
    expect(leaks()).toEqual([]);
  });

  it("compile for a strict consumer importing every public name, moduleResolution node16 (ESM and CommonJS), every file included", () => {
    // And every declaration file itself, those no entry point reaches included.
    const files = [
      ...entries.flatMap((_, i) => [`entry${i}.mts`, `entry${i}.cts`]),
      "narrow.mts",
      ...declarationFiles(join(DIST, "esm")),
      ...declarationFiles(join(DIST, "cjs")),
    ];
    const result = tsc({ module: "node16", moduleResolution: "node16" }, files);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  }, 60_000);

  it("compile for a strict consumer importing every public name, moduleResolution bundler", () => {
    const files = [...entries.map((_, i) => `entry${i}.ts`), "narrow.ts"];
    const result = tsc({ module: "esnext", moduleResolution: "bundler" }, files);
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  }, 60_000);
});
