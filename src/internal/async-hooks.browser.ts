/**
 * `node:async_hooks` in the browser build (scripts/build.mjs): only `AsyncResource.bind`, which
 * the clocks use to run their native timers outside any task. In the browser the loop itself says
 * which task runs (src/core/context.browser.ts), so binding changes nothing. There is no
 * `AsyncLocalStorage` here on purpose: a module that needs it fails the build.
 */
export const AsyncResource = {
  bind<F extends (...args: never[]) => unknown>(fn: F): F {
    return fn;
  },
};
