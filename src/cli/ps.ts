/**
 * `awaitress ps PID` and `awaitress pstree PID`: the live task tree of another Node process, read
 * through the inspector protocol (Python 3.14's `python -m asyncio ps` reads the interpreter's
 * memory; Node offers the inspector instead).
 *
 * 1. If the inspector is not open yet, send the process SIGUSR1 (`process._debugProcess`), which
 *    makes Node open it on 127.0.0.1:9229 (or the port given with `--inspect-port`).
 * 2. Find its WebSocket URL at http://127.0.0.1:PORT/json/list and connect.
 * 3. Check the process behind the port is PID, then `Runtime.evaluate` the dump function awaitress
 *    puts on `globalThis[Symbol.for("awaitress.ps")]` (src/debug/ps.ts).
 * 4. If `ps` opened the inspector, close it again once disconnected.
 *
 * Needs: the same user as the process (or root), the port free, and Node's inspector not
 * disabled (`--disable-sigusr1`, a build without inspector).
 */
import { readFileSync } from "node:fs";
import { get } from "node:http";
import type { PsLoop, PsSnapshot, PsTask } from "../debug/ps.js";
import { escapeControl } from "../internal/text.js";
import { formatTime } from "../trace/timeline.js";
import { connectWebSocket, type TextSocket } from "./websocket.js";

/** `ps` could not read the process: the message says why and what to do. */
export class PsError extends Error {}

interface Target {
  readonly webSocketDebuggerUrl: string;
}

function listTargets(port: number, timeoutMs: number): Promise<Target[]> {
  return new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path: "/json/list", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        try {
          resolve(JSON.parse(body) as Target[]);
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const sleepMs = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Checks that `pid` is a process this user may signal. */
function checkProcess(pid: number): void {
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ESRCH") throw new PsError(`no process with id ${pid}`);
    if (code === "EPERM") {
      throw new PsError(`process ${pid} belongs to another user: run awaitress ps as that user (or as root)`);
    }
    throw error;
  }
}

/**
 * On Linux, whether `pid` catches SIGUSR1 (Node does, to open its inspector): the signal's default
 * action ends the process, so it is never sent to one that would die of it. Undefined elsewhere.
 */
function catchesSigusr1(pid: number): boolean | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (mask === undefined) return undefined;
  // Bit n-1 stands for signal n; SIGUSR1 is 10 on Linux.
  return (BigInt(`0x${mask}`) & (1n << 9n)) !== 0n;
}

/** Sends SIGUSR1 so Node opens its inspector. */
function openInspector(pid: number): void {
  if (catchesSigusr1(pid) === false) {
    throw new PsError(
      `process ${pid} does not handle SIGUSR1, so it is not a Node process with an inspector (or it was started with --disable-sigusr1); nothing was sent`,
    );
  }
  const debugProcess = (process as unknown as { _debugProcess?: (pid: number) => void })._debugProcess;
  try {
    if (typeof debugProcess === "function") debugProcess(pid);
    else process.kill(pid, "SIGUSR1");
  } catch (error) {
    throw new PsError(`could not ask process ${pid} to open its inspector: ${(error as Error).message}`);
  }
}

