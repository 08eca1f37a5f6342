#!/usr/bin/env node
// The smoke suite on Bun and Deno: the examples (as they are, TypeScript run directly) and the
// scripts in smoke/ (through the built package, by its name), each also run on this Node as the
// reference: the output on Bun and Deno must equal Node's (wall-clock figures aside). Bun and Deno
// are fetched on first use (scripts/runtimes.mjs). Exits 1 on any failure.
//
//   node scripts/smoke-runtimes.mjs              # both runtimes
//   node scripts/smoke-runtimes.mjs bun          # one
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir, runtimePath } from "./runtimes.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const started = performance.now();

/** What work_queue.py prints under asyncio (../shared/seed/expected-output.txt). */
const SEED_OUTPUT = `Task One running
Task Two running
Task Two elapsed time: 10.0
Task Two running
Task One elapsed time: 15.0
Task One running
Task Two elapsed time: 5.0
Task One elapsed time: 2.0

Total elapsed time: 17.0
`;

// Deno asks for permissions. The core reads AWAITRESS_TRACE and AWAITRESS_DEBUG, but never needs
// the permission: where reading is refused, they count as unset (so these cases run with none).
// The terminal timeline and the progress bar read more (NO_COLOR, COLUMNS, ...): the cases using
// those get --allow-env.

/** Replaces wall-clock figures ("12 ms", "4.69s", "[ 0.47s]") so outputs can be compared. */
const wallClock = (text) => text.replace(/\d+(?:\.\d+)?\s?(?:ms|s)\b/g, "<t>");

/**
 * The cases. `file` runs with `args`; `deno` is the permissions it needs there; the output on
 * Bun and Deno is compared with Node's after `normalize`, and `check` tests each run's result.
 */
const CASES = [
  {
    name: "examples/seed.ts (virtual clock)",
    file: "examples/seed.ts",
    deno: [],
    check: (r) => expectEqual(r.stdout, SEED_OUTPUT, "the seed's output (work_queue.py's under asyncio)"),
  },
  { name: "examples/restaurant.ts", file: "examples/restaurant.ts", deno: [] },
  {
    name: "examples/restaurant.ts --timeline",
    file: "examples/restaurant.ts",
    args: ["--timeline"],
    deno: ["--allow-env"],
    // The loop yields to the host after 4 ms of wall time without a break: a slow start (a cold
    // JIT, a loaded machine) adds "yielded to the host 1×" to the waiter's line, on any runtime.
    normalize: (text) => text.replace(/ · yielded to the host \d+×/g, ""),
  },
  {
    name: "examples/testing-time.ts",
    file: "examples/testing-time.ts",
    deno: [],
    normalize: wallClock,
    check: (r) => expectMatch(r.stdout, /^all passed: 3615 s of virtual time in \d+ ms$/m, "its summary"),
  },
  {
    name: "examples/crawler.ts --pages 100 (real clock, a local HTTP site)",
    file: "examples/crawler.ts",
    args: ["--pages", "100"],
    deno: ["--allow-env", "--allow-net"],
    // Pages, retries and failures are the site's; how long it took is the machine's.
    normalize: wallClock,
    check: (r) => expectMatch(r.stdout, /^\d+ pages crawled in [\d.]+s, \d+ retried$/m, "its summary"),
  },
  {
    name: "examples/graceful-shutdown.ts (SIGINT)",
    file: "examples/graceful-shutdown.ts",
    args: ["--job-seconds", "0.05"],
    deno: ["--allow-env"],
    // Interrupted once it works: it must drain and stop cleanly, with exit code 0.
    interruptAfter: /^Working\./m,
    normalize: (text) => text.trim().split("\n").at(-1).replace(/\d+/g, "N").replace(/N\.N/g, "N"),
    check: (r) => expectMatch(r.stdout, /stopped cleanly: \d+ jobs done, \d+ dropped\n$/, "its last line"),
  },
  {
    name: "smoke/core.mjs (the built package)",
    file: "smoke/core.mjs",
    deno: [],
    check: (r) => expectMatch(r.stdout, /^8\/8 passed$/m, "every check passing"),
  },
  {
    name: "smoke/debug.mjs (debug mode says what it cannot see)",
    file: "smoke/debug.mjs",
    deno: [],
    normalize: () => "", // differs by design: smoke/debug.mjs checks what each runtime reports
    check: (r) => {
      // The watchdog's live reports: on Node for both steps of both runs, elsewhere first steps only.
      const blocked = r.stderr.match(/^awaitress: the event loop is blocked: task "hog"/gm)?.length ?? 0;
      const warned = r.stderr.match(/\[AWAITRESS_PARTIAL_STEP_HOOKS\] AwaitressWarning: /g)?.length ?? 0;
      const partial = r.runtime !== "node";
      return [
        ...expectEqual(blocked, partial ? 2 : 4, "the watchdog's blocked-loop lines on stderr"),
        ...expectEqual(warned, partial ? 1 : 0, "AWAITRESS_PARTIAL_STEP_HOOKS warnings printed"),
      ];
    },
  },
];

