/**
 * What each view of `awaitress trace` costs at exit: W1 (100,000 tasks) and W2 (100,000 items
 * through a Queue(100), 4 consumers) recorded as AWAITRESS_TRACE records (a ring of 200,000 events,
 * steps not watched), then each view rendered from the recording. CPU milliseconds, median of N.
 *
 *   node --import tsx bench/trace-views.ts [runs]
 */
import { createTask, gather, Queue, run } from "../src/node.js";
import { htmlTimeline, perfettoJson, Recorder, terminalTimeline } from "../src/trace/index.js";
import { DEFAULT_LIMIT } from "../src/trace/process-trace.js";

async function w1(recorder: Recorder): Promise<void> {
  await run(
    async () => {
      const tasks = new Array(100_000);
      for (let i = 0; i < tasks.length; i++) tasks[i] = createTask(async () => i);
      await gather(...tasks);
    },
    { trace: recorder },
  );
}

async function w2(recorder: Recorder): Promise<void> {
  await run(
    async () => {
      const q = new Queue<number>(100);
      const consumers = [0, 1, 2, 3].map(() =>
        createTask(async () => {
          for (;;) {
            const item = await q.get();
            if (item < 0) return;
          }
        }),
      );
      for (let i = 0; i < 100_000; i++) await q.put(i);
      for (let c = 0; c < 4; c++) await q.put(-1);
      await gather(...consumers);
    },
    { trace: recorder },
  );
}

const views = {
  terminal: (events: Recorder["events"]) => terminalTimeline(events, { width: 120, color: false }),
  html: (events: Recorder["events"]) => htmlTimeline(events),
  perfetto: (events: Recorder["events"]) => perfettoJson(events),
  jsonl: (events: Recorder["events"]) => events.map((e) => `${JSON.stringify(e)}\n`).join(""),
};

const cpu = (fn: () => unknown): number => {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const runs = Number(process.argv[2] ?? 3);
for (const [name, workload] of [
  ["W1 spawn+gather 100k", w1],
  ["W2 queue 100k items", w2],
] as const) {
  const recorder = new Recorder({ limit: DEFAULT_LIMIT, steps: false });
  await workload(recorder);
  const events = recorder.events;
  for (const [view, render] of Object.entries(views)) {
    const times: number[] = [];
    let size = 0;
    for (let r = 0; r < runs; r++) {
      times.push(
        cpu(() => {
          size = render(events).length;
        }),
      );
    }
    console.log(
      `${process.version}  ${name.padEnd(22)} ${String(events.length).padStart(7)} events (${recorder.dropped} dropped)  ${view.padEnd(9)} ${median(times).toFixed(0).padStart(6)} ms CPU  ${(size / 1e6).toFixed(1)} MB`,
    );
  }
}
