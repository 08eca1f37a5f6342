/** examples/seed-redis.ts runs: the seed's two tasks in two processes share one RedisQueue. */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisServer, skipRedis } from "./server.js";

const EXAMPLE = resolve(import.meta.dirname, "../../examples/seed-redis.ts");
let server: RedisServer;

describe.skipIf(skipRedis)("examples/seed-redis.ts", () => {
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("runs the seed with task Two in a second process: every job runs once, and the first process waits for all", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", EXAMPLE, "--url", server.url, "--scale", "0.05"],
      { timeout: 60_000 },
    );
    const running = stdout.split("\n").filter((l) => /^Task (One|Two) running$/.test(l));
    expect(running).toHaveLength(4);
    expect(stdout).toMatch(/Task One running/);
    expect(stdout).toMatch(/Total elapsed time: \d/);
  }, 90_000);
});
