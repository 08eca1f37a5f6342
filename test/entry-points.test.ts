/**
 * The entry points by concern (issue 15), as a program meets them: the built package, in a child
 * process, so no other test's imports install hooks first.
 * - `awaitress`'s plain build (src/index.ts, what a bundle for another platform gets) has no
 *   side effects: debug mode asks for `awaitress/debug` with a clear error instead of silently
 *   running without it, and works once it is imported.
 * - Node's build (src/node.ts, the "node" condition) loads debug mode on demand and reads
 *   AWAITRESS_TRACE; a bundle of it, which cannot load awaitress/trace beside itself, says so.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildSync } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const dist = (module: string) => JSON.stringify(pathToFileURL(join(ROOT, "dist", "esm", `${module}.js`)).href);
const dir = mkdtempSync(join(tmpdir(), "awaitress-entries-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function node(source: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir, `p${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, source);
  const out = spawnSync(process.execPath, [file], { encoding: "utf8", env: { ...process.env, ...env }, cwd: dir });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe.runIf(existsSync(join(ROOT, "dist", "esm", "node.js")))("entry points by concern", () => {
  it("the plain build refuses debug mode without awaitress/debug, naming the import; with it, debug mode runs", () => {
    const out = node(`
      const { run, sleep } = await import(${dist("index")});
      try {
        await run(async () => { await sleep(0.001); }, { debug: true });
        console.log("ran without awaitress/debug");
      } catch (e) { console.log(e.name, "|", e.message); }
      await import(${dist("debug/index")});
      console.log(await run(async () => { await sleep(0.001); return "ran with awaitress/debug"; }, { debug: true }));
    `);
    expect(out.stderr).toBe("");
    const [first, second] = out.stdout.trim().split("\n");
    expect(first).toMatch(/^InvalidStateError \| debug mode .* needs awaitress\/debug/);
    expect(first).toContain('import "awaitress/debug";');
    expect(second).toBe("ran with awaitress/debug");
  });

  it("AWAITRESS_DEBUG=1 on the plain build fails the run the same way (never a silent run without debug mode)", () => {
    const out = node(
      `const { run } = await import(${dist("index")});
       run(async () => 1).catch((e) => console.log(e.name));`,
      { AWAITRESS_DEBUG: "1" },
    );
    expect(out.stdout.trim()).toBe("InvalidStateError");
  });

  it("a trace sink that asks for steps needs awaitress/debug in the plain build too; awaitress/trace brings it", () => {
    const out = node(`
      const { run, sleep } = await import(${dist("index")});
      const sink = { steps: true, event() {} };
      await run(async () => { await sleep(0); }, { trace: sink }).catch((e) => console.log(e.message));
      const { Recorder } = await import(${dist("trace/index")});
      const trace = new Recorder();
      await run(async () => { await sleep(0); }, { trace });
      console.log(trace.events.some((e) => e.type === "task-created"));
    `);
    const [first, second] = out.stdout.trim().split("\n");
    expect(first).toMatch(/asks for steps .* need awaitress\/debug/);
    expect(second).toBe("true");
  });

  it("Node's build loads debug mode by itself (asyncio's run(main, debug=True) translated as is)", () => {
    const out = node(`
      const { run, sleep } = await import(${dist("node")});
      console.log(await run(async () => { await sleep(0.001); return "debug ran"; }, { debug: true }));
    `);
    expect(out.stdout.trim()).toBe("debug ran");
  });

  it("AWAITRESS_TRACE in a bundle of Node's build says it cannot load awaitress/trace, and the program still runs", () => {
    const bundle = join(dir, "bundle.mjs");
    const entry = join(dir, "entry.mjs");
    writeFileSync(
      entry,
      `import { run, sleep } from ${JSON.stringify(join(ROOT, "dist", "esm", "node.js"))};\nconsole.log(await run(async () => { await sleep(0); return "ran"; }));\n`,
    );
    buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: bundle,
      logLevel: "error",
    });
    const traceFile = join(dir, "t.jsonl");
    const out = spawnSync(process.execPath, [bundle], {
      encoding: "utf8",
      env: { ...process.env, AWAITRESS_TRACE: traceFile },
    });
    expect(out.stdout.trim()).toBe("ran");
    expect(out.stderr).toMatch(
      /AWAITRESS_TRACE is set, but awaitress\/trace could not be loaded .* is the program bundled\?/,
    );
    expect(existsSync(traceFile)).toBe(false);
  });

  it("in a bundle of Node's build, debug mode needs awaitress/debug imported (before or after awaitress), else says so", () => {
    const outcomes: string[] = [];
    const program = (imports: string) =>
      `${imports}\ntry { console.log(await run(async () => { await sleep(0); return "debug ran"; }, { debug: true })); }\ncatch (e) { console.log(e.name, "|", e.message); }\n`;
    const node = JSON.stringify(join(ROOT, "dist", "esm", "node.js"));
    const debug = JSON.stringify(join(ROOT, "dist", "esm", "debug", "index.js"));
    for (const [name, imports] of [
      ["none", `import { run, sleep } from ${node};`],
      ["before", `import ${debug};\nimport { run, sleep } from ${node};`],
      ["after", `import { run, sleep } from ${node};\nimport ${debug};`],
    ] as const) {
      const entry = join(dir, `debug-${name}.mjs`);
      const bundle = join(dir, `debug-${name}.bundle.mjs`);
      writeFileSync(entry, program(imports));
      buildSync({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: bundle,
        logLevel: "error",
      });
      const out = spawnSync(process.execPath, [bundle], { encoding: "utf8" });
      outcomes.push(out.stdout.trim());
    }
    expect(outcomes[0]).toMatch(
      /^InvalidStateError \| debug mode needs awaitress\/debug, which could not be loaded beside .* is the program bundled\? Add `import "awaitress\/debug";`/,
    );
    expect(outcomes.slice(1)).toEqual(["debug ran", "debug ran"]);
  });

  it("AWAITRESS_TRACE with Node's build unbundled records the run", () => {
    const traceFile = join(dir, "ok.jsonl");
    const out = node(
      `const { run, sleep } = await import(${dist("node")});
       await run(async () => { await sleep(0); });`,
      { AWAITRESS_TRACE: traceFile },
    );
    expect(out.stderr).toBe("");
    const events = readFileSync(traceFile, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string });
    expect(events.some((e) => e.type === "task-created")).toBe(true);
  });
});
