/** Worker processes for the fault tests (test/redis/worker.ts run with tsx), and their output lines. */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const WORKER = resolve(import.meta.dirname, "worker.ts");

export class Child {
  /** Children not yet ended: a test that fails midway leaves them to {@link Child.killAll}. */
  private static readonly running = new Set<Child>();
  readonly lines: string[] = [];
  readonly process: ChildProcess;
  private waiters: { match: (line: string) => boolean; resolve: () => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.process = spawn(process.execPath, ["--import", "tsx", WORKER, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const stdout = this.process.stdout;
    if (stdout === null) throw new Error("no stdout");
    createInterface({ input: stdout }).on("line", (line) => {
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(line)) return true;
        w.resolve();
        return false;
      });
    });
    // "close", not "exit": once its output was read to the end (every line it printed is in `lines`).
    this.exited = new Promise((r) => this.process.once("close", (code) => r(code)));
    Child.running.add(this);
    void this.exited.then(() => Child.running.delete(this));
  }

  /** kill -9 of every child still running, for afterAll: nothing keeps the test process alive. */
  static async killAll(): Promise<void> {
    await Promise.all([...Child.running].map((c) => c.kill9()));
  }

  /** Resolves once a line matching `match` was printed (now or later). */
  until(match: (line: string) => boolean): Promise<void> {
    if (this.lines.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  kill9(): Promise<number | null> {
    this.process.kill("SIGKILL");
    return this.exited;
  }
}
