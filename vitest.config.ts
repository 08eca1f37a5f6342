import { defineConfig } from "vitest/config";

export default defineConfig({
  // tsconfig.json's paths: "awaitress" and "awaitress/*" (what the examples import) are src/.
  resolve: { tsconfigPaths: true },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    typecheck: { enabled: true, include: ["test-d/**/*.test-d.ts"] },
    pool: "forks",
  },
});
