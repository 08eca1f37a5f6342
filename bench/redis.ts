/**
 * `npm run bench:redis`: awaitress's RedisQueue beside BullMQ on the same local Redis, with the
 * same persistence settings, in one run (issue 13's performance goals).
 *
 *   npx tsx bench/redis.ts [--runs 3] [--appendfsync everysec|always] [--scale 1] [--only 1,2b]
 *                          [--json out.json] [--verbose]
 *
 * It starts its own redis-server (free loopback port, its own temporary directory, the append-only
 * file on) once per persistence setting: `appendfsync everysec`, then a second pass with
 * `appendfsync always`, each reported in its own table (`--appendfsync` runs one of them). Each
 * measured part runs in a fresh process (bench/redis-child.ts, bundled by esbuild as bench/run.ts
 * bundles its children); rounds alternate the order of the implementations (A B, then B A) and the
 * tables give medians over the runs and the ratio of the medians. Before each measurement the
 * database is flushed and the append-only file rewritten (so no rewrite falls inside one), and
 * before the first round each library runs once untimed (its Lua scripts are then loaded).
 *
 * The cases:
 * 1. producer throughput: n pipelined `putNowait` (not awaited one by one; then all awaited) vs
 *    BullMQ `Promise.all` over n `queue.add`, and vs one `addBulk` of n.
 * 2. consumer throughput: n items put beforehand, drained with `get` + `taskDone` by getters in 2
 *    processes vs a BullMQ Worker (a processor that does nothing) in each of 2 processes, at two
 *    total concurrencies; the rate is n / (last completion - first start) over both processes.
 * 3. one round trip: `put`, then `get` + `taskDone`, sequentially, vs `add` and then the job
 *    completed (the worker's "completed" event in the same process, or `job.waitUntilFinished`);
 *    the rate is 1 / the median latency.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { build } from "esbuild";
import { createClient } from "redis";
import { gather, run } from "../src/index.js";
import { bundledSourcesPlugin } from "../src/internal/bundle.js";
import { RedisQueue } from "../src/redis/index.js";
import { RedisServer } from "../test/redis/server.js";
import { type BenchItem, BULL_JOB, bullConnection, QUIET } from "./redis-child.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, "..");
const cacheDir = join(root, "node_modules", ".cache", "awaitress-bench");

type Fsync = "everysec" | "always";

/** Options of {@link runRedisBench}. */
export interface RedisBenchOptions {
  runs: number;
  /** Persistence settings, one pass (and one table) each. */
  fsyncs: Fsync[];
  /** Multiplies every item count (the smoke test runs a tiny scale). */
  scale: number;
  quiet: boolean;
  /** Case ids to run (`--only 2,2b`); all when empty. */
  only?: string[];
  /** Print each measurement's wall time on stderr (`--verbose`). */
  verbose?: boolean;
  /** Give up on a child after this many seconds. */
  timeoutSeconds: number;
}

/** The sizes at scale 1: the whole benchmark (both passes, 3 runs) takes about 2 minutes on the 2-core machine (4 when it is busy). */
const SIZES = { produce: 10_000, consume: 6_000, latency: 300, warm: 30 };
/** Total getters (awaitress) and total worker concurrency (BullMQ), each split over 2 processes. */
const CONCURRENCIES = [16, 64];

interface Side {
  /** What runs (for --verbose). */
  label: string;
  /** Measures once; returns ops/s (for a latency case: 1000 / median ms, with the ms). */
  measure: () => Promise<Outcome>;
}

/** What the server did for the measured part: its CPU time and its commands, per item. */
export interface ServerWork {
  /** redis-server CPU time (user + system, INFO cpu) per item, µs. */
  cpuUs: number;
  /** Calls per item by command (INFO commandstats; commands run by Lua scripts count too). */
  calls: Record<string, number>;
}

interface Outcome {
  ops: number;
  /** The median latency, for a round-trip case. */
  ms?: number;
  server: ServerWork;
}

/** One row of a table: awaitress beside one BullMQ way of doing the same. */
export interface CaseSpec {
  id: string;
  what: string;
  goal: { min: number; text: string } | null;
  awaitress: Side;
  bull: Side;
}

