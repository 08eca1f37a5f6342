/** Checks options given in seconds, with the same errors everywhere. */
import { describe } from "../errors.js";

/**
 * Checks a duration option: a non-negative number of seconds (a non-number is a `TypeError`, a
 * NaN or a negative number a `RangeError`). Returns it, or `fallback` when it is `undefined`.
 */
export function checkSeconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number") {
    throw new TypeError(`Expected \`${name}\` to be a non-negative number of seconds, got ${describe(value)}`);
  }
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`Expected \`${name}\` to be a non-negative number of seconds, got ${describe(value)}`);
  }
  return value;
}
