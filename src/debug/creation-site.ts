/**
 * Where a task was created, from the stack trace debug mode records (`task.creationStack`):
 * the first frame that is the program's own, not awaitress's or Node's.
 */

/** "/x/awaitress/src/" or "/x/awaitress/dist/esm/": the folder this library's modules live in. */
function libraryRoot(): string | undefined {
  const here = new Error().stack?.split("\n").find((line) => /creation-site\.[cm]?[jt]s/.test(line));
  if (here === undefined) return undefined;
  const match =
    /\((?:file:\/\/)?([^()]*?)debug[\\/]creation-site\.[cm]?[jt]s/.exec(here) ??
    /at (?:file:\/\/)?(\S*?)debug[\\/]creation-site\.[cm]?[jt]s/.exec(here);
  return match?.[1];
}

const ROOT = libraryRoot();

/** The folder this library's modules live in, or undefined if it could not be told. */
export const LIBRARY_ROOT: string | undefined = ROOT;

function isLibraryFrame(frame: string): boolean {
  if (frame.includes("node:") || /node_modules[\\/]/.test(frame)) return true;
  return ROOT !== undefined && frame.includes(ROOT);
}

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
  const own = all.find((f) => !isLibraryFrame(f)) ?? all[0];
  if (own === undefined) return undefined;
  const cwd = `${process.cwd()}/`;
  // "at fn (file:line:col)" or "at file:line:col": keep the location only.
  const location = /\(([^()]+)\)$/.exec(own)?.[1] ?? own.slice(3);
  return location
    .replace(/^file:\/\//, "")
    .split(cwd)
    .join("");
}