export interface CaseResult {
  id: string;
  what: string;
  goal: string;
  awaitress: number[];
  bull: number[];
  /** Median latencies (ms) per run, for the round-trip cases. */
  awaitressMs: number[];
  bullMs: number[];
  /** Server work per item, per run. */
  awaitressServer: ServerWork[];
  bullServer: ServerWork[];
  ratio: number;
  met: boolean | null;
}

export interface PassResult {
  appendfsync: Fsync;
  redis: string;
  runs: number;
  sizes: typeof SIZES;
  loadBefore: number[];
  loadAfter: number[];
  cases: CaseResult[];
}

function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

// ---------------------------------------------------------------------------------------------
// Child processes

class Child {
  readonly lines: string[] = [];
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
  private stderr = "";
  private waiters: { word: string; resolve: () => void }[] = [];

  constructor(bundle: string, mode: string, url: string, queue: string, params: object) {
    this.process = spawn(process.execPath, [bundle, mode, url, queue, JSON.stringify(params)], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.process.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    createInterface({ input: this.process.stdout as NodeJS.ReadableStream }).on("line", (text) => {
      this.lines.push(text);
      this.waiters = this.waiters.filter((w) => {
        if (text !== w.word) return true;
        w.resolve();
        return false;
      });
    });
    this.exited = new Promise((done) => this.process.once("close", () => done()));
  }

  until(word: string, timeoutSeconds: number): Promise<void> {
    if (this.lines.includes(word)) return Promise.resolve();
    return this.bounded(new Promise<void>((r) => this.waiters.push({ word, resolve: r })), timeoutSeconds, word);
  }

  send(word: string): void {
    this.process.stdin?.write(`${word}\n`);
  }

  /** The JSON line the child printed at the end; throws with its error (and stderr) otherwise. */
  async result<R>(timeoutSeconds: number): Promise<R> {
    await this.bounded(this.exited, timeoutSeconds, "its result");
    const last = [...this.lines].reverse().find((l) => l.startsWith("{"));
    const parsed = last === undefined ? { error: "no output" } : (JSON.parse(last) as R | { error: string });
    if (typeof parsed === "object" && parsed !== null && "error" in parsed) {
      throw new Error(`${this.process.spawnargs.slice(2, 3).join(" ")}: ${parsed.error}\n${this.stderr}`);
    }
    return parsed as R;
  }

  private async bounded<R>(p: Promise<R>, seconds: number, what: string): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.process.kill("SIGKILL");
        reject(
          new Error(`${this.process.spawnargs.slice(2, 3).join(" ")}: no ${what} within ${seconds} s\n${this.stderr}`),
        );
      }, seconds * 1000);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One pass: one server, one persistence setting

/** The commands the runner sends itself (flush, rewrite, checks). */
interface Admin {
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<void>;
}

class Pass {
  private count = 0;
  private constructor(
    readonly server: RedisServer,
    private readonly admin: Admin,
    private readonly bundle: string,
    private readonly options: RedisBenchOptions,
  ) {}

  static async start(fsync: Fsync, bundle: string, options: RedisBenchOptions): Promise<Pass> {
    const server = await RedisServer.start({ appendfsync: fsync });
    const admin = createClient({ url: server.url, RESP: 2 });
    await admin.connect();
    const reply = (await admin.sendCommand(["CONFIG", "GET", "append*"])) as string[];
    const config = Object.fromEntries(reply.flatMap((v, i) => (i % 2 === 0 ? [[v, reply[i + 1]]] : [])));
    if (config.appendonly !== "yes" || config.appendfsync !== fsync) {
      throw new Error(`redis-server runs with appendonly ${config.appendonly}, appendfsync ${config.appendfsync}`);
    }
    return new Pass(server, admin, bundle, options);
  }

  get url(): string {
    return this.server.url;
  }

  async stop(): Promise<void> {
    await this.admin.close().catch(() => {});
    await this.server.stop();
  }

  /** A fresh queue name, an empty database and a freshly rewritten append-only file. */
  /** Starts counting the server's work: commandstats reset, CPU time noted. */
  async startWork(): Promise<number> {
    await this.admin.sendCommand(["CONFIG", "RESETSTAT"]);
    return this.serverCpu();
  }