function expectEqual(actual, expected, what) {
  return actual === expected ? [] : [`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

function expectMatch(actual, pattern, what) {
  return pattern.test(actual) ? [] : [`${what}: expected ${pattern}, got ${JSON.stringify(actual)}`];
}

/** The command line of `file` on `runtime`. */
function command(runtime, binary, c) {
  const args = c.args ?? [];
  if (runtime === "node") {
    return [process.execPath, [...(c.file.endsWith(".ts") ? ["--import", "tsx"] : []), c.file, ...args]];
  }
  if (runtime === "bun") return [binary, [c.file, ...args]];
  // A TypeScript file that imports another as "./other.js" (the examples: "../src/index.js",
  // "./crawler-site.js") needs Deno's sloppy imports (.js resolved to .ts, as tsc and Bun do);
  // importing "awaitress" (the package's own name) needs nothing.
  const source = readFileSync(join(root, c.file), "utf8");
  const sloppy = c.file.endsWith(".ts") && /from "\.{1,2}\/[^"]+\.js"/.test(source) ? ["--sloppy-imports"] : [];
  return [binary, ["run", "--no-prompt", ...sloppy, ...(c.deno ?? []), c.file, ...args]];
}

/** Runs one case; resolves to its exit code, output and duration. */
function runCase(runtime, binary, c) {
  const [file, args] = command(runtime, binary, c);
  const t0 = performance.now();
  return new Promise((resolvePromise) => {
    const child = spawn(file, args, {
      cwd: root,
      // Deno's own cache (its compiled TypeScript) lives beside its binary, not in ~/.cache/deno.
      env: { ...process.env, NO_COLOR: "1", DENO_DIR: join(cacheDir("deno"), "deno-dir"), DENO_NO_UPDATE_CHECK: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let interrupted = false;
    child.stdout.on("data", (d) => {
      stdout += d;
      if (c.interruptAfter !== undefined && !interrupted && c.interruptAfter.test(stdout)) {
        interrupted = true;
        setTimeout(() => child.kill("SIGINT"), 300);
      }
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolvePromise({ runtime, code, signal, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** Fails if the build is missing or older than the sources: the smoke scripts test dist/esm. */
function checkBuild() {
  const entry = join(root, "dist", "esm", "index.js");
  if (!existsSync(entry)) return "dist/esm is missing: run `npm run build` first";
  const built = statSync(entry).mtimeMs;
  const newer = (dir) =>
    readdirSync(dir, { withFileTypes: true, recursive: true }).find(
      (e) => e.isFile() && e.name.endsWith(".ts") && statSync(join(e.parentPath, e.name)).mtimeMs > built,
    );
  const stale = newer(join(root, "src"));
  return stale === undefined
    ? null
    : `dist/esm is older than ${join(stale.parentPath, stale.name).slice(root.length + 1)}: run \`npm run build\` first`;
}

const wanted = process.argv.slice(2);
const runtimes = wanted.length > 0 ? wanted : ["bun", "deno"];
for (const r of runtimes) {
  if (r !== "bun" && r !== "deno") {
    console.error(`smoke-runtimes: unknown runtime ${r}: expected bun or deno`);
    process.exit(2);
  }
}
const buildProblem = checkBuild();
if (buildProblem !== null) {
  console.error(`smoke-runtimes: ${buildProblem}`);
  process.exit(1);
}
const binaries = Object.fromEntries(runtimes.map((r) => [r, runtimePath(r)]));
const fetched = (performance.now() - started) / 1000;

let failures = 0;
const timings = { node: 0 };
for (const r of runtimes) timings[r] = 0;
for (const c of CASES) {
  const reference = await runCase("node", process.execPath, c);
  timings.node += reference.seconds;
  const normalize = c.normalize ?? ((text) => text);
  for (const r of [reference, ...(await sequence(runtimes, (rt) => runCase(rt, binaries[rt], c)))]) {
    if (r.runtime !== "node") timings[r.runtime] += r.seconds;
    const problems = [];
    if (r.code !== 0) problems.push(`exit code ${r.code ?? r.signal}, expected 0`);
    problems.push(...(c.check?.(r) ?? []));
    if (r.runtime !== "node") {
      problems.push(
        ...expectEqual(normalize(r.stdout), normalize(reference.stdout), "the output, compared with Node's"),
      );
    }
    const label = `${r.runtime.padEnd(4)} ${c.name}`;
    if (problems.length === 0) {
      console.log(`ok      ${label} (${r.seconds.toFixed(2)} s)`);
      continue;
    }
    failures++;
    console.log(`FAILED  ${label}\n  ${problems.join("\n  ")}`);
    if (r.stderr.trim() !== "") console.log(`  stderr:\n    ${r.stderr.trim().split("\n").join("\n    ")}`);
  }
}

/** Runs `fn` on each item in turn (the cases time real work: one at a time on a shared machine). */
async function sequence(items, fn) {
  const results = [];
  for (const item of items) results.push(await fn(item));
  return results;
}

const total = (performance.now() - started) / 1000;
const perRuntime = Object.entries(timings)
  .map(([r, s]) => `${r} ${s.toFixed(1)} s`)
  .join(", ");
console.log(
  `${failures === 0 ? "smoke suite passed" : `${failures} failed`} on ${runtimes.join(" and ")}: ${total.toFixed(1)} s in all (fetching ${fetched.toFixed(1)} s; ${perRuntime})`,
);
process.exitCode = failures === 0 ? 0 : 1;
