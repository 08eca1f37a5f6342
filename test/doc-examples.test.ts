/**
 * Every `@example` in src/ is compiled, and the whole ones are run.
 *
 * The convention, for whoever writes a doc comment:
 * - An example is the text after `@example` up to the next tag or the end of the comment (or,
 *   when it has ```ts fences, the code inside them). Text on the `@example` line itself is code.
 * - **Whole**: an example with an `import` line of its own is a program. It must import what it
 *   uses, by package name ("awaitress", "awaitress/trace", ...), exactly as a user would; it is
 *   type-checked as written and RUN (each with a time limit; an example that sleeps says
 *   `{ clock: "virtual" }`, so it runs in no real time). It must not throw.
 * - **Fragment**: any other example. It is type-checked, not run, inside a block, with
 *   1. every public name imported (the exports of each entry point of package.json: awaitress,
 *      awaitress/trace, awaitress/debug, ...),
 *   2. the exports of the file the comment is in (so an internal helper's example may use it),
 *   3. the free names of {@link PRELUDE} declared (`main`, `queue`, `lock`, `recorder`, ...: the
 *      names examples leave to the reader), with a file's own meaning from {@link FILE_PRELUDE}.
 *   A fragment may declare any of those names itself (the block shadows them). Anything else it
 *   uses must exist: a misspelt method, a wrong option or a missing argument fails the check.
 * A failure names the example's file:line in src/, with the compiler's message.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it, vi } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * The free names examples use, declared for every fragment: what each stands for. Each entry is
 * the declaration of the one name (an import, a type, a `declare`).
 */
const PRELUDE: Record<string, string> = {
  main: "declare function main(): Promise<void>;",
  Job: "type Job = string;",
  job: "declare const job: Job;",
  handle: "declare function handle(job: Job): Promise<void>;",
  queue: "declare const queue: Queue<Job>;",
  pool: "declare const pool: WorkerPool<Job>;",
  tasks: "declare const tasks: Task<number>[];",
  task: "declare const task: Task<unknown>;",
  lock: "declare const lock: Lock;",
  semaphore: "declare const semaphore: Semaphore;",
  limiter: "declare const limiter: RateLimiter;",
  recorder: "declare const recorder: Recorder;",
  signal: "declare const signal: AbortSignal;",
  url: "declare const url: string;",
  urls: "declare const urls: string[];",
  report: "declare const report: string;",
  text: "declare const text: string;",
  failFast: "declare const failFast: boolean;",
  fetchPage: "declare function fetchPage(url: string, options?: { signal?: AbortSignal }): Promise<string>;",
  HttpError: "declare class HttpError extends Error { readonly status: number; }",
  writeFileSync: 'import { writeFileSync } from "node:fs";',
  WorkerPool: 'import type { WorkerPool } from "./src/toolkit/worker-pool.js";',
};

/** What a free name means in one file's examples, where it differs from {@link PRELUDE}. */
const FILE_PRELUDE: Record<string, Record<string, string>> = {
  "src/redis/redis-queue.ts": {
    Job: "interface Job { url: string }",
    queue: "declare const queue: RedisQueue<Job>;",
  },
  "src/gather.ts": {
    taskA: "declare const taskA: Task<{ a: number }>;",
    taskB: "declare const taskB: Task<{ b: string }>;",
  },
  "src/debug/step-monitor.ts": {
    loop: "declare const loop: ConstructorParameters<typeof StepMonitor>[0];",
  },
  "src/internal/bundle.ts": {
    build: 'import { build } from "esbuild";',
  },
};

