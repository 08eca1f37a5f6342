/**
 * shutdown.ts in the browser build (scripts/build.mjs): `shutdownOn` listens for process signals,
 * which a page does not have, so it refuses clearly instead of failing on a missing `process`.
 */
import { InvalidStateError } from "../errors.js";
import type { ShutdownHandle, ShutdownOptions } from "./shutdown.js";
import type { WorkerPool } from "./worker-pool.js";

export type { ShutdownHandle, ShutdownOptions } from "./shutdown.js";

/** Node's `shutdownOn` (see shutdown.ts); in a browser it throws {@link InvalidStateError}. */
export function shutdownOn<T>(
  _signals: readonly string[],
  _pool: WorkerPool<T>,
  _options?: ShutdownOptions,
): ShutdownHandle {
  throw new InvalidStateError(
    "shutdownOn() listens for process signals (SIGINT, SIGTERM), which a browser does not have: " +
      "stop the pool yourself, pool.shutdown(grace), from the page's own event (a button, pagehide)",
  );
}
