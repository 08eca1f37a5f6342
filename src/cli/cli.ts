/**
 * The `awaitress` command: `awaitress demo` runs the seed program. `main.ts` calls {@link cli}
 * with the process's arguments; tests call it directly.
 *
 * Exit codes: 0 done, 1 the program failed, 2 a usage error (unknown command or option).
 */

import { writeFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { htmlTimeline, perfettoJson, Recorder, type RunOptions, run, terminalTimeline } from "../index.js";
import { main as seed } from "./seed.js";

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

const commands: Record<string, Command> = { demo };

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
    if (positionals.length > 0) throw new UsageError(`${where}: unexpected argument '${positionals[0]}'`);
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
