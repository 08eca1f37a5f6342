/**
 * The bundled scripts' text (see bundle.ts), filled in at build time: scripts/build.mjs replaces
 * the built copy of this module (dist/esm/internal/bundled-sources.js) with one that holds each
 * bundle as a string, so the package carries them inside a module and an application that bundles
 * awaitress again carries them too. Empty in the sources: there bundle.ts bundles on first use.
 */
export const BUNDLED: { readonly [name: string]: string | undefined } = {};
