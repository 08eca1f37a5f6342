/**
 * Issue 11: Ctrl-C and SIGTERM as asyncio.run does it. The first signal cancels main, `finally`
 * blocks and task groups unwind, `run` rejects with `Interrupted` and the process exits 130
 * (SIGINT) or 143 (SIGTERM); a second signal exits at once; a program's own listener wins; runs
 * in progress share one listener per signal. The signals are real, sent to a child process once
 * it printed "ready". The children are plain `node` on a bundle of src/ made once by esbuild (a
 * child starts in tens of milliseconds, where one through tsx takes about a second).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledSourcesPlugin } from "../src/internal/bundle.js";
import { createTask, InvalidStateError, run, sleep } from "../src/node.js";

const ROOT = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "awaitress-interrupt-"));
const BUNDLE = join(dir, "awaitress.mjs");
const INDEX = JSON.stringify(pathToFileURL(BUNDLE).href);
beforeAll(async () => {
  await build({
    // Node's build, and awaitress/debug: a bundle cannot load debug mode beside itself on demand.
    stdin: {
      contents: `import "./src/debug/index.ts";\nexport * from "./src/node.ts";\n`,
      resolveDir: ROOT,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    outfile: BUNDLE,
    // The page's script and the watchdog's worker, bundled into the bundle (src/internal/bundle.ts).
    plugins: [bundledSourcesPlugin],
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `source` (an ES module; `INDEX` stands for the import path of awaitress) in a child
 * process; each time its stdout grows to contain the next marker of `script`, sends that
 * marker's signal.
 */