class Session {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  constructor(private readonly socket: TextSocket) {
    socket.onMessage((text) => {
      const message = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string } };
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) waiter.reject(new Error(message.error.message));
      else waiter.resolve(message.result);
    });
    socket.onClose((error) => {
      for (const waiter of this.pending.values())
        waiter.reject(error ?? new Error("the inspector closed the connection"));
      this.pending.clear();
    });
  }
  /** Evaluates `expression` in the process's main context; resolves to its value (JSON-able). */
  async evaluate(expression: string, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.socket.send(
      JSON.stringify({
        id,
        method: "Runtime.evaluate",
        params: { expression, returnByValue: true, includeCommandLineAPI: true, silent: true },
      }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new PsError(`the process did not answer within ${timeoutMs} ms (is its main thread stuck in native code?)`),
          ),
        timeoutMs,
      );
    });
    try {
      const result = (await Promise.race([answer, timeout])) as {
        result: { value?: unknown };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (result.exceptionDetails !== undefined) {
        throw new PsError(
          `evaluating in the process failed: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`,
        );
      }
      return result.result.value;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Options of {@link readTasks}. */
export interface ReadTasksOptions {
  /** The inspector's port. @default 9229 */
  readonly port?: number;
  /** How long to wait for the inspector to open and answer. @default 5000 */
  readonly timeoutMs?: number;
}

const DUMP = `(() => { const f = globalThis[Symbol.for("awaitress.ps")]; return typeof f === "function" ? f() : null })()`;

// \`require\` is the console's (includeCommandLineAPI), there only while the expression runs: taken
// along for the timer. Nothing thrown here may reach the process.
const CLOSE_INSPECTOR = `((load) => void setTimeout(() => { try { load("node:inspector").close() } catch {} }, 50).unref())(require)`;

/** Reads the task tree of process `pid`. Throws {@link PsError} saying what went wrong. */
export async function readTasks(pid: number, options: ReadTasksOptions = {}): Promise<PsSnapshot> {
  const port = options.port ?? 9229;
  const timeoutMs = options.timeoutMs ?? 5000;
  checkProcess(pid);
  let targets = await listTargets(port, 500).catch(() => undefined);
  const opened = targets === undefined;
  if (opened) {
    openInspector(pid);
    const deadline = Date.now() + timeoutMs;
    while (targets === undefined && Date.now() < deadline) {
      await sleepMs(50);
      targets = await listTargets(port, 500).catch(() => undefined);
    }
    if (targets === undefined) {
      throw new PsError(
        `process ${pid} did not open its inspector on 127.0.0.1:${port} within ${timeoutMs} ms: ` +
          "is it a Node process, started without --disable-sigusr1, and is the port free? " +
          "(a process started with --inspect-port=N needs --port N)",
      );
    }
  }
  const target = targets?.[0];
  if (target === undefined) throw new PsError(`the inspector on port ${port} lists no target`);
  const socket = await connectWebSocket(target.webSocketDebuggerUrl, timeoutMs).catch((error: Error) => {
    throw new PsError(`could not connect to the inspector of process ${pid}: ${error.message}`);
  });
  const session = new Session(socket);
  try {
    const seen = await session.evaluate("process.pid", timeoutMs);
    if (seen !== pid) {
      throw new PsError(
        `the inspector on port ${port} belongs to process ${String(seen)}, not ${pid}: stop that one's inspector or pass --port`,
      );
    }
    const text = await session.evaluate(DUMP, timeoutMs);
    if (typeof text !== "string") {
      throw new PsError(
        `process ${pid} does not use awaitress (or a version without \`awaitress ps\`): nothing at globalThis[Symbol.for("awaitress.ps")]`,
      );
    }
    if (opened) {
      // Close the inspector ps opened, once this session has gone (close() waits for it).
      await session.evaluate(CLOSE_INSPECTOR, timeoutMs).catch(() => {});
    }
    return JSON.parse(text) as PsSnapshot;
  } finally {
    socket.close();
  }
}

function since(task: PsTask): string {
  return task.waitingFor === null ? "" : formatTime(task.waitingFor);
}

function loopTitle(loop: PsLoop, index: number): string {
  const which = loop.isDefault ? "the default loop" : `loop ${index + 1}`;
  const count = `${loop.tasks.length} pending task${loop.tasks.length === 1 ? "" : "s"}`;
  return `${which} (${loop.clock} clock, at ${formatTime(loop.time)}${loop.debug ? ", debug mode" : ""}): ${count}`;
}

function noLoops(snapshot: PsSnapshot): string {
  return `process ${snapshot.pid} uses awaitress but runs no loop with tasks right now`;
}

/** `awaitress ps`: one row per task. */
export function formatPs(snapshot: PsSnapshot): string {
  if (snapshot.loops.length === 0) return noLoops(snapshot);
  const lines: string[] = [`process ${snapshot.pid}: ${escapeControl(snapshot.argv.join(" "))}`];
  snapshot.loops.forEach((loop, i) => {
    lines.push("", loopTitle(loop, i));
    const rows = [["ID", "PARENT", "NAME", "STATE", "WAITS ON", "FOR", "CREATED AT"]];
    for (const t of loop.tasks) {
      rows.push([
        String(t.id),
        t.parent === null ? "-" : String(t.parent),
        escapeControl(t.name),
        t.state,
        t.waitsOn === null ? "-" : escapeControl(t.waitsOn),
        since(t) || "-",
        t.createdAt ?? "-",
      ]);
    }
    const widths = (rows[0] as string[]).map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length)));
    for (const row of rows)
      lines.push(
        row
          .map((cell, c) => cell.padEnd(widths[c] as number))
          .join("  ")
          .trimEnd(),
      );
  });
  if (snapshot.loops.some((loop) => loop.tasks.some((t) => t.createdAt === null))) {
    lines.push("", "(creation sites are recorded in debug mode: run the program with AWAITRESS_DEBUG=1)");
  }
  return lines.join("\n");
}

/** `awaitress pstree`: the tasks as a tree, parent above children. */
export function formatPsTree(snapshot: PsSnapshot): string {
  if (snapshot.loops.length === 0) return noLoops(snapshot);
  const lines: string[] = [`process ${snapshot.pid}: ${escapeControl(snapshot.argv.join(" "))}`];
  snapshot.loops.forEach((loop, i) => {
    lines.push("", loopTitle(loop, i));
    const ids = new Set(loop.tasks.map((t) => t.id));
    const children = new Map<number | null, PsTask[]>();
    for (const t of loop.tasks) {
      const parent = t.parent !== null && ids.has(t.parent) ? t.parent : null;
      children.set(parent, [...(children.get(parent) ?? []), t]);
    }
    const visit = (t: PsTask, prefix: string, branch: string): void => {
      const wait =
        t.waitsOn === null
          ? t.state
          : `waiting on ${escapeControl(t.waitsOn)}${t.waitingFor === null ? "" : ` for ${since(t)}`}`;
      const where = t.createdAt === null ? "" : `, created at ${t.createdAt}`;
      lines.push(`${prefix}${branch}${escapeControl(t.name)} (id ${t.id}) ${wait}${where}`);
      const kids = children.get(t.id) ?? [];
      const next = prefix + (branch === "" ? "" : branch === "└─ " ? "   " : "│  ");
      kids.forEach((kid, k) => {
        visit(kid, next, k === kids.length - 1 ? "└─ " : "├─ ");
      });
    };
    for (const root of children.get(null) ?? []) visit(root, "", "");
  });
  return lines.join("\n");
}
