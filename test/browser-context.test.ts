import { describe, expect, it } from "vitest";
import { FOLLOWS_FOREIGN_PROMISES } from "../src/core/context.js";

describe("the context module in this run", () => {
  it("is the one the config says (vitest.browser-context.config.ts swaps in the browser's)", () => {
    expect(FOLLOWS_FOREIGN_PROMISES).toBe(process.env.AWAITRESS_EXPECT_BROWSER_CONTEXT !== "1");
  });
});