  /** The server's work since {@link startWork}, per item. */
  async work(since: number, items: number): Promise<ServerWork> {
    const cpuUs = (((await this.serverCpu()) - since) * 1e6) / items;
    const calls: Record<string, number> = {};
    const info = String(await this.admin.sendCommand(["INFO", "commandstats"]));
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const [, name, count] = match;
      if (name === "config" || name === "info") continue; // the runner's own
      calls[name as string] = Number(count) / items;
    }
    return { cpuUs, calls };
  }

  private async serverCpu(): Promise<number> {
    const info = String(await this.admin.sendCommand(["INFO", "cpu"]));
    const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(info)?.[1] ?? 0);
    return field("used_cpu_user") + field("used_cpu_sys");
  }

  async fresh(): Promise<string> {
    await this.admin.sendCommand(["FLUSHALL"]);
    await this.admin.sendCommand(["BGREWRITEAOF"]).catch(() => {});
    for (;;) {
      const info = String(await this.admin.sendCommand(["INFO", "persistence"]));
      if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return `bench${++this.count}`;
  }

  child(mode: string, queue: string, params: object): Child {
    return new Child(this.bundle, mode, this.url, queue, params);
  }

  /** A child, once it said "ready" (connected). */
  async started(mode: string, queue: string, params: object): Promise<Child> {
    const child = this.child(mode, queue, params);
    await child.until("ready", this.options.timeoutSeconds);
    return child;
  }

  n(base: number): number {
    return Math.max(20, Math.round(base * this.options.scale));
  }

  /** Each library once, untimed and in this process: every Lua script is loaded on the server. */
  async warmUp(): Promise<void> {
    const name = await this.fresh();
    await run(async () => {
      const q = await RedisQueue.connect<BenchItem>(name, { url: this.url, ...QUIET });
      await gather(...Array.from({ length: 10 }, (_, i) => q.putNowait({ i })));
      for (let i = 0; i < 10; i++) {
        await q.get();
        await q.taskDone();
      }
      await q.close();
    });
    const connection = bullConnection(this.url);
    const queue = new Queue<BenchItem>(`${name}b`, { connection });
    await Promise.all(Array.from({ length: 5 }, (_, i) => queue.add("job", { i }, BULL_JOB)));
    await queue.addBulk(Array.from({ length: 5 }, (_, i) => ({ name: "job", data: { i }, opts: BULL_JOB })));
    let done = 0;
    const worker = new Worker<BenchItem>(`${name}b`, async () => {}, { connection });
    await new Promise<void>((resolveAll) => {
      worker.on("completed", () => {
        if (++done === 10) resolveAll();
      });
    });
    await worker.close();
    await queue.close();
    // BullMQ leaves a connection it was given open.
    await connection.quit();
  }

  async produce(mode: "a-produce" | "b-add" | "b-bulk"): Promise<Outcome> {
    const n = this.n(SIZES.produce);
    const name = await this.fresh();
    const child = await this.started(mode, name, { n });
    const since = await this.startWork();
    child.send("go");
    const { ms } = await child.result<{ ms: number }>(this.options.timeoutSeconds);
    const stored = Number(
      mode === "a-produce"
        ? await this.admin.sendCommand(["XLEN", `{${name}}:stream`])
        : await this.admin.sendCommand(["LLEN", `bull:${name}:wait`]),
    );
    if (stored !== n) throw new Error(`${mode}: ${stored} items stored, expected ${n}`);
    return { ops: (n / ms) * 1000, server: await this.work(since, n) };
  }

  /** n items put beforehand; `total` getters or worker slots over 2 processes drain them. */
  async consume(library: "awaitress" | "bullmq", total: number): Promise<Outcome> {
    const n = this.n(SIZES.consume);
    const name = await this.fresh();
    const per = Math.max(1, Math.round(total / 2));
    const timeout = this.options.timeoutSeconds;
    type Report = { count: number; start: number; end: number };
    let reports: Report[];
    let since = 0;
    if (library === "awaitress") {
      reports = await run(async () => {
        const q = await RedisQueue.connect<BenchItem>(name, { url: this.url, ...QUIET });
        for (let from = 0; from < n; from += 5000) {
          const to = Math.min(n, from + 5000);
          await gather(...Array.from({ length: to - from }, (_, k) => q.putNowait({ i: from + k })));
        }
        const children = [0, 1].map(() => this.child("a-consume", name, { concurrency: per }));
        await Promise.all(children.map((c) => c.until("ready", timeout)));
        since = await this.startWork();
        for (const c of children) c.send("go");
        await q.join();
        await q.shutdown();
        const out = await Promise.all(children.map((c) => c.result<Report>(timeout)));
        await q.close();
        return out;
      });
    } else {
      const connection = bullConnection(this.url);
      const queue = new Queue<BenchItem>(name, { connection });
      for (let from = 0; from < n; from += 5000) {
        const to = Math.min(n, from + 5000);
        await queue.addBulk(
          Array.from({ length: to - from }, (_, k) => ({ name: "job", data: { i: from + k }, opts: BULL_JOB })),
        );
      }
      const children = [0, 1].map(() => this.child("b-consume", name, { concurrency: per }));
      await Promise.all(children.map((c) => c.until("ready", timeout)));
      since = await this.startWork();
      for (const c of children) c.send("go");
      const deadline = Date.now() + timeout * 1000;
      for (;;) {
        const counts = await queue.getJobCounts("wait", "active", "delayed", "prioritized");
        if (Object.values(counts).every((v) => v === 0)) break;
        if (Date.now() > deadline) throw new Error(`BullMQ workers did not drain the queue: ${JSON.stringify(counts)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      for (const c of children) c.send("stop");
      reports = await Promise.all(children.map((c) => c.result<Report>(timeout)));
      await queue.close();
      await connection.quit();
    }
    const count = reports.reduce((s, r) => s + r.count, 0);
    if (count !== n) throw new Error(`${library} consumers: ${count} items processed, expected ${n}`);
    const start = Math.min(...reports.map((r) => r.start));
    const end = Math.max(...reports.map((r) => r.end));
    return { ops: (n / (end - start)) * 1000, server: await this.work(since, n) };
  }

  async latency(mode: "a-latency" | "b-latency", wait = false): Promise<Outcome> {
    const name = await this.fresh();
    const m = Math.max(10, Math.round(SIZES.latency * this.options.scale));
    const warm = Math.max(3, Math.round(SIZES.warm * this.options.scale));
    const child = await this.started(mode, name, { m, warm, wait });
    const since = await this.startWork();
    child.send("go");
    const { median: ms } = await child.result<{ median: number }>(this.options.timeoutSeconds);
    return { ops: 1000 / ms, ms, server: await this.work(since, m + warm) };
  }

  cases(): CaseSpec[] {
    const np = this.n(SIZES.produce).toLocaleString("en-US");
    const nc = this.n(SIZES.consume).toLocaleString("en-US");
    const a = (label: string, measure: Side["measure"]): Side => ({ label, measure });
    const putNowait = a("pipelined putNowait", () => this.produce("a-produce"));
    const parity = { min: 0.9, text: "parity (≥ 0.9×)" };
    const out: CaseSpec[] = [
      {
        id: "1",
        what: `producer, ${np} items: pipelined \`putNowait\` vs concurrent \`add\` (Promise.all)`,
        goal: { min: 1.5, text: "≥ 1.5×" },
        awaitress: putNowait,
        bull: a("Promise.all(add)", () => this.produce("b-add")),
      },
      {
        id: "1b",
        what: `producer, ${np} items: pipelined \`putNowait\` vs one \`addBulk\``,
        goal: null,
        awaitress: putNowait,
        bull: a("addBulk", () => this.produce("b-bulk")),
      },
    ];
    for (const [k, total] of CONCURRENCIES.entries()) {
      out.push({
        id: k === 0 ? "2" : `2${String.fromCharCode(97 + k)}`,
        what: `consumer, ${nc} items: \`get\` + \`taskDone\`, ${total} getters (2 processes × ${total / 2}) vs Worker concurrency ${total / 2} × 2 processes`,
        goal: { min: 2, text: "≥ 2×" },
        awaitress: a("get + taskDone", () => this.consume("awaitress", total)),
        bull: a("Worker", () => this.consume("bullmq", total)),
      });
    }
    const roundTrip = a("put → get → taskDone", () => this.latency("a-latency"));
    out.push(
      {
        id: "3",
        what: "one round trip (1 / median latency): `put`, `get`, `taskDone` vs `add` → the Worker's `completed` event (same process)",
        goal: parity,
        awaitress: roundTrip,
        bull: a("add → completed", () => this.latency("b-latency", false)),
      },
      {
        id: "3b",
        what: "one round trip (1 / median latency): `put`, `get`, `taskDone` vs `add` → `job.waitUntilFinished` (QueueEvents)",
        goal: parity,
        awaitress: roundTrip,
        bull: a("add → waitUntilFinished", () => this.latency("b-latency", true)),
      },
    );
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// The run

function redisVersion(): string {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim().split(" ").slice(0, 3).join(" ");
  } catch {
    return "redis-server";
  }
}

/** Runs the benchmark; returns one result per persistence setting. */
export async function runRedisBench(options: RedisBenchOptions): Promise<PassResult[]> {
  const log = options.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
  const outDir = join(cacheDir, `redis-${process.pid}-${Date.now()}`);
  mkdirSync(outDir, { recursive: true });
  const bundle = join(outDir, "redis-child.mjs");
  await build({
    entryPoints: [join(benchDir, "redis-child.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "silent",
    plugins: [bundledSourcesPlugin],
  });
  const results: PassResult[] = [];
  try {
    log(
      `# RedisQueue beside BullMQ — ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${redisVersion()}, ${options.runs} run(s), scale ${options.scale}`,
    );
    for (const fsync of options.fsyncs) {
      const pass = await Pass.start(fsync, bundle, options);
      try {
        const loadBefore = loadavg();
        log(
          `# appendfsync ${fsync}: redis-server on ${pass.url}, load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`,
        );
        await pass.warmUp();
        const only = options.only ?? [];
        const specs = pass.cases().filter((c) => only.length === 0 || only.includes(c.id));
        const samples = specs.map(() => ({
          a: [] as number[],
          b: [] as number[],
          aMs: [] as number[],
          bMs: [] as number[],
          aServer: [] as ServerWork[],
          bServer: [] as ServerWork[],
        }));
        for (let r = 0; r < options.runs; r++) {
          for (const [index, spec] of specs.entries()) {
            const s = samples[index] as (typeof samples)[number];
            // Alternate which goes first, so drift on the machine spreads over both.
            const order = r % 2 === 0 ? (["a", "b"] as const) : (["b", "a"] as const);
            for (const side of order) {
              const t0 = performance.now();
              const which = side === "a" ? spec.awaitress : spec.bull;
              const outcome = await which.measure();
              if (options.verbose)
                console.error(`... ${spec.id} ${which.label}: ${Math.round(performance.now() - t0)} ms`);
              s[side].push(outcome.ops);
              if (outcome.ms !== undefined) s[side === "a" ? "aMs" : "bMs"].push(outcome.ms);
              s[side === "a" ? "aServer" : "bServer"].push(outcome.server);
            }
          }
          log(`#   run ${r + 1}/${options.runs} done`);
        }
        const cases = specs.map((spec, index): CaseResult => {
          const s = samples[index] as (typeof samples)[number];
          const ratio = median(s.a) / median(s.b);
          return {
            id: spec.id,
            what: spec.what,
            goal: spec.goal?.text ?? "—",
            awaitress: s.a,
            bull: s.b,
            awaitressMs: s.aMs,
            bullMs: s.bMs,
            awaitressServer: s.aServer,
            bullServer: s.bServer,
            ratio,
            met: spec.goal === null ? null : ratio >= spec.goal.min,
          };
        });
        const result: PassResult = {
          appendfsync: fsync,
          redis: redisVersion(),
          runs: options.runs,
          sizes: SIZES,
          loadBefore,
          loadAfter: loadavg(),
          cases,
        };
        results.push(result);
        log("");
        log(formatPass(result));
      } finally {
        await pass.stop();
      }
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return results;
}

function rate(ops: number): string {
  if (!Number.isFinite(ops)) return "–";
  return ops >= 10_000 ? `${(ops / 1000).toFixed(1)} k` : Math.round(ops).toLocaleString("en-US");
}

function cell(ops: number[], ms: number[]): string {
  const main = rate(median(ops));
  return ms.length === 0 ? main : `${main} (${median(ms).toFixed(2)} ms)`;
}

function spread(ops: number[]): string {
  return ops.length === 0 ? "–" : `${rate(Math.min(...ops))}–${rate(Math.max(...ops))}`;
}

function work(runs: ServerWork[]): string {
  if (runs.length === 0) return "–";
  const names = new Set(runs.flatMap((r) => Object.keys(r.calls)));
  const calls = [...names]
    .map((name) => ({ name, per: median(runs.map((r) => r.calls[name] ?? 0)) }))
    .filter((c) => c.per >= 0.01)
    .sort((x, y) => y.per - x.per)
    .slice(0, 6)
    .map((c) => `${c.name} ${c.per.toFixed(2)}`);
  return `${median(runs.map((r) => r.cpuUs)).toFixed(0)} µs; ${calls.join(", ")}`;
}

/** The markdown table of one pass, then the server's work per item and the spread of the runs. */
export function formatPass(result: PassResult): string {
  const lines = [
    `#### appendfsync ${result.appendfsync} — medians of ${result.runs} run(s); load average ${result.loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${result.loadAfter.map((l) => l.toFixed(2)).join(" ")} after`,
    "",
    "| case | awaitress ops/s (median) | BullMQ ops/s (median) | ratio | goal | met? |",
    "| --- | ---: | ---: | ---: | --- | --- |",
  ];
  for (const c of result.cases) {
    const met = c.met === null ? "—" : c.met ? "yes" : "**no**";
    lines.push(
      `| ${c.id}. ${c.what} | ${cell(c.awaitress, c.awaitressMs)} | ${cell(c.bull, c.bullMs)} | ${c.ratio.toFixed(2)}× | ${c.goal} | ${met} |`,
    );
  }
  lines.push("");
  lines.push(
    "Server work per item (medians over the runs): redis-server CPU time (INFO cpu), and the commands it ran (INFO commandstats, those run by Lua scripts included), most frequent first:",
  );
  lines.push("");
  lines.push("| case | awaitress | BullMQ |", "| --- | --- | --- |");
  for (const c of result.cases) {
    lines.push(`| ${c.id} | ${work(c.awaitressServer)} | ${work(c.bullServer)} |`);
  }
  lines.push("");
  lines.push(
    `Min–max over the runs (ops/s): ${result.cases.map((c) => `${c.id} ${spread(c.awaitress)} vs ${spread(c.bull)}`).join("; ")}.`,
  );
  return lines.join("\n");
}

function parseArgs(argv: string[]): RedisBenchOptions & { json: string | null } {
  const options: RedisBenchOptions & { json: string | null } = {
    runs: 3,
    fsyncs: ["everysec", "always"],
    scale: 1,
    quiet: false,
    timeoutSeconds: 120,
    json: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const need = (): string => {
      if (value === undefined) throw new Error(`${flag} needs a value`);
      i++;
      return value;
    };
    if (flag === "--runs") options.runs = Math.max(1, Number.parseInt(need(), 10));
    else if (flag === "--scale") options.scale = Number(need());
    else if (flag === "--timeout") options.timeoutSeconds = Number(need());
    else if (flag === "--json") options.json = need();
    else if (flag === "--verbose") options.verbose = true;
    else if (flag === "--only") options.only = need().split(",");
    else if (flag === "--appendfsync") {
      const v = need();
      if (v !== "everysec" && v !== "always") throw new Error(`--appendfsync: everysec or always, not ${v}`);
      options.fsyncs = [v];
    } else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isFinite(options.runs) || !(options.scale > 0))
    throw new Error("--runs and --scale must be positive numbers");
  return options;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  runRedisBench(options).then(
    (results) => {
      if (options.json !== null) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
