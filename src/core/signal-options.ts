/**
 * `run`'s `signals` option: the signals it may turn into cancelling main, and the check of the
 * option. Shared by Node's signals.ts and the browser's signals.browser.ts.
 */
import { describe } from "../errors.js";

/** A signal `run` can turn into cancelling main. */
export type RunSignal = "SIGINT" | "SIGTERM";

export const RUN_SIGNALS: readonly RunSignal[] = ["SIGINT", "SIGTERM"];

/** Checks `run`'s `signals` option; returns the list of signals (empty: none). */
export function checkSignals(value: unknown): readonly RunSignal[] {
  if (value === undefined || value === true) return RUN_SIGNALS;
  if (value === false) return [];
  if (Array.isArray(value) && value.every((s) => RUN_SIGNALS.includes(s))) return [...new Set(value as RunSignal[])];
  const what = Array.isArray(value)
    ? `an array holding ${value.map((s) => (typeof s === "string" ? JSON.stringify(s) : describe(s))).join(", ")}`
    : describe(value);
  throw new TypeError(`Expected \`signals\` to be a boolean or an array of "SIGINT" and "SIGTERM", got ${what}`);
}
