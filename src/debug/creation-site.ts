/**
 * Where a task was created, from the stack trace debug mode records (`task.creationStack`):
 * the first frame that is the program's own, not awaitress's or Node's.
 */

const LIBRARY_FRAME =
  /[\\/](?:awaitress[\\/](?:dist|src)|src[\\/](?:task|run|loop|future|gather|task-group|timeout|wait-for|shield)\.[jt]s)|node:internal|node_modules[\\/]/;

/** The stack's frames ("at f (file:line:col)" lines), without the message line. */
function frames(stack: string): string[] {
  return stack
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("at "));
}

/**
 * The first frame of `stack` in the program's own code, as "file:line:col" (relative to the
 * working directory); `undefined` without a stack.
 *
 * @example
 * creationSite(task.creationStack) // "src/app.ts:12:7"
 */
export function creationSite(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  const all = frames(stack);
  const own = all.find((f) => !LIBRARY_FRAME.test(f)) ?? all[0];
  if (own === undefined) return undefined;
  const cwd = `${process.cwd()}/`;
  // "at fn (file:line:col)" or "at file:line:col": keep the location only.
  const location = /\(([^()]+)\)$/.exec(own)?.[1] ?? own.slice(3);
  return location
    .replace(/^file:\/\//, "")
    .split(cwd)
    .join("");
}
