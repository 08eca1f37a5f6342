/**
 * One measured run in its own process: `node child.mjs <library bundle> <workload key> <params json>`.
 * Loads only that library's bundle, runs the workload once, and prints one JSON line:
 * `{ ms, cpuMs, checksum, rssBefore, maxRss, extras }` (bytes), or `{ error }`. `cpuMs` is the process's
 * CPU time (user + system, all threads) over the measured part: less disturbed by other load than
 * `ms`. `extras` holds the figures the workload reported (`report(key, value)`).
 */
import { pathToFileURL } from "node:url";
import type { Params, Workload } from "./workloads.js";

const [bundle, key, paramsJson] = process.argv.slice(2);

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) gc();
}

async function main(): Promise<void> {
  if (bundle === undefined || key === undefined || paramsJson === undefined) {
    throw new Error("usage: child.mjs <bundle> <workload key> <params json>");
  }
  const params = JSON.parse(paramsJson) as Params;
  const mod = (await import(pathToFileURL(bundle).href)) as { workloads: Record<string, Workload | undefined> };
  const workload = mod.workloads[key];
  if (workload === undefined) {
    process.stdout.write(`${JSON.stringify({ error: `no workload "${key}" in ${bundle}` })}\n`);
    return;
  }
  collect();
  let rssBefore = process.memoryUsage().rss;
  let start = performance.now();
  let cpu = process.cpuUsage();
  // A workload that needs setup outside the measurement calls mark() when the measured part starts.
  const mark = () => {
    collect();
    rssBefore = process.memoryUsage().rss;
    start = performance.now();
    cpu = process.cpuUsage();
  };
  const extras: Record<string, number> = {};
  const report = (name: string, value: number) => {
    extras[name] = value;
  };
  const checksum = await workload(params, mark, report);
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, checksum, rssBefore, maxRss, extras })}\n`);
}

main().then(
  // Exit at once: lingering timers of a peer must not count, and nothing else needs to run.
  () => process.exit(0),
  (error: unknown) => {
    process.stdout.write(`${JSON.stringify({ error: String((error as Error)?.stack ?? error) })}\n`);
    process.exit(0);
  },
);
