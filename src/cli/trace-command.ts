/**
 * `awaitress trace [--timeline] [--html FILE] [--perfetto FILE] [--jsonl FILE] -- COMMAND…`: runs
 * the program with `AWAITRESS_TRACE` set, so awaitress, when the program loads it, records every
 * loop and writes the views as the program exits (src/trace/process-trace.ts).
 *
 * COMMAND is a script (`app.js`, `app.mjs`, `app.cjs`, `app.ts`), run with this Node, or any
 * command (`npm test`, `node --foo app.js`), run as it is with the variable in its environment.
 * A `.ts` script runs through tsx when the project has it (it also maps `./x.js` imports to
 * `./x.ts`), else through Node's own type stripping (Node ≥ 22.18), else it is refused with the fix.
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { DEFAULT_LIMIT, LIMIT_ENV, STEPS_ENV, TRACE_ENV } from "../trace/process-trace.js";

/** What `awaitress trace` was asked for, checked. */
export interface TraceRequest {
  readonly timeline: boolean;
  readonly html?: string | undefined;
  readonly perfetto?: string | undefined;
  readonly jsonl?: string | undefined;
  readonly limit?: number | undefined;
  readonly steps: boolean;
  readonly command: readonly string[];
}

/** The value of `AWAITRESS_TRACE` for `request` (paths made absolute: the program may `chdir`). */
export function traceEnvValue(request: TraceRequest, cwd: string = process.cwd()): string {
  const outputs: string[] = [];
  if (request.html !== undefined) outputs.push(resolve(cwd, request.html));
  if (request.perfetto !== undefined) outputs.push(resolve(cwd, request.perfetto));
  if (request.jsonl !== undefined) outputs.push(resolve(cwd, request.jsonl));
  if (request.timeline || outputs.length === 0) outputs.push("timeline");
  for (const path of outputs) {
    if (path.includes(",")) throw new Error(`awaitress trace: a file name cannot hold a comma: ${path}`);
  }
  return outputs.join(",");
}

const SCRIPT = /\.(?:[cm]?js|[cm]?ts)$/;

/** Thrown when the command cannot be run as asked (exit code 2). */
export class TraceUsageError extends Error {}

/** The argv to spawn for `command`: a script runs with this Node (and tsx for TypeScript). */
export function commandLine(command: readonly string[], cwd: string = process.cwd()): string[] {
  const [first, ...rest] = command;
  if (first === undefined) throw new TraceUsageError("awaitress trace: no command to run (after `--`)");
  if (!SCRIPT.test(first) || !existsSync(resolve(cwd, first))) return [first, ...rest];
  if (!/\.[cm]?ts$/.test(first)) return [process.execPath, first, ...rest];
  if (hasTsx(cwd)) return [process.execPath, "--import", "tsx", first, ...rest];
  const features = process.features as { typescript?: unknown };
  if (features.typescript !== undefined && features.typescript !== false) return [process.execPath, first, ...rest];
  throw new TraceUsageError(
    `awaitress trace: ${first} is TypeScript, and Node ${process.versions.node} cannot run it by itself: ` +
      "install tsx in the project (npm install -D tsx) or use Node ≥ 22.18 (type stripping)",
  );
}

function hasTsx(cwd: string): boolean {
  try {
    createRequire(resolve(cwd, "noop.js")).resolve("tsx/package.json");
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the traced program and resolves to its exit code (128 + n when a signal ended it).
 * SIGINT and SIGTERM sent to `awaitress trace` go to the program; on a terminal, Ctrl-C already
 * reaches the program (same process group), so it is not sent a second time.
 */
export function runTraced(
  request: TraceRequest,
  report: (text: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const argv = commandLine(request.command);
  const childEnv: NodeJS.ProcessEnv = { ...env, [TRACE_ENV]: traceEnvValue(request) };
  if (request.limit !== undefined) childEnv[LIMIT_ENV] = String(request.limit);
  if (request.steps) childEnv[STEPS_ENV] = "1";
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: "inherit", env: childEnv });
    const forward = (signal: NodeJS.Signals) => () => {
      if (process.stdin.isTTY !== true) child.kill(signal);
    };
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.on("error", (error) => {
      process.removeListener("SIGINT", onInt);
      process.removeListener("SIGTERM", onTerm);
      fail(new TraceUsageError(`awaitress trace: could not run ${argv[0]}: ${error.message}`));
    });
    child.on("exit", (code, signal) => {
      process.removeListener("SIGINT", onInt);
      process.removeListener("SIGTERM", onTerm);
      for (const [what, path] of [
        ["the HTML timeline", request.html],
        ["the Perfetto trace (open it at ui.perfetto.dev)", request.perfetto],
        ["the JSON-lines trace", request.jsonl],
      ] as const) {
        if (path === undefined) continue;
        const written = existsSync(path) && statSync(path).mtimeMs >= started - 1000;
        report(
          written
            ? `awaitress trace: wrote ${what} to ${path}\n`
            : `awaitress trace: ${path} was not written: the program did not load awaitress, or was killed before it could write (SIGKILL)\n`,
        );
      }
      if (signal !== null) {
        const numbers: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGKILL: 9, SIGHUP: 1 };
        done(128 + (numbers[signal] ?? 1));
        return;
      }
      done(code ?? 1);
    });
  });
}

/** The default ring size, for the help text. */
export const TRACE_LIMIT_DEFAULT = DEFAULT_LIMIT;
