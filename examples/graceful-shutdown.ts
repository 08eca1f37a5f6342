/**
 * Graceful shutdown on SIGINT (Ctrl-C) or SIGTERM (what Docker, Kubernetes and systemd send to
 * stop a service). A producer keeps putting jobs on a bounded queue and two workers process them.
 *
 * - The first signal shuts the queue down (`queue.shutdown()`): the producer's next `put` throws
 *   `QueueShutDown`, the workers finish the job in their hands, drain what is queued, and exit
 *   when `get` throws `QueueShutDown` on the empty queue. Nothing taken is lost.
 * - A second signal drops what is still queued (`queue.shutdown(true)`); jobs already in a
 *   worker's hands still finish.
 * - Once drained it prints the report and exits with code 0: a clean stop, whichever signal
 *   asked for it.
 *
 * It listens to both signals itself, inside `run`, so `run` leaves them to it and does not
 * cancel main (without these listeners `run` would cancel main on the first signal, and the jobs
 * in the workers' hands would be cancelled rather than finished).
 *
 *   npx tsx examples/graceful-shutdown.ts                      # press Ctrl-C (twice to hurry)
 *   npx tsx examples/graceful-shutdown.ts --job-seconds 0.05   # shorter jobs
 */
import { pathToFileURL } from "node:url";
import { createTask, Event, formatValue, gather, Queue, QueueShutDown, run, sleep, time } from "awaitress";

/** Options of {@link service}. */
export interface ServiceOptions {
  /** Set it to shut down gracefully (the first SIGINT or SIGTERM). */
  stop: Event;
  /** Set it to drop the queued jobs too (the second signal). */
  stopNow?: Event;
  /** Seconds each job takes. */
  jobSeconds?: number;
  /** Seconds between two jobs put by the producer. */
  every?: number;
  log?: (line: string) => void;
}

/** What the service did: jobs put on the queue, finished, and dropped by an immediate shutdown. */
export interface ServiceReport {
  put: string[];
  finished: string[];
  dropped: number;
}

/** Runs the producer and the workers until `stop` is set and the work is drained. */
export async function service(options: ServiceOptions): Promise<ServiceReport> {
  const { stop, stopNow = new Event(), jobSeconds = 1, every = 0.3, log = console.log } = options;
  const queue = new Queue<string>(4);
  const report: ServiceReport = { put: [], finished: [], dropped: 0 };
  const started = time();
  const stamp = (): string => `[${formatValue(time() - started, "5.2f")}s]`;

  async function producer(): Promise<void> {
    try {
      for (let n = 1; ; n++) {
        await queue.put(`job ${n}`); // waits while the queue is full
        report.put.push(`job ${n}`);
        await sleep(every);
      }
    } catch (error) {
      if (!(error instanceof QueueShutDown)) throw error;
      log(`${stamp()} producer: queue shut down, no more jobs`);
    }
  }

  async function worker(name: string): Promise<void> {
    for (;;) {
      let job: string;
      try {
        job = await queue.get();
      } catch (error) {
        if (!(error instanceof QueueShutDown)) throw error;
        log(`${stamp()} ${name}: queue shut down and empty, exiting`);
        return;
      }
      log(`${stamp()} ${name}: started ${job}`);
      await sleep(jobSeconds);
      report.finished.push(job);
      log(`${stamp()} ${name}: finished ${job}`);
      queue.taskDone();
    }
  }

  const tasks = [
    createTask(producer, { name: "producer" }),
    createTask(() => worker("worker 1"), { name: "worker 1" }),
    createTask(() => worker("worker 2"), { name: "worker 2" }),
  ];

  await stop.wait();
  log(`${stamp()} stop: no new jobs; finishing the ${queue.qsize()} queued and the ones in hand`);
  queue.shutdown();
  const hurry = createTask(async () => {
    await stopNow.wait();
    report.dropped = queue.qsize();
    log(`${stamp()} stop now: dropping ${report.dropped} queued jobs`);
    queue.shutdown(true);
  });
  await gather(...tasks);
  hurry.cancel();
  log(`${stamp()} stopped cleanly: ${report.finished.length} jobs done, ${report.dropped} dropped`);
  return report;
}

/** The signals that stop the service: Ctrl-C, and what a supervisor sends. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Runs the service on the wall clock until SIGINT or SIGTERM. */
export async function main(jobSeconds = 1): Promise<ServiceReport> {
  return run(async () => {
    const stop = new Event();
    const stopNow = new Event();
    const onSignal = (): void => {
      if (stop.isSet()) stopNow.set();
      else stop.set();
    };
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    console.log("Working. Press Ctrl-C (or send SIGTERM) to stop gracefully; twice to drop the queued jobs.");
    try {
      return await service({ stop, stopNow, jobSeconds, every: jobSeconds * 0.3 });
    } finally {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    }
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const at = process.argv.indexOf("--job-seconds");
  await main(at >= 0 ? Number(process.argv[at + 1]) : 1);
}
