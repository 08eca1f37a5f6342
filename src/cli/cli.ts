/**
 * The `awaitress` command: `awaitress demo` runs the seed program. `main.ts` calls {@link cli}
 * with the process's arguments; tests call it directly.
 *
 * Exit codes: 0 done, 1 the program failed, 2 a usage error (unknown command or option).
 */

import { writeFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type RunOptions, run } from "../node.js";
import { htmlTimeline, perfettoJson, Recorder, terminalTimeline } from "../trace/index.js";
import { formatPs, formatPsTree, PsError, readTasks } from "./ps.js";
import { main as seed } from "./seed.js";
import { runTraced, TRACE_LIMIT_DEFAULT, TraceUsageError } from "./trace-command.js";

/** Where the command writes its own messages (help, errors). Programs it runs print as usual. */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

type Flags = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

interface Command {
  /** One line for the command list. */
  readonly summary: string;
  /** The whole `--help` text. */
  readonly help: string;
  readonly flags: Flags;
  /** The command takes positional arguments (a PID, a command after `--`). */
  readonly positionals?: boolean;
  run(values: Values, positionals: string[], out: CliOutput): Promise<number>;
}

/** A usage error: printed with a hint, exit code 2. */
class UsageError extends Error {}

const HELP_FLAG = { help: { type: "boolean", short: "h" } } as const satisfies Flags;

// `awaitress demo`. The tracing flags (--timeline, --html <file>, --perfetto <file>) belong in
// DEMO_FLAGS and DEMO_HELP; `demo.run` then sets `options.trace` before `run` and writes the
// exports after it.
const DEMO_FLAGS = {
  ...HELP_FLAG,
  real: { type: "boolean" },
  timeline: { type: "boolean" },
  html: { type: "string" },
  perfetto: { type: "string" },
} as const satisfies Flags;

const DEMO_HELP = `Usage: awaitress demo [--real] [--timeline] [--html <file>] [--perfetto <file>]

Runs the seed program: two tasks share a queue of work (15, 10, 5 and 2 seconds) and
time each job with codetiming's Timer, as in Python's asyncio. On the virtual clock (the
default) it prints the exact figures at once; with --real it takes 17 seconds.

Options:
  --real       run on the wall clock (17 s) instead of the virtual clock
  --timeline   then draw what the event loop did: one lane per task, what it waited on
  --html <file>      write the timeline as a self-contained HTML page (zoom, hover, summary)
  --perfetto <file>  write Chrome trace-event JSON for ui.perfetto.dev or chrome://tracing
  -h, --help   show this help
`;

const demo: Command = {
  summary: "run the seed program: a work queue timed with codetiming's Timer",
  help: DEMO_HELP,
  flags: DEMO_FLAGS,
  async run(values, _positionals, out) {
    const options: RunOptions = { clock: values.real === true ? "real" : "virtual", name: "main" };
    const wantsTrace = values.timeline === true || values.html !== undefined || values.perfetto !== undefined;
    const recorder = wantsTrace ? new Recorder() : undefined;
    if (recorder !== undefined) options.trace = recorder;
    await run(() => seed(), options);
    if (recorder !== undefined) {
      if (values.timeline === true) out.stdout(`\n${terminalTimeline(recorder.events)}\n`);
      if (typeof values.html === "string") {
        writeFileSync(values.html, htmlTimeline(recorder.events, { title: "awaitress demo: the seed program" }));
        out.stdout(`Wrote the HTML timeline to ${values.html}\n`);
      }
      if (typeof values.perfetto === "string") {
        writeFileSync(values.perfetto, perfettoJson(recorder.events));
        out.stdout(`Wrote the Perfetto trace to ${values.perfetto} (open it at ui.perfetto.dev)\n`);
      }
    }
    return 0;
  },
};

const TRACE_FLAGS = {
  ...HELP_FLAG,
  timeline: { type: "boolean" },
  html: { type: "string" },
  perfetto: { type: "string" },
  jsonl: { type: "string" },
  limit: { type: "string" },
  steps: { type: "boolean" },
} as const satisfies Flags;

