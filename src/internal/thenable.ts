/** The one test for "is this a promise-like?", shared by tasks, the combinators and `Timer`. */

/**
 * True for objects and functions with a `then` method (the Promises/A+ "thenable" test, which is
 * also what `await` adopts).
 * @internal
 * @example
 * isThenable(Promise.resolve(1)); // true
 * isThenable({ then: () => {} }); // true
 * isThenable(42);                 // false
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
