/**
 * A/B of the tracing hooks' cost with tracing off: loads two copies of the library in one process
 * (`A` and `B`: directories holding `src/index.ts`) and alternates W1 and the queue workload
 * between them, so both see the same machine noise. Median of N rounds, in CPU milliseconds.
 *
 *   node --import tsx bench/trace-overhead-ab.ts /path/to/before /path/to/after [rounds]
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

type Lib = typeof import("../src/node.js");

async function load(dir: string): Promise<Lib> {
  return (await import(pathToFileURL(resolve(dir, "src/index.ts")).href)) as Lib;
}

async function w1(lib: Lib): Promise<void> {
  await lib.run(async () => {
    const tasks = new Array(100_000);
    for (let i = 0; i < tasks.length; i++) tasks[i] = lib.createTask(async () => i);
    await lib.gather(...tasks);
  });
}

async function queueWorkload(lib: Lib): Promise<void> {
  await lib.run(async () => {
    const q = new lib.Queue<number>(100);
    const consumers = [0, 1, 2, 3].map(() =>
      lib.createTask(async () => {
        for (;;) {
          await q.get();
          q.taskDone();
        }
      }),
    );
    for (let i = 0; i < 100_000; i++) await q.put(i);
    await q.join();
    for (const c of consumers) c.cancel();
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const [dirA, dirB, roundsArg] = process.argv.slice(2);
if (dirA === undefined || dirB === undefined)
  throw new Error("usage: trace-overhead-ab.ts <before dir> <after dir> [rounds]");
const libs = { A: await load(dirA), B: await load(dirB) };
const rounds = Number(roundsArg ?? 15);
for (const [name, workload] of [
  ["W1 spawn+gather 100k", w1],
  ["queue 100k items", queueWorkload],
] as const) {
  const t = { A: [] as number[], B: [] as number[] };
  for (const k of ["A", "B"] as const) await workload(libs[k]);
  for (let r = 0; r < rounds; r++) {
    for (const k of (r % 2 === 0 ? ["A", "B"] : ["B", "A"]) as ("A" | "B")[]) {
      // CPU time of this thread's process, less disturbed than wall time on a loaded machine.
      const c0 = process.cpuUsage();
      await workload(libs[k]);
      const c = process.cpuUsage(c0);
      t[k].push((c.user + c.system) / 1000);
    }
  }
  const a = median(t.A);
  const b = median(t.B);
  // Paired: each round ran A and B back to back, so the ratio within a round cancels slow drifts.
  const paired = median(t.B.map((x, i) => x / (t.A[i] as number)));
  console.log(
    `${process.version}  ${name.padEnd(22)} A ${a.toFixed(1)} ms  B ${b.toFixed(1)} ms  B/A of medians ${(b / a).toFixed(3)}  median paired B/A ${paired.toFixed(3)}`,
  );
}
