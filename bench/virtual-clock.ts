/**
 * W5: simulated timer events per real second on the virtual clock. `tasks` tasks each sleep
 * `sleeps` times for a seeded random delay; every wake-up is one event.
 *
 *   node scripts/node24.mjs --import tsx bench/virtual-clock.ts   # 100,000 × 10, 5 runs, Node 24
 *   npx tsx bench/virtual-clock.ts                      # the same on the machine's Node 20
 *   npx tsx bench/virtual-clock.ts --tasks 1000 --sleeps 5 --runs 3 --delays continuous
 *   npx tsx bench/virtual-clock.ts --impl raw           # the limit: hand-written promises
 *
 * `--delays ms` (the default) draws whole milliseconds between 1 ms and 1 s, so wake-ups share
 * instants as they do in a simulation with round delays; `--delays continuous` draws any real
 * number, so nearly every wake-up has an instant of its own (the worst case: one idle point each).
 */
import { pathToFileURL } from "node:url";
import { createTask, gather, run, sleep, time } from "../src/node.js";
import { seededRandom } from "./prng.js";

/** How delays are drawn: whole milliseconds, or any real number of seconds. */
export type DelayShape = "ms" | "continuous";

/** What one run measured. */
export interface VirtualClockResult {
  /** Timer events simulated (tasks × sleeps). */
  readonly events: number;
  /** Real seconds the run took. */
  readonly seconds: number;
  /** Events per real second. */
  readonly eventsPerSecond: number;
  /** CPU seconds (user + system) the run took: steadier than wall time on a busy machine. */
  readonly cpuSeconds: number;
  /** Events per CPU second. */
  readonly eventsPerCpuSecond: number;
  /** Virtual seconds simulated. */
  readonly virtualSeconds: number;
}

/**
 * Runs W5 once: `tasks` tasks × `sleeps` sleeps on the virtual clock; resolves to what it measured.
 *
 * @example
 * const { eventsPerSecond } = await virtualClockWorkload(100_000, 10);
 */
export async function virtualClockWorkload(
  tasks = 100_000,
  sleeps = 10,
  delays: DelayShape = "ms",
  seed = 1,
): Promise<VirtualClockResult> {
  const random = seededRandom(seed);
  const draw = delays === "ms" ? () => (1 + Math.floor(random() * 1000)) / 1000 : () => 0.001 + random();
  let events = 0;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < sleeps; i++) {
      await sleep(draw());
      events++;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  const virtualSeconds = await run(
    async () => {
      const all = [];
      for (let i = 0; i < tasks; i++) all.push(createTask(worker));
      await gather(...all);
      return time();
    },
    { clock: "virtual" },
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  if (events !== tasks * sleeps) throw new Error(`expected ${tasks * sleeps} events, counted ${events}`);
  return {
    events,
    seconds,
    eventsPerSecond: events / seconds,
    cpuSeconds,
    eventsPerCpuSecond: events / cpuSeconds,
    virtualSeconds,
  };
}

/**
 * The limit this design is measured against: the same workload with hand-written promises and a
 * minimal virtual clock of the same shape (one binary heap, one timer fired per `setImmediate`
 * idle point, probes queued in batches), no tasks, no cancellation, no context.
 */
export async function rawVirtualClockWorkload(
  tasks = 100_000,
  sleeps = 10,
  delays: DelayShape = "ms",
  seed = 1,
): Promise<VirtualClockResult> {
  const random = seededRandom(seed);
  const draw = delays === "ms" ? () => (1 + Math.floor(random() * 1000)) / 1000 : () => 0.001 + random();
  const whens: number[] = [];
  const seqs: number[] = [];
  const wakes: (() => void)[] = [];
  let now = 0;
  let seq = 0;
  let probes = 0;
  const swap = (i: number, j: number) => {
    [whens[i], whens[j]] = [whens[j] as number, whens[i] as number];
    [seqs[i], seqs[j]] = [seqs[j] as number, seqs[i] as number];
    [wakes[i], wakes[j]] = [wakes[j] as () => void, wakes[i] as () => void];
  };
  const less = (i: number, j: number) =>
    (whens[i] as number) < (whens[j] as number) || (whens[i] === whens[j] && (seqs[i] as number) < (seqs[j] as number));
  const probe = () => {
    probes--;
    const n = whens.length;
    if (n === 0) return;
    now = whens[0] as number;
    const wake = wakes[0] as () => void;
    swap(0, n - 1);
    whens.pop();
    seqs.pop();
    wakes.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      if (l >= whens.length) break;
      const c = l + 1 < whens.length && less(l + 1, l) ? l + 1 : l;
      if (!less(c, i)) break;
      swap(c, i);
      i = c;
    }
    wake();
    while (probes < Math.min(64, whens.length)) {
      probes++;
      setImmediate(probe);
    }
  };
  const rawSleep = (seconds: number) =>
    new Promise<void>((resolve) => {
      let i = whens.length;
      whens.push(now + seconds);
      seqs.push(seq++);
      wakes.push(resolve);
      while (i > 0 && less(i, (i - 1) >> 1)) {
        swap(i, (i - 1) >> 1);
        i = (i - 1) >> 1;
      }
      if (probes === 0) {
        probes++;
        setImmediate(probe);
      }
    });
  let events = 0;
  const worker = async (): Promise<void> => {
    for (let i = 0; i < sleeps; i++) {
      await rawSleep(draw());
      events++;
    }
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < tasks; i++) all.push(worker());
  await Promise.all(all);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  return {
    events,
    seconds,
    eventsPerSecond: events / seconds,
    cpuSeconds,
    eventsPerCpuSecond: events / cpuSeconds,
    virtualSeconds: now,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? (args[i + 1] as string) : fallback;
}

async function main(args: string[]): Promise<void> {
  const tasks = Number(option(args, "tasks", "100000"));
  const sleeps = Number(option(args, "sleeps", "10"));
  const runs = Number(option(args, "runs", "5"));
  const delays = option(args, "delays", "ms") as DelayShape;
  const impl = option(args, "impl", "awaitress");
  const workload = impl === "raw" ? rawVirtualClockWorkload : virtualClockWorkload;
  await workload(Math.min(tasks, 10_000), sleeps, delays); // warm-up
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const result = await workload(tasks, sleeps, delays, r + 1);
    rates.push(result.eventsPerSecond);
    cpuRates.push(result.eventsPerCpuSecond);
    console.log(
      `run ${r + 1}: ${result.events} events in ${result.seconds.toFixed(3)} s = ${(result.eventsPerSecond / 1e6).toFixed(3)} M events/s; ` +
        `${result.cpuSeconds.toFixed(3)} CPU s = ${(result.eventsPerCpuSecond / 1e6).toFixed(3)} M events/CPU s (virtual ${result.virtualSeconds.toFixed(3)} s)`,
    );
  }
  const m = median(rates);
  console.log(
    `W5 virtual clock (${impl}), ${tasks} tasks × ${sleeps} sleeps, delays ${delays}, Node ${process.version}: ` +
      `median ${(m / 1e6).toFixed(3)} M events/s (min ${(Math.min(...rates) / 1e6).toFixed(3)}, max ${(Math.max(...rates) / 1e6).toFixed(3)}); ` +
      `per CPU second ${(median(cpuRates) / 1e6).toFixed(3)} M; goal ≥ 1 M/s`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await main(process.argv.slice(2));
}