/** One `@example`: where it is, its code, and whether it is a whole program. */
interface Example {
  /** src/x.ts:LINE, the line of its first line of code. */
  where: string;
  file: string;
  line: number;
  code: string;
  whole: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** The `@example`s of one source file. */
function examplesOf(file: string, source: string): Example[] {
  const found: Example[] = [];
  for (const comment of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = source.slice(0, comment.index).split("\n").length;
    const lines = comment[0]
      .replace(/^\/\*\*/, "")
      .replace(/\*\/$/, "")
      .split("\n")
      .map((l) => l.replace(/^\s*\* ?/, ""));
    for (let i = 0; i < lines.length; i++) {
      const tag = /^\s*@example\b ?(.*)$/.exec(lines[i] as string);
      if (tag === null) continue;
      let start = i;
      const body: string[] = [tag[1] as string];
      let j = i + 1;
      for (; j < lines.length && !/^\s*@\w/.test(lines[j] as string); j++) body.push(lines[j] as string);
      if ((tag[1] as string).trim() === "") {
        body.shift();
        start = i + 1;
      }
      let code = body.join("\n");
      let line = firstLine + start;
      const fenced = /```(?:ts|typescript|js)\n([\s\S]*?)```/.exec(code);
      if (fenced) {
        line += code.slice(0, fenced.index).split("\n").length;
        code = fenced[1] as string;
      }
      code = code.replace(/\s+$/, "");
      if (code.trim() === "") continue;
      found.push({ where: `${file}:${line}`, file, line, code, whole: /^import\s/m.test(code) });
      i = j - 1;
    }
  }
  return found;
}

const examples = sourceFiles(join(ROOT, "src"))
  .sort()
  .flatMap((path) => examplesOf(relative(ROOT, path), readFileSync(path, "utf8")));

/** tsconfig.json's options (strict, NodeNext, and the paths that map "awaitress" to src/). */
function compilerOptions(): ts.CompilerOptions {
  const config = ts.readConfigFile(join(ROOT, "tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  return { ...parsed.options, noEmit: true };
}

/** package.json's entry points: specifier ("awaitress/trace") → the src file tsconfig maps it to. */
function entryPoints(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, unknown>;
  };
  const paths = compilerOptions().paths ?? {};
  const entries = new Map<string, string>();
  for (const key of Object.keys(pkg.exports)) {
    if (key === "./package.json") continue;
    const specifier = key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`;
    const exact = paths[specifier]?.[0];
    const wildcard = paths[`${pkg.name}/*`]?.[0]?.replace("*", key.slice(2));
    const target = exact ?? wildcard;
    if (target === undefined) throw new Error(`tsconfig.json has no path for ${specifier}`);
    entries.set(specifier, resolve(ROOT, target));
  }
  return entries;
}

const ENTRIES = entryPoints();

/** Where example N's source is compiled from (never written: the compiler host serves it). */
const virtualPath = (n: number) => join(ROOT, `__doc_example_${n}.ts`);

interface Checked {
  /** The compiler's complaints, as "src/x.ts:LINE: message". */
  errors: string[];
}

/** A program over every example; `wrap` builds each example's module text. */
function compile(files: Map<string, string>): ts.Program {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, onError, create) => {
    const text = files.get(f);
    if (text !== undefined) return ts.createSourceFile(f, text, language, true);
    return getSourceFile.call(host, f, language, onError, create);
  };
  return ts.createProgram([...files.keys()], options, host);
}

/** The names a module exports (a value or a type). */
function exportsOf(checker: ts.TypeChecker, sourceFile: ts.SourceFile | undefined): string[] {
  const symbol = sourceFile && checker.getSymbolAtLocation(sourceFile);
  return symbol ? checker.getExportsOfModule(symbol).map((s) => s.getName()) : [];
}

const specifierOf = (from: string, to: string) => {
  const path = relative(dirname(from), to).replace(/\.ts$/, ".js");
  return path.startsWith(".") ? path : `./${path}`;
};

/** The text each example is compiled as, and the line of its code in that text. */
function wrap(): { files: Map<string, string>; codeLine: number[] } {
  // First the entry points and the files with examples alone, for the names they export.
  const probe = compile(
    new Map(
      [...new Set([...ENTRIES.values(), ...examples.map((e) => join(ROOT, e.file))])].map((f) => [
        f,
        readFileSync(f, "utf8"),
      ]),
    ),
  );
  const checker = probe.getTypeChecker();
  const imported = new Set<string>();
  const publicImports: string[] = [];
  for (const [specifier, file] of ENTRIES) {
    const names = exportsOf(checker, probe.getSourceFile(file)).filter((n) => !imported.has(n));
    for (const n of names) imported.add(n);
    if (names.length > 0) publicImports.push(`import { ${names.join(", ")} } from "${specifier}";`);
  }
  const files = new Map<string, string>();
  const codeLine: number[] = [];
  examples.forEach((example, n) => {
    const path = virtualPath(n);
    if (example.whole) {
      files.set(path, `${example.code}\nexport {};\n`);
      codeLine.push(0);
      return;
    }
    const own = join(ROOT, example.file);
    const ownNames = exportsOf(checker, probe.getSourceFile(own)).filter((name) => !imported.has(name));
    const header = [...publicImports];
    if (ownNames.length > 0) header.push(`import { ${ownNames.join(", ")} } from "${specifierOf(path, own)}";`);
    const known = new Set([...imported, ...ownNames]);
    const prelude = { ...PRELUDE, ...FILE_PRELUDE[example.file] };
    for (const [name, declaration] of Object.entries(prelude)) {
      if (!known.has(name)) header.push(declaration);
    }
    header.push("{");
    files.set(path, `${header.join("\n")}\n${example.code}\n}\nexport {};\n`);
    codeLine.push(header.length);
  });
  return { files, codeLine };
}

function check(): Checked[] {
  const { files, codeLine } = wrap();
  const program = compile(files);
  return examples.map((example, n) => {
    const sourceFile = program.getSourceFile(virtualPath(n)) as ts.SourceFile;
    const diagnostics = [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    const errors = diagnostics.map((d) => {
      const at = d.start === undefined ? 0 : sourceFile.getLineAndCharacterOfPosition(d.start).line;
      const offset = at - (codeLine[n] as number);
      const where = offset >= 0 ? `${example.file}:${example.line + offset}` : `${example.where} (in the prelude)`;
      return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    return { errors };
  });
}

describe("the @example blocks of src/", () => {
  it("are found: whole programs and fragments", () => {
    expect(examples.length).toBeGreaterThan(80);
    expect(examples.filter((e) => e.whole).length).toBeGreaterThan(20);
  });

  it("every one type-checks against src (the errors name the example's file:line)", () => {
    const results = check();
    const errors = results.flatMap((r) => r.errors);
    expect(errors).toEqual([]);
  }, 120_000);
});

describe("the whole @example programs run", () => {
  const dir = mkdtempSync(join(tmpdir(), "awaitress-examples-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The example with its package imports pointed at src/ (the file is outside the project). */
  function runnable(code: string): string {
    return code.replace(/(from |import )"(awaitress(?:\/[\w-]+)?)"/g, (all, keyword: string, specifier: string) => {
      const file = ENTRIES.get(specifier);
      return file === undefined ? all : `${keyword}${JSON.stringify(pathToFileURL(file).href)}`;
    });
  }

  it.each(examples.filter((e) => e.whole).map((e) => [e.where, e] as const))(
    "%s runs to its end without an error",
    async (_where, example) => {
      const file = join(dir, `${example.where.replace(/[/:.]/g, "_")}.ts`);
      writeFileSync(file, runnable(example.code));
      const printed: unknown[][] = [];
      vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(args));
      const errors: unknown[][] = [];
      vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void errors.push(args));
      try {
        await import(pathToFileURL(file).href);
      } finally {
        vi.restoreAllMocks();
      }
      expect(errors).toEqual([]);
    },
    10_000,
  );
});
