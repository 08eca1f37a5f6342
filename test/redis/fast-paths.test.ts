/**
 * The fast paths of RedisQueue against a real redis-server, each watched from the server's side
 * (MONITOR, INFO): acknowledgements of one read batch go as one script, a server that forgot the
 * scripts (SCRIPT FLUSH) costs one reload and loses nothing, and a server that stops answering
 * fails the calls in flight within the command timeout, after which the queue works on.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTask, gather, run, sleep, waitFor } from "../../src/node.js";
import { RedisQueue, RedisQueueError, type RedisQueueOptions } from "../../src/redis/index.js";
import { ACK } from "../../src/redis/scripts.js";
import { RedisServer, skipRedis } from "./server.js";

let server: RedisServer;
let n = 0;
const quiet = { onWarning: () => {}, onError: () => {} } as const;
const opened: RedisQueue<never>[] = [];

async function connect<T>(options: RedisQueueOptions<T> = {}, name = `fast${++n}`): Promise<RedisQueue<T>> {
  const q = await RedisQueue.connect<T>(name, { url: server.url, ...quiet, ...options });
  opened.push(q as RedisQueue<never>);
  return q;
}

/** A plain node-redis client on the test server, for MONITOR and admin commands. */
async function admin() {
  const client = createClient({ url: server.url, RESP: 2 });
  await client.connect();
  return client;
}

