/**
 * Shared test support: a real child process running a TypeScript file (or the CLI) through
 * `node --import tsx`, with its exit and its output. Not a test file.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");

/** How a child ended, and what it printed. */
export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runTsx}. */
export interface RunTsxOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Sees the output so far, each time more arrives (to signal the child when it is ready). */
  onStdout?: (text: string, child: ChildProcess) => void;
}

/**
 * Spawns `node --import tsx ...args` in the project's root and resolves when its output is read
 * to the end.
 *
 * @example
 * const out = await runTsx(["examples/seed.ts"]);
 * expect(out.code).toBe(0);
 */
export function runTsx(args: string[], options: RunTsxOptions = {}): Promise<ChildOutcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", fail);
    child.on("close", (code, signal) => done({ code, signal, stdout, stderr }));
  });
}
