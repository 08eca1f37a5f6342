/**
 * `awaitress` on Node (package.json's "node" condition): everything src/index.ts exports, plus
 * what a Node program gets without asking —
 * - debug mode when `run` is asked for it (`debug: true`, AWAITRESS_DEBUG=1): awaitress/debug's
 *   hooks, loaded on first use;
 * - `awaitress ps PID`: every loop is listed for the inspector to read;
 * - `AWAITRESS_TRACE` (`awaitress trace -- COMMAND`): the process-wide recording, loaded only when
 *   the variable is set.
 */
import { createRequire } from "node:module";
import { hostEnv } from "./core/context.js";
import { isDefaultLoop, setLoopHook } from "./core/loop.js";
import { setInstrumenterLoader } from "./core/run.js";
import { registerPs, trackLoop } from "./debug/ps.js";
import { InvalidStateError } from "./errors.js";

// Debug mode's hooks (the step monitor, the watchdog and its worker's source) load on first use,
// by a computed URL: a bundler does not follow it, so a bundle of a Node program does not carry
// them; there `debug: true` fails with run's clear error unless the program imports
// awaitress/debug. From the sources (tsx, vitest) this module is node.ts, and so is its sibling.
const DEBUG_MODULE = new URL(`./debug/instrument${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url);
setInstrumenterLoader(async (loop, options) => {
  let debug: typeof import("./debug/instrument.js");
  try {
    debug = (await import(/* @vite-ignore */ DEBUG_MODULE.href)) as typeof import("./debug/instrument.js");
  } catch (error) {
    throw new InvalidStateError(
      `debug mode needs awaitress/debug, which could not be loaded beside ${import.meta.url} ` +
        `(${(error instanceof Error ? error.message : String(error)).split("\n")[0]}); is the program bundled? ` +
        'Add `import "awaitress/debug";` to it, or turn debug mode off',
    );
  }
  return debug.instrument(loop, options);
});
setLoopHook((loop, sink) => {
  trackLoop(loop);
  return sink;
});
registerPs(isDefaultLoop);

const traceEnv = hostEnv("AWAITRESS_TRACE");
if (traceEnv !== undefined && traceEnv.trim() !== "") {
  // Synchronously (require of an ES module), so the first loop, however soon, is recorded.
  try {
    const trace = createRequire(import.meta.url)("./trace/process-trace.js") as {
      installProcessTrace(): void;
    };
    trace.installProcessTrace();
  } catch (error) {
    process.stderr.write(
      `awaitress: AWAITRESS_TRACE is set, but awaitress/trace could not be loaded beside ${import.meta.url} ` +
        `(${(error instanceof Error ? error.message : String(error)).split("\n")[0]}); is the program bundled? ` +
        "Call `installProcessTrace()` from awaitress/trace in it, or run it unbundled. The program runs untraced\n",
    );
  }
}

export * from "./index.js";