describe.skipIf(skipRedis)("RedisQueue fast paths", () => {
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    server?.resume();
    await Promise.all(opened.map((q) => q.close()));
    await server?.stop();
  });

  it("workers iterating with for await read in batches and acknowledge a batch in one script, not one per item", async () => {
    const q = await connect<number>();
    // Warm up: the ACK script is loaded, so each acknowledgement below is one EVALSHA.
    await q.put(-1);
    await q.get();
    await q.taskDone();
    const total = 96;
    const workers = 8;
    const monitor = await admin();
    let ackScripts = 0;
    let reads = 0;
    let clientIds = 0;
    await monitor.monitor((line: string) => {
      if (line.includes(`"CLIENT" "ID"`)) clientIds++;
      if (line.includes(`"EVALSHA" "${ACK.sha}"`)) ackScripts++;
      if (line.includes(`"XREADGROUP"`)) reads++;
    });
    const got: number[] = [];
    await run(async () => {
      await gather(...Array.from({ length: total }, (_, i) => q.putNowait(i)));
      const tasks = Array.from({ length: workers }, () =>
        createTask(async () => {
          for await (const x of q) {
            got.push(x);
            if (got.length === total) void q.shutdown();
            void q.taskDone();
          }
        }),
      );
      await gather(...tasks);
      await q.join();
    });
    await sleep(0.1); // MONITOR lines trail the replies
    await monitor.destroy();
    expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    // One per read of up to `workers` entries: about total / workers, never one per item.
    console.log(`${total} items by ${workers} for-await workers: ${reads} reads, ${ackScripts} ACK scripts`);
    expect(ackScripts).toBeGreaterThan(0);
    expect(ackScripts).toBeLessThanOrEqual(total / 4);
    // The workers that finished an item in one turn ask for their next ones in one read.
    expect(reads).toBeLessThanOrEqual(total / 4);
    // The reader's id is known from its connection: no CLIENT ID before each read.
    expect(clientIds).toBe(0);
    await q.close();
  });

  it("after its connection was killed, the reader's blocking read is still interrupted at once (its new id)", async () => {
    const q = await connect<number>({ visibilityTimeout: 30 }); // reads block 1 s
    const client = await admin();
    /** The reader's line of CLIENT LIST once it is blocked in XREADGROUP, else null. */
    const blockedReader = async (): Promise<string | null> => {
      const lines = String(await client.sendCommand(["CLIENT", "LIST"])).split("\n");
      const line = lines.find((l) => l.includes(`name=awaitress:${q.name}:reader `));
      return line?.includes("cmd=xreadgroup") && / flags=b /.test(line) ? line : null;
    };
    const waitBlocked = async (): Promise<string> => {
      for (let i = 0; i < 300; i++) {
        const line = await blockedReader();
        if (line !== null) return line;
        await sleep(0.01);
      }
      throw new Error("the reader never blocked");
    };
    const getter = q.get().then(
      () => "item",
      (e: unknown) => (e as Error).constructor.name,
    );
    const first = await waitBlocked();
    const oldId = /id=(\d+)/.exec(first)?.[1];
    await client.sendCommand(["CLIENT", "KILL", "ID", String(oldId)]);
    // The queue reconnects, learns the new connection's id, and blocks again there.
    let line = await waitBlocked();
    for (let i = 0; i < 300 && /id=(\d+)/.exec(line)?.[1] === oldId; i++) line = await waitBlocked();
    expect(/id=(\d+)/.exec(line)?.[1]).not.toBe(oldId);
    await sleep(0.05); // its CLIENT ID answered long ago (it went first)
    const t0 = performance.now();
    await q.close();
    // close() ended the read with CLIENT UNBLOCK (the new id): not after its 1 s block time.
    expect(performance.now() - t0).toBeLessThan(600);
    expect(await getter).toBe("RedisQueueError");
    await client.destroy();
  });

  it("SCRIPT FLUSH mid-run: puts and gets go on, every item once; one reload per flush, never the whole script per call", async () => {
    const q = await connect<number>({ maxsize: 200 });
    const monitor = await admin();
    const flusher = await admin();
    let loads = 0;
    let fullEvals = 0;
    await monitor.monitor((line: string) => {
      if (line.includes(`"SCRIPT" "LOAD"`)) loads++;
      if (line.includes(`"EVAL" "`)) fullEvals++;
    });
    const total = 3000;
    const flushes = 5;
    const got: number[] = [];
    await run(async () => {
      const producer = createTask(async () => {
        for (let i = 0; i < total; i += 100) {
          // Pipelined batches of putNowait, with put() when full: many EVALSHA in flight at a flush.
          const batch = Array.from({ length: 100 }, (_, k) => i + k);
          const results = await gather(...batch.map((x) => q.putNowait(x)), { returnExceptions: true });
          for (let k = 0; k < batch.length; k++) {
            if (results[k] instanceof Error) await q.put(batch[k] as number);
          }
        }
      });
      const consumers = Array.from({ length: 8 }, () =>
        createTask(async () => {
          for await (const x of q) {
            got.push(x);
            void q.taskDone();
          }
        }),
      );
      for (let f = 0; f < flushes; f++) {
        while (got.length < ((f + 1) * total) / (flushes + 1)) await sleep(0.005);
        await flusher.sendCommand(["SCRIPT", "FLUSH"]);
      }
      await producer;
      await q.join();
      await q.shutdown();
      await gather(...consumers);
    });
    await sleep(0.1);
    await monitor.destroy();
    await flusher.destroy();
    expect(got.length).toBe(total);
    expect(new Set(got).size).toBe(total);
    expect(await q.qsize()).toBe(0);
    // Each flush: one reload of the scripts (eight SCRIPT LOADs), shared by every call in flight.
    expect(loads).toBeLessThanOrEqual(8 * flushes * 2);
    expect(loads).toBeGreaterThanOrEqual(8);
    expect(fullEvals).toBeLessThanOrEqual(flushes * 2);
    console.log(`${total} items, ${flushes} SCRIPT FLUSH: ${loads} SCRIPT LOAD, ${fullEvals} EVAL`);
    await q.close();
  });

  it("a server paused (SIGSTOP) past the command timeout: the calls in flight fail with RedisQueueError in time; after SIGCONT the queue works on, nothing lost", async () => {
    const paused = await RedisServer.start({ appendfsync: "always" });
    const q = await RedisQueue.connect<number>("paused", { url: paused.url, ...quiet, commandTimeout: 0.4 });
    try {
      await run(async () => {
        for (let i = 0; i < 5; i++) await q.put(i);
        const first = await q.get();
        expect(first).toBe(0);
        await q.taskDone();
        const waiting = createTask(async () => {
          const got: number[] = [];
          for (let i = 0; i < 4; i++) {
            got.push(await q.get());
            await q.taskDone();
          }
          return got;
        });
        await sleep(0.2);
        paused.pause();
        const failure = (p: PromiseLike<unknown>): Promise<unknown> =>
          Promise.resolve(p).then(
            () => null,
            (e: unknown) => e,
          );
        const t0 = performance.now();
        // A pipeline of puts and a qsize, all in flight to a server that answers nothing.
        const puts = Array.from({ length: 200 }, (_, i) => failure(q.putNowait(100 + i)));
        const size = await failure(q.qsize());
        const elapsed = performance.now() - t0;
        expect(size).toBeInstanceOf(RedisQueueError);
        expect((size as Error).message).toMatch(
          /^RedisQueue "paused" qsize\(\) failed: no answer within the command timeout \(0\.4 s\): the connection is down or the server is overloaded/,
        );
        for (const put of await Promise.all(puts)) {
          expect(put).toBeInstanceOf(RedisQueueError);
          expect((put as Error).message).toMatch(
            /put\(\) failed: no answer within the command timeout \(0\.4 s\).*the item may or may not have been stored/,
          );
        }
        // Within the timeout and a little (one watchdog for the connection), not never.
        expect(elapsed).toBeGreaterThanOrEqual(390);
        expect(elapsed).toBeLessThan(2000);
        paused.resume();
        // The queue works on: new calls are answered, the waiting getter gets the rest.
        for (;;) {
          try {
            await q.put(5);
            break;
          } catch {
            await sleep(0.05);
          }
        }
        const got = await waitFor(waiting, 10);
        expect(got).toEqual([1, 2, 3, 4]);
        // Puts whose answer was dropped may have been stored (at least once, never silently
        // half-done): whatever is left is a subset of what was put, and 5 is there.
        const left: number[] = [];
        for (;;) {
          try {
            left.push(await q.getNowait());
            await q.taskDone();
          } catch {
            break;
          }
        }
        expect(left).toContain(5);
        for (const x of left) expect(x === 5 || (x >= 100 && x < 300)).toBe(true);
        expect(new Set(left).size).toBe(left.length);
        await waitFor(q.join(), 5);
      });
    } finally {
      paused.resume();
      await q.close();
      await paused.stop();
    }
  }, 30_000);
});
