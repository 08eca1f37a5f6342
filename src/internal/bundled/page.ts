/**
 * The built text of bundle "page" (see ../bundle.ts): scripts/build.mjs replaces the built copy of
 * this module with one that holds the bundle as a string, so the package carries it inside a
 * module, and an application that bundles awaitress again carries it too — only when it imports
 * what needs it (one module per bundle). Undefined in the sources: there bundle.ts bundles on
 * first use.
 * @internal
 */
export const BUILT: string | undefined = undefined;
