/** scripts/build.mjs, as the tests import it. */
import type { BuildOptions } from "esbuild";

/** esbuild's options for the browser build of `awaitress` (`root`: the package's directory). */
export function browserBundleOptions(root?: string): BuildOptions & { entryPoints: string[] };