const TRACE_HELP = `Usage: awaitress trace [--timeline] [--html <file>] [--perfetto <file>] [--jsonl <file>] -- COMMAND...

Runs COMMAND with awaitress recording every run() and the default loop of the program, and
writes the chosen views when the program exits: normally, on an uncaught error, on
process.exit(), or on Ctrl-C / SIGTERM. No change to the program: it only has to use awaitress.

COMMAND is a script (app.js, app.mjs, app.cjs, app.ts: run with this Node; TypeScript through
tsx when the project has it, else Node's type stripping) or any command (npm test, node app.js).
The same without this command: AWAITRESS_TRACE=trace.html node app.js (see docs/tracing.md).

Options:
  --timeline         draw the terminal timeline on stderr (the default when no file is chosen)
  --html <file>      write the timeline as a self-contained HTML page
  --perfetto <file>  write Chrome trace-event JSON for ui.perfetto.dev or chrome://tracing
  --jsonl <file>     write the events as JSON lines (readJsonl loads them back)
  --limit <n>        keep the last n events of each loop (default ${TRACE_LIMIT_DEFAULT}); a note says what was dropped
  --steps            watch each synchronous step (waits on foreign promises exact; slower)
  -h, --help         show this help
`;

const trace: Command = {
  summary: "run a program and draw what its event loops did (terminal, HTML, Perfetto, JSONL)",
  help: TRACE_HELP,
  flags: TRACE_FLAGS,
  positionals: true,
  async run(values, positionals, out) {
    if (positionals.length === 0)
      throw new UsageError("awaitress trace: no command to run: awaitress trace -- node app.js");
    let limit: number | undefined;
    if (typeof values.limit === "string") {
      limit = Number(values.limit);
      if (!(Number.isInteger(limit) && limit > 0)) {
        throw new UsageError(`awaitress trace: --limit expects a positive integer, got '${values.limit}'`);
      }
    }
    try {
      return await runTraced(
        {
          timeline: values.timeline === true,
          html: typeof values.html === "string" ? values.html : undefined,
          perfetto: typeof values.perfetto === "string" ? values.perfetto : undefined,
          jsonl: typeof values.jsonl === "string" ? values.jsonl : undefined,
          limit,
          steps: values.steps === true,
          command: positionals,
        },
        (text) => out.stderr(text),
      );
    } catch (error) {
      if (error instanceof TraceUsageError) throw new UsageError(error.message);
      throw error;
    }
  },
};

const PS_FLAGS = {
  ...HELP_FLAG,
  port: { type: "string" },
  json: { type: "boolean" },
} as const satisfies Flags;

function psHelp(name: "ps" | "pstree"): string {
  const shows = name === "ps" ? "one row per task" : "the tasks as a tree, each under the task that created it";
  return `Usage: awaitress ${name} [--port <n>] [--json] PID

Shows the live tasks of the Node process PID that uses awaitress: ${shows}, with
each task's state, what it waits on and for how long, where it was created (debug mode) and
its parent. The program needs no change: awaitress answers through Node's inspector, which
this command opens with SIGUSR1 (as kill -USR1 PID would) and closes again.

Needs: the same user as the process (or root), and the inspector's port (9229) free.

Options:
  --port <n>   the inspector's port, for a process started with --inspect-port=<n> (default 9229)
  --json       print the snapshot as JSON
  -h, --help   show this help
`;
}

