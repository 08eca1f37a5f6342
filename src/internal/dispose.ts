/**
 * `Symbol.asyncDispose` / `Symbol.dispose`, or the registered symbols TypeScript's and esbuild's
 * downlevel `using` falls back to on runtimes that lack them.
 * @internal
 */
export const asyncDisposeSymbol: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for("Symbol.asyncDispose") as typeof Symbol.asyncDispose);
/** @internal */
export const disposeSymbol: typeof Symbol.dispose =
  Symbol.dispose ?? (Symbol.for("Symbol.dispose") as typeof Symbol.dispose);
