/**
 * Argument checks of the work-queue toolkit, with p-queue's messages ("Expected `rate` to be a
 * positive number, got `-1` (number)"): a non-number is a `TypeError`, a number out of range
 * (NaN included) a `RangeError`, as everywhere in awaitress.
 */
import { describe } from "../errors.js";

/** An options object, or `{}` for `undefined`. */
export function checkOptions<T extends object>(options: unknown, what: string): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected the options of ${what} to be an object, got ${describe(options)}`);
  }
  return options as Partial<T>;
}

/** A number > 0 (`Infinity` allowed when `infinite`). */
export function checkPositive(value: unknown, name: string, infinite = false): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected \`${name}\` to be a positive number, got ${describe(value)}`);
  }
  if (!(value > 0) || (!infinite && value === Number.POSITIVE_INFINITY)) {
    throw new RangeError(
      `Expected \`${name}\` to be a positive${infinite ? "" : " finite"} number, got ${describe(value)}`,
    );
  }
  return value;
}

/** A number ≥ 0, finite. */
export function checkNonNegative(value: unknown, name: string): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected \`${name}\` to be a non-negative number, got ${describe(value)}`);
  }
  if (!(value >= 0) || value === Number.POSITIVE_INFINITY) {
    throw new RangeError(`Expected \`${name}\` to be a non-negative finite number, got ${describe(value)}`);
  }
  return value;
}

/** An integer ≥ 1 (`Infinity` allowed when `infinite`). */
export function checkCount(value: unknown, name: string, infinite = false): number {
  if (typeof value !== "number") {
    throw new TypeError(`Expected \`${name}\` to be a positive integer, got ${describe(value)}`);
  }
  const ok = Number.isInteger(value) ? value >= 1 : infinite && value === Number.POSITIVE_INFINITY;
  if (!ok) {
    throw new RangeError(
      `Expected \`${name}\` to be a positive integer${infinite ? " or Infinity" : ""}, got ${describe(value)}`,
    );
  }
  return value;
}

/** A function. */
export function checkFunction<F>(value: unknown, name: string, example: string): F {
  if (typeof value !== "function") {
    throw new TypeError(`Expected \`${name}\` to be a function, such as ${example}; got ${describe(value)}`);
  }
  return value as F;
}

/** An AbortSignal or undefined. */
export function checkSignal(value: unknown, name: string): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || typeof (value as AbortSignal).aborted !== "boolean") {
    throw new TypeError(`Expected \`${name}\` to be an AbortSignal, got ${describe(value)}`);
  }
  return value as AbortSignal;
}
