/**
 * Tracing overhead: W1 (spawn + gather 100,000 tasks) and a queue workload (4 consumers,
 * 100,000 items through a bounded queue), with tracing off, with a Recorder that does not watch
 * steps, with one that does (async_hooks), and in debug mode. Median of N runs (CPU milliseconds), modes
 * interleaved.
 *
 *   node --import tsx bench/trace-overhead.ts [runs]
 */
import { createTask, gather, Queue, run, type TraceSink } from "../src/node.js";
import { Recorder } from "../src/trace/index.js";

type Mode = "off" | "recorder (steps: false)" | "recorder (steps: true)" | "debug: true";
const ALL: Mode[] = ["off", "recorder (steps: false)", "recorder (steps: true)", "debug: true"];
// TRACE_MODES=off measures tracing off alone (to compare builds).
const MODES: Mode[] = process.env.TRACE_MODES === "off" ? ["off"] : ALL;

function sink(mode: Mode): TraceSink | null {
  if (mode === "off" || mode === "debug: true") return null;
  return new Recorder({ steps: mode === "recorder (steps: true)" });
}

let debug = false;

async function w1(trace: TraceSink | null): Promise<void> {
  await run(
    async () => {
      const tasks = new Array(100_000);
      for (let i = 0; i < tasks.length; i++) tasks[i] = createTask(async () => i);
      await gather(...tasks);
    },
    { trace, debug },
  );
}

async function queueWorkload(trace: TraceSink | null): Promise<void> {
  await run(
    async () => {
      const q = new Queue<number>(100);
      const consumers = [0, 1, 2, 3].map(() =>
        createTask(async () => {
          for (;;) {
            await q.get();
            q.taskDone();
          }
        }),
      );
      for (let i = 0; i < 100_000; i++) await q.put(i);
      await q.join();
      for (const c of consumers) c.cancel();
    },
    { trace, debug },
  );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const runs = Number(process.argv[2] ?? 7);
for (const [name, workload] of [
  ["W1 spawn+gather 100k", w1],
  ["queue 100k items, 4 consumers", queueWorkload],
] as const) {
  const times = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  for (const m of MODES) {
    debug = m === "debug: true";
    await workload(sink(m)); // warm-up
  }
  for (let r = 0; r < runs; r++) {
    for (const m of MODES) {
      // CPU time (user + system) of the process: on a loaded machine wall time mostly measures the neighbours.
      debug = m === "debug: true";
      const c0 = process.cpuUsage();
      await workload(sink(m));
      const c = process.cpuUsage(c0);
      times.get(m)?.push((c.user + c.system) / 1000);
    }
  }
  const off = median(times.get("off") ?? []);
  for (const m of MODES) {
    const t = median(times.get(m) ?? []);
    console.log(
      `${process.version}  ${name.padEnd(32)} ${m.padEnd(24)} ${t.toFixed(1).padStart(8)} ms CPU  ×${(t / off).toFixed(2)}`,
    );
  }
}