function psCommand(name: "ps" | "pstree"): Command {
  return {
    summary:
      name === "ps"
        ? "list the live tasks of a running process: state, what each waits on, since when"
        : "the live tasks of a running process as a tree (who created whom)",
    help: psHelp(name),
    flags: PS_FLAGS,
    positionals: true,
    async run(values, positionals, out) {
      const [pidText, extra] = positionals;
      if (pidText === undefined) throw new UsageError(`awaitress ${name}: which process? awaitress ${name} PID`);
      if (extra !== undefined) throw new UsageError(`awaitress ${name}: unexpected argument '${extra}'`);
      const pid = Number(pidText);
      if (!(Number.isInteger(pid) && pid > 0)) {
        throw new UsageError(`awaitress ${name}: expected a process id, got '${pidText}'`);
      }
      const port = typeof values.port === "string" ? Number(values.port) : 9229;
      if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
        throw new UsageError(`awaitress ${name}: --port expects a port number, got '${String(values.port)}'`);
      }
      try {
        const snapshot = await readTasks(pid, { port });
        if (values.json === true) out.stdout(`${JSON.stringify(snapshot, null, 2)}\n`);
        else out.stdout(`${name === "ps" ? formatPs(snapshot) : formatPsTree(snapshot)}\n`);
        return 0;
      } catch (error) {
        if (error instanceof PsError) {
          out.stderr(`awaitress ${name}: ${error.message}\n`);
          return 1;
        }
        throw error;
      }
    },
  };
}

const commands: Record<string, Command> = { demo, trace, ps: psCommand("ps"), pstree: psCommand("pstree") };

function mainHelp(): string {
  const names = Object.keys(commands);
  const width = Math.max(...names.map((n) => n.length), 4);
  const list = names.map((name) => `  ${name.padEnd(width)}   ${(commands[name] as Command).summary}`).join("\n");
  return `awaitress: Python asyncio's model (tasks, queues, cancellation, a virtual clock) for TypeScript

Usage: awaitress <command> [options]

Commands:
${list}
  ${"help".padEnd(width)}   show the help of a command: awaitress help demo

Options:
  -h, --help   show this help
`;
}

function parse(flags: Flags, args: string[], where: string): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: flags, allowPositionals: true, strict: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const option = /'(-[^']*)'/.exec(message)?.[1];
    if (option !== undefined && /Unknown option/.test(message)) {
      throw new UsageError(`${where}: unknown option '${option}'`);
    }
    throw new UsageError(`${where}: ${message}`);
  }
}

/**
 * Runs the `awaitress` command with `args` (the arguments after the program name) and resolves
 * to the exit code. Never throws: usage errors go to `out.stderr` with exit code 2, failures of
 * the program it runs with exit code 1.
 *
 * @example
 * process.exitCode = await cli(["demo", "--real"]);
 */
export async function cli(args: readonly string[], out: CliOutput = processOutput): Promise<number> {
  const [first, ...rest] = args;
  let where = "awaitress";
  try {
    if (first === undefined) {
      out.stderr(mainHelp());
      return 2;
    }
    if (first === "-h" || first === "--help") {
      out.stdout(mainHelp());
      return 0;
    }
    if (first === "help") {
      const topic = rest[0];
      if (topic === undefined) {
        out.stdout(mainHelp());
        return 0;
      }
      const command = commands[topic];
      if (command === undefined) throw new UsageError(`awaitress help: unknown command '${topic}'`);
      out.stdout(command.help);
      return 0;
    }
    if (first.startsWith("-")) throw new UsageError(`awaitress: unknown option '${first}' (expected a command first)`);
    const command = Object.hasOwn(commands, first) ? commands[first] : undefined;
    if (command === undefined) throw new UsageError(`awaitress: unknown command '${first}'`);
    where = `awaitress ${first}`;
    const { values, positionals } = parse(command.flags, rest, where);
    if (values.help === true) {
      out.stdout(command.help);
      return 0;
    }
    if (positionals.length > 0 && command.positionals !== true)
      throw new UsageError(`${where}: unexpected argument '${positionals[0]}'`);
    return await command.run(values, positionals, out);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = where === "awaitress" ? "awaitress --help" : `${where} --help`;
      out.stderr(`${error.message}\nRun '${help}' to see what it accepts.\n`);
      return 2;
    }
    out.stderr(`${where} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
