/**
 * The semantics tests again, with the core's browser context (src/core/context.browser.ts, no
 * AsyncLocalStorage) in place of Node's: `npx vitest run -c vitest.browser-context.config.ts`.
 * The files listed are the ones whose tasks stay inside the browser's rule (they await awaitress's
 * awaitables); see "In the browser" in the README.
 */
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vitest/config";

const context = resolve(import.meta.dirname, "src/core/context.ts");
const browserContext = resolve(import.meta.dirname, "src/core/context.browser.ts");

function browserContextPlugin(): Plugin {
  return {
    name: "awaitress-browser-context",
    enforce: "pre",
    async resolveId(source, importer, options) {
      if (!source.endsWith("/context.js") || importer === undefined) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved?.id === context ? browserContext : null;
    },
  };
}

export default defineConfig({
  plugins: [browserContextPlugin()],
  // tsconfig.json's paths: "awaitress" (what the examples import) is src/, as in vitest.config.ts.
  resolve: { tsconfigPaths: true },
  test: {
    include: [
      "test/core.test.ts",
      "test/tasks.test.ts",
      "test/gather.test.ts",
      "test/queue.test.ts",
      "test/lock.test.ts",
      "test/wait-for.test.ts",
      "test/timeout.test.ts",
      "test/task-group.test.ts",
      "test/virtual-clock.test.ts",
      "test/condition.test.ts",
      "test/barrier.test.ts",
      "test/event.test.ts",
      "test/semaphore.test.ts",
      "test/shield.test.ts",
      "test/wait.test.ts",
      "test/no-lost-cancel.test.ts",
      "test/same-instant.test.ts",
      "test/withdraw.test.ts",
      "test/waiter.test.ts",
      "test/properties.test.ts",
      "test/timer.test.ts",
      "test/browser-context.test.ts",
    ],
    // Tests that await a bare foreign promise on purpose (or gather already-started calls) are
    // outside the browser's rule: there they fail with the rule's error, as README's "In the
    // browser" says (test/browser-core.test.ts checks that error in Chromium). Everything else runs.
    testNamePattern:
      /^(?!.*(foreign promise|times overlapping calls each on its own|a socket is still to answer|the clock waits for real idleness))/,
    // test/browser-context.test.ts checks that the swap took place.
    env: { AWAITRESS_EXPECT_BROWSER_CONTEXT: "1" },
    testTimeout: 20_000,
    pool: "forks",
  },
});
