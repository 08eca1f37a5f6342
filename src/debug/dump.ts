/**
 * The why-is-it-hanging report: every pending task of a loop as a tree (parent → children), what
 * each awaits, for how long, and where it was created.
 */
import { getRunningLoop, type Loop, type LoopImpl } from "../core/loop.js";
import { currentTask, type Task } from "../core/task.js";
import { escapeControl } from "../internal/text.js";
import { formatTime } from "../trace/timeline.js";
import { creationSite } from "./creation-site.js";
import { FOREIGN, StepMonitor } from "./step-monitor.js";

function describeWait(task: Task, loop: LoopImpl, monitor: StepMonitor | null): string {
  const now = loop.time();
  const info = monitor?.waitOf(task);
  const waiter = task._futWaiter;
  if (waiter !== null) {
    // Outside debug mode the loop still records when each task last suspended.
    const from = info?.since ?? task._waitingSince;
    const since = ` for ${formatTime(now - from)}`;
    return `waiting on ${escapeControl(waiter._waitLabel())}${since}`;
  }
  if (!task._started) return "not started yet";
  if (task === currentTask()) return "running (it asked for this report)";
  if (info !== undefined && info.on === FOREIGN) return `waiting on ${FOREIGN} for ${formatTime(now - info.since)}`;
  if (monitor === null) return "running, or waiting on a foreign promise";
  return "running";
}

/**
 * The pending tasks of `loop` as a tree of lines: name, id, what each awaits (which queue, lock,
 * timer, task, or a foreign promise), for how long (debug mode) and where it was created (debug
 * mode records creation stacks). A task whose parent is done is shown at the top level.
 *
 * @example
 * console.log(formatTaskTree());
 * // 2 pending tasks at 12s (loop time)
 * // main (id 1) waiting on task "worker" for 12s, created at app.ts:30:3
 * // └─ worker (id 2) waiting on queue.get for 12s, created at app.ts:20:15
 */
export function formatTaskTree(given: Loop = getRunningLoop()): string {
  const loop = given as LoopImpl;
  const tasks = [...loop.tasks] as Task[];
  const monitor = loop.steps instanceof StepMonitor ? loop.steps : null;
  const ids = new Set(tasks.map((t) => t.id));
  const children = new Map<number | null, Task[]>();
  for (const task of tasks) {
    const parent = task.parentId !== null && ids.has(task.parentId) ? task.parentId : null;
    const list = children.get(parent);
    if (list === undefined) children.set(parent, [task]);
    else list.push(task);
  }
  for (const list of children.values()) list.sort((a, b) => a.id - b.id);
  const lines = [
    `${tasks.length} pending task${tasks.length === 1 ? "" : "s"} at ${formatTime(loop.time())} (loop time)`,
  ];
  const visit = (task: Task, prefix: string, branch: string): void => {
    const site = creationSite(task.creationStack);
    const where = site === undefined ? "" : `, created at ${site}`;
    lines.push(
      `${prefix}${branch}${escapeControl(task.name)} (id ${task.id}) ${describeWait(task, loop, monitor)}${where}`,
    );
    const kids = children.get(task.id) ?? [];
    const childPrefix = prefix + (branch === "" ? "" : branch === "└─ " ? "   " : "│  ");
    kids.forEach((kid, i) => {
      visit(kid, childPrefix, i === kids.length - 1 ? "└─ " : "├─ ");
    });
  };
  for (const root of children.get(null) ?? []) visit(root, "", "");
  return lines.join("\n");
}

/**
 * Prints every pending task of `loop` (default: the running one) as a tree to stderr and returns
 * the text: asyncio has no such report (`all_tasks()` and `print_stack()` come closest). `run`
 * calls it on SIGINT/SIGTERM in debug mode. Run in debug mode to see for how long each task has
 * waited and where it was created.
 *
 * @example
 * setTimeout(() => dumpTasks(), 5000); // why is it still running?
 */
export function dumpTasks(loop: Loop = getRunningLoop()): string {
  const text = formatTaskTree(loop);
  console.error(`awaitress: ${text}`);
  return text;
}