function runChild(
  name: string,
  source: string,
  script: readonly [marker: string, signal: NodeJS.Signals][] = [],
): Promise<Outcome> {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source.replaceAll("INDEX", INDEX));
  return new Promise((done, fail) => {
    const child: ChildProcess = spawn(process.execPath, [file], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    let next = 0;
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      for (;;) {
        const step = script[next];
        if (step === undefined || !stdout.includes(step[0])) break;
        next++;
        child.kill(step[1]);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");

// main waits in a task group whose child waits too; both have a `finally`.
const UNWINDS = `
import { run, sleep, taskGroup } from INDEX;
await run(async () => {
  try {
    await taskGroup(async (tg) => {
      tg.createTask(async () => {
        try { await sleep(60) } finally { console.log("child finally") }
      }, { name: "child" });
      await sleep(0);
      console.log("ready");
      await sleep(60);
    });
  } finally {
    console.log("main finally");
  }
}, SIGNALS);
console.log("after run: not reached");
`;

describe("run() and real signals", () => {
  it("SIGINT cancels main: finally in a TaskGroup child and in main run, then exit code 130", async () => {
    const out = await runChild("sigint", UNWINDS.replace("SIGNALS", "{}"), [["ready", "SIGINT"]]);
    expect(lines(out.stdout)).toEqual(["ready", "child finally", "main finally"]);
    expect(out.signal).toBe(null);
    expect(out.code).toBe(130);
    // The unhandled rejection is printed as Node prints any, with the error's name and message.
    expect(out.stderr).toContain("Interrupted: run() was interrupted by SIGINT");
  });

  it("SIGTERM does the same with exit code 143", async () => {
    const out = await runChild("sigterm", UNWINDS.replace("SIGNALS", "{}"), [["ready", "SIGTERM"]]);
    expect(lines(out.stdout)).toEqual(["ready", "child finally", "main finally"]);
    expect(out.code).toBe(143);
    expect(out.stderr).toContain("Interrupted: run() was interrupted by SIGTERM");
  });

  it("signals: false leaves the signal to Node: killed by it, no finally runs", async () => {
    const out = await runChild("off", UNWINDS.replace("SIGNALS", "{ signals: false }"), [["ready", "SIGINT"]]);
    expect(lines(out.stdout)).toEqual(["ready"]);
    expect(out.signal).toBe("SIGINT");
  });

  it('signals: ["SIGINT"] cancels on SIGINT only; SIGTERM keeps Node\'s default', async () => {
    const only = UNWINDS.replace("SIGNALS", '{ signals: ["SIGINT"] }');
    const term = await runChild("only-term", only, [["ready", "SIGTERM"]]);
    expect(term.signal).toBe("SIGTERM");
    expect(lines(term.stdout)).toEqual(["ready"]);
    const int = await runChild("only-int", only, [["ready", "SIGINT"]]);
    expect(int.code).toBe(130);
  });

  it("a second SIGINT while the cleanup is slow exits at once with 130", async () => {
    const out = await runChild(
      "twice",
      `
      import { run, sleep } from INDEX;
      await run(async () => {
        try {
          console.log("ready");
          await sleep(60);
        } finally {
          console.log("cleaning up");
          await sleep(60);
          console.log("cleaned up: not reached");
        }
      });
      `,
      [
        ["ready", "SIGINT"],
        ["cleaning up", "SIGINT"],
      ],
    );
    expect(lines(out.stdout)).toEqual(["ready", "cleaning up"]);
    expect(out.code).toBe(130);
    expect(out.stderr).toContain("awaitress: SIGINT again while the run unwinds: exiting at once (exit code 130)");
  });

  it("main that catches the cancellation and returns: run resolves to its value, exit code 0", async () => {
    const out = await runChild(
      "swallow",
      `
      import { isCancelled, run, sleep } from INDEX;
      const value = await run(async () => {
        try {
          console.log("ready");
          await sleep(60);
          return "slept";
        } catch (e) {
          if (!isCancelled(e)) throw e;
          return "stopped early";
        }
      });
      console.log("run returned", value);
      `,
      [["ready", "SIGINT"]],
    );
    expect(lines(out.stdout)).toEqual(["ready", "run returned stopped early"]);
    expect(out.code).toBe(0);
    expect(out.stderr).toBe("");
  });

  it("one Ctrl-C cancels two runs at once (both in debug mode), through one listener; each prints its tree", async () => {
    const out = await runChild(
      "two",
      `
      import { run, sleep } from INDEX;
      const before = process.listenerCount("SIGINT");
      let ready = 0;
      const body = (name) => async () => {
        try {
          console.log(name, "listeners", process.listenerCount("SIGINT") - before);
          if (++ready === 2) console.log("ready");
          await sleep(60);
        } finally {
          console.log(name, "finally");
        }
      };
      const results = await Promise.allSettled([
        run(body("a"), { debug: true, name: "a" }),
        run(body("b"), { debug: true, name: "b" }),
      ]);
      for (const r of results) console.log(r.status, r.status === "rejected" ? r.reason.name : r.value);
      console.log("listeners after", process.listenerCount("SIGINT") - before, process.exitCode);
      `,
      [["ready", "SIGINT"]],
    );
    // The two runs start in either order (each waits for its watchdog thread first).
    const printed = lines(out.stdout);
    expect(printed.slice(0, 2).sort()).toEqual(["a listeners 1", "b listeners 1"]);
    expect(printed[2]).toBe("ready");
    expect(printed.slice(3, 5).sort()).toEqual(["a finally", "b finally"]);
    expect(printed.slice(5)).toEqual(["rejected Interrupted", "rejected Interrupted", "listeners after 0 130"]);
    // The rejections were handled; run set the exit code all the same.
    expect(out.code).toBe(130);
    expect(out.stderr).toMatch(/1 pending task at [\d.]+(?:µs|ms|s) \(loop time\)\na \(id 1\) waiting on sleep 60s/);
    expect(out.stderr).toMatch(/1 pending task at [\d.]+(?:µs|ms|s) \(loop time\)\nb \(id 1\) waiting on sleep 60s/);
  });

  it("with the program's own SIGINT listener, run leaves the signal to it and cancels nothing", async () => {
    const out = await runChild(
      "own",
      `
      import { Event, run } from INDEX;
      const value = await run(async () => {
        const stop = new Event();
        const onSigint = () => { console.log("the program got SIGINT"); stop.set(); };
        process.on("SIGINT", onSigint);
        // What keeps a real program alive (a server's socket): with nothing, Node exits at once
        // (a signal listener holds nothing), racing the signal.
        const server = setInterval(() => {}, 1000);
        try {
          console.log("ready");
          await stop.wait();
          return "stopped by the program";
        } finally {
          clearInterval(server);
          process.off("SIGINT", onSigint);
        }
      });
      console.log("run returned", value);
      `,
      [["ready", "SIGINT"]],
    );
    expect(lines(out.stdout)).toEqual(["ready", "the program got SIGINT", "run returned stopped by the program"]);
    expect(out.code).toBe(0);
  });

  it("debug mode's watchdog works under node --input-type=module", async () => {
    const source = `import { run } from ${INDEX};
      await run(async () => { const t = Date.now(); while (Date.now() - t < 600); },
        { debug: true, blockedThreshold: 0.2, slowStepThreshold: 0 });`;
    const out = await new Promise<Outcome>((done, fail) => {
      const child = spawn(process.execPath, ["--input-type=module", "-e", source], { cwd: ROOT });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      child.on("error", fail);
      child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
    });
    expect(out.stderr).not.toContain("watchdog thread stopped");
    expect(out.stderr).toMatch(/the event loop is blocked: task "main" \(id 1.*\) has been running for 0\.\d+ s/);
    expect(out.code).toBe(0);
  });
});

describe("run()'s signal listeners", () => {
  const counts = () => [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];

  it("one per signal while runs are in progress, however many; gone when the last one ends", async () => {
    const before = counts();
    const seen: number[][] = [];
    const body = async () => {
      await sleep(1);
      seen.push(counts());
    };
    await Promise.all([run(body, { clock: "virtual" }), run(body, { clock: "virtual", debug: true })]);
    expect(seen).toEqual([
      [(before[0] as number) + 1, (before[1] as number) + 1],
      [(before[0] as number) + 1, (before[1] as number) + 1],
    ]);
    expect(counts()).toEqual(before);
  });

  it("signals: false installs none; a list installs only those", async () => {
    const before = counts();
    const off = await run(async () => counts(), { signals: false });
    const term = await run(async () => counts(), { signals: ["SIGTERM"] });
    expect(off).toEqual(before);
    expect(term).toEqual([before[0], (before[1] as number) + 1]);
    expect(counts()).toEqual(before);
  });
});

describe("run()'s options are all checked before anything is installed", () => {
  it.each([
    [
      { signals: "yes" },
      TypeError,
      'Expected `signals` to be a boolean or an array of "SIGINT" and "SIGTERM", got "yes" (string)',
    ],
    [{ signals: ["SIGHUP"] }, TypeError, 'got an array holding "SIGHUP"'],
    [{ debug: "yes" }, TypeError, "Expected `debug` to be a boolean"],
    [{ debug: true, name: 5 }, TypeError, "Expected `name` to be a string, got `5` (number)"],
    [{ debug: true, blockedThreshold: -1 }, RangeError, "Expected `blockedThreshold` to be a non-negative number"],
    [{ slowStepThreshold: -1 }, RangeError, "Expected `slowStepThreshold` to be a non-negative number of seconds"],
    [{ blockedThreshold: "1" }, TypeError, "Expected `blockedThreshold` to be a non-negative number of seconds"],
    [{ slowStepThreshold: Number.NaN }, RangeError, "got `NaN` (number)"],
  ])("%j is rejected, leaves no listener behind, and a later run works", async (options, type, message) => {
    const before = [process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")];
    const bad = run(async () => {}, options as never);
    await expect(bad).rejects.toThrow(type);
    await expect(bad).rejects.toThrow(message);
    expect([process.listenerCount("SIGINT"), process.listenerCount("SIGTERM")]).toEqual(before);
    await expect(run(async () => "fine", { debug: true })).resolves.toBe("fine");
  });
});

describe("run() inside a running loop", () => {
  it("throws InvalidStateError saying what to do instead (asyncio's RuntimeError)", async () => {
    let caught: unknown;
    await run(
      async () => {
        try {
          await run(async () => "inner");
        } catch (e) {
          caught = e;
        }
      },
      { clock: "virtual", name: "outer" },
    );
    expect(caught).toBeInstanceOf(InvalidStateError);
    expect((caught as Error).message).toBe(
      'run() cannot be called from a running event loop (it was called in task "outer"): ' +
        "await the async function directly, or start it with createTask() to run it alongside",
    );
  });

  it("from a child task too, and the loop goes on", async () => {
    const result = await run(
      async () => {
        const child = createTask(() => run(async () => 1), { name: "child" });
        const error = await child.then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(InvalidStateError);
        await sleep(1);
        return "still running";
      },
      { clock: "virtual" },
    );
    expect(result).toBe("still running");
  });
});
