import { expect, it, vi } from "vitest";
import { createTask } from "../src/node.js";

it("AWAITRESS_DEBUG=1 reports createTask called outside run, with where it was called", async () => {
  // Read when the default loop is first needed, which is the createTask below (this file's only use).
  process.env.AWAITRESS_DEBUG = "1";
  const errors = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    const task = createTask(() => 42, { name: "stray" });
    expect(await task).toBe(42);
    const printed = errors.mock.calls.map((c) => String(c[0]));
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(
      /^awaitress: createTask was called outside run\(\).* \(task "stray"\)\nThe task was created here\n/,
    );
    expect(printed[0]).toContain("debug-outside.test.ts");
  } finally {
    delete process.env.AWAITRESS_DEBUG;
    errors.mockRestore();
  }
});
