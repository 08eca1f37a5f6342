/**
 * `awaitress/debug`: asyncio's debug mode and the task dumps.
 *
 * Importing it installs debug mode's hooks, so `run(main, { debug: true })` (or AWAITRESS_DEBUG=1)
 * works in every build — Node's build of `awaitress` loads them by itself, a bundle for another
 * platform only through this import — and lists every loop for `awaitress ps`.
 *
 * @example
 * import "awaitress/debug";
 * import { run, sleep } from "awaitress";
 *
 * await run(async () => { await sleep(0.1); }, { debug: true });
 *
 * @module awaitress/debug
 */
import { isDefaultLoop, setLoopHook } from "../core/loop.js";
import { setInstrumenter } from "../core/run.js";
import { instrument } from "./instrument.js";
import { registerPs, trackLoop } from "./ps.js";

setInstrumenter(instrument);
setLoopHook((loop, sink) => {
  trackLoop(loop);
  return sink;
});
registerPs(isDefaultLoop);

export { dumpTasks, formatTaskTree } from "./dump.js";
export type { BlockedReport } from "./watchdog.js";
