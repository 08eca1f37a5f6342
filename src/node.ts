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
import { isDefaultLoop, setLoopHook } from "./core/loop.js";
import { setInstrumenter } from "./core/run.js";
import { registerPs, trackLoop } from "./debug/ps.js";

setInstrumenter(async (loop, options) => (await import("./debug/instrument.js")).instrument(loop, options));
setLoopHook((loop, sink) => {
  trackLoop(loop);
  return sink;
});
registerPs(isDefaultLoop);

if (process.env.AWAITRESS_TRACE !== undefined && process.env.AWAITRESS_TRACE.trim() !== "") {
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
