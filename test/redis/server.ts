/**
 * A real redis-server for the tests: on a free loopback port, with its own temporary directory
 * and the append-only file on (unless a test asks for none), stopped afterwards. No mocks of Redis anywhere.
 *
 * Without a `redis-server` on the PATH the Redis tests are skipped with a message, except under
 * CI (`CI` set), where its absence is a failure: `.ci/run` installs Debian's package.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function findRedisServer(): string | null {
  try {
    return execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

export const REDIS_SERVER = findRedisServer();

/** True when the Redis tests must be skipped (no server here, and not CI). */
export const skipRedis = REDIS_SERVER === null && !process.env.CI;
if (skipRedis) {
  console.warn("redis-server is not installed: skipping the RedisQueue tests (apt-get install redis-server)");
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServerOptions {
  /** `always` for tests that kill the server and count acknowledgements. @default "everysec" */
  appendfsync?: "always" | "everysec" | "no";
  /** false: no persistence at all (no AOF, no snapshot), so a restart starts empty. @default true */
  appendonly?: boolean;
}

/** A running redis-server. */
export class RedisServer {
  private child: ChildProcess | null = null;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    if (REDIS_SERVER === null) throw new Error("redis-server is not installed (apt-get install redis-server)");
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), "awaitress-redis-")), options);
    await server.launch();
    return server;
  }

  /** Starts the server process (again, from the same directory after a kill). */
  async launch(): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--appendonly",
      this.options.appendonly === false ? "no" : "yes",
      "--appendfsync",
      this.options.appendfsync ?? "everysec",
      "--save",
      "",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
    ];
    const child = spawn(REDIS_SERVER as string, args, { stdio: ["ignore", "ignore", "inherit"] });
    this.child = child;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (await this.answers()) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port} within 10 s`);
      await new Promise((r) => setTimeout(r, 30));
    }
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      import("node:net").then(
        ({ connect }) => {
          const socket = connect(this.port, "127.0.0.1");
          socket.once("connect", () => {
            socket.write("PING\r\n");
          });
          socket.once("data", (data) => {
            socket.destroy();
            resolve(data.toString().startsWith("+PONG"));
          });
          socket.on("error", () => resolve(false));
        },
        () => resolve(false),
      );
    });
  }

  /** kill -9, as a crash: whatever was not written to the append-only file is gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGCONT"); // a paused server dies at once all the same, but say it plainly
    child.kill("SIGKILL");
    await exited;
    this.child = null;
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing (a stalled host). */
  pause(): void {
    this.child?.kill("SIGSTOP");
  }

  /** SIGCONT after {@link pause}: it answers again, the commands that queued up first. */
  resume(): void {
    this.child?.kill("SIGCONT");
  }

  /** Stops the server and deletes its directory. */
  async stop(): Promise<void> {
    await this.kill9();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
