/**
 * RedisQueue against a real redis-server: the Queue contract (put, get, taskDone, join, qsize,
 * shutdown, iteration), cancellation that loses nothing, and bad input with clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTask,
  Event,
  gather,
  InvalidStateError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  run,
  sleep,
  TimeoutError,
  waitFor,
} from "../../src/node.js";
import { RedisQueue, RedisQueueError, type RedisQueueOptions } from "../../src/redis/index.js";
import { RedisServer, skipRedis } from "./server.js";

let server: RedisServer;
let n = 0;
const quiet = { onWarning: () => {}, onError: () => {} } as const;

/** Queues opened by the tests: closed in afterAll too, should a test fail before its own close(). */
const opened: RedisQueue<never>[] = [];

async function connect<T>(options: RedisQueueOptions<T> = {}, name = `q${++n}`): Promise<RedisQueue<T>> {
  const q = await RedisQueue.connect<T>(name, { url: server.url, ...quiet, ...options });
  opened.push(q as RedisQueue<never>);
  return q;
}

describe.skipIf(skipRedis)("RedisQueue", () => {
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    // A queue left open keeps reconnecting to the stopped server, and keeps vitest from exiting.
    await Promise.all(opened.map((q) => q.close()));
    await server?.stop();
  });

  it("delivers items in FIFO order and join() resolves once each is acknowledged", async () => {
    const q = await connect<number>();
    for (const i of [1, 2, 3]) await q.put(i);
    expect(await q.qsize()).toBe(3);
    const got = [await q.get(), await q.get(), await q.get()];
    expect(got).toEqual([1, 2, 3]);
    expect(await q.qsize()).toBe(0);
    let joined = false;
    const join = q.join().then(() => {
      joined = true;
    });
    await sleep(0.05);
    expect(joined).toBe(false);
    await Promise.all([q.taskDone(), q.taskDone(), q.taskDone()]);
    await join;
    expect(joined).toBe(true);
    await q.close();
  });

  it("taskDone() acknowledges the item the calling task got", async () => {
    const q = await connect<string>();
    await q.put("a");
    await q.put("b");
    await run(async () => {
      // slow holds its item until told (a timer would race the checks below on a loaded machine).
      const checked = new Event();
      const slow = createTask(async () => {
        const item = await q.get();
        await checked.wait();
        await q.taskDone();
        return item;
      });
      const fast = createTask(async () => {
        const item = await q.get();
        await q.taskDone();
        return item;
      });
      expect(await fast).toBeTypeOf("string");
      // fast acknowledged its own item, not the slow task's: one entry is left, still pending.
      expect(await serverCall(["XLEN", q.keys.stream])).toBe(1);
      expect(slow.done()).toBe(false);
      checked.set();
      expect((await gather(slow, fast)).sort()).toEqual(["a", "b"]);
    });
    await q.join();
    await q.close();
  });

  it("taskDone() with nothing held is an InvalidStateError", async () => {
    const q = await connect<number>();
    expect(() => q.taskDone()).toThrow(InvalidStateError);
    await q.close();
  });

  it("putNowait() on a full queue rejects with QueueFull; put() waits for a get", async () => {
    const q = await connect<number>({ maxsize: 2 });
    await q.putNowait(1);
    await q.putNowait(2);
    expect(await q.full()).toBe(true);
    await expect(q.putNowait(3)).rejects.toBeInstanceOf(QueueFull);
    let stored = false;
    const put = q.put(3).then(() => {
      stored = true;
    });
    await sleep(0.05);
    expect(stored).toBe(false);
    expect(await q.get()).toBe(1);
    await put;
    expect(stored).toBe(true);
    expect(await q.qsize()).toBe(2);
    await q.close();
  });

  it("a second process with a different maxsize is refused", async () => {
    const q = await connect<number>({ maxsize: 2 }, "fixed-size");
    await expect(connect<number>({ maxsize: 3 }, "fixed-size")).rejects.toBeInstanceOf(RedisQueueError);
    const adopted = await connect<number>({}, "fixed-size");
    expect(adopted.maxsize).toBe(2);
    await Promise.all([q.close(), adopted.close()]);
  });

  it("a cancelled put waiting for space stores nothing", async () => {
    const q = await connect<number>({ maxsize: 1 });
    await q.put(1);
    await run(async () => {
      await expect(waitFor(q.put(2), 0.1)).rejects.toBeInstanceOf(TimeoutError);
    });
    expect(await q.get()).toBe(1);
    await expect(q.getNowait()).rejects.toBeInstanceOf(QueueEmpty);
    await q.close();
  });

  it("Q-13 a get withdrawn by waitFor loses nothing: the next getter receives the item", async () => {
    const q = await connect<number>();
    await run(async () => {
      await expect(waitFor(q.get(), 0.05)).rejects.toBeInstanceOf(TimeoutError);
      await q.put(42);
      expect(await waitFor(q.get(), 2)).toBe(42);
    });
    await q.close();
  });

  it("an item that arrives for a withdrawn getter goes back to the group at once", async () => {
    const a = await connect<number>({ visibilityTimeout: 60 }, "handback");
    const b = await connect<number>({ visibilityTimeout: 60 }, "handback");
    await run(async () => {
      const getter = createTask(() => a.get());
      await sleep(0.05); // a's reader now blocks on the server on the getter's behalf
      getter.cancel();
      await sleep(0.01);
      await b.put(7); // a's reader receives it, with no getter left: it must not stay with a
      expect(await waitFor(b.get(), 3)).toBe(7);
      expect(getter.cancelled()).toBe(true);
    });
    await b.taskDone();
    await b.join();
    await Promise.all([a.close(), b.close()]);
  });

  it("a get aborted by its signal rejects with the signal's reason", async () => {
    const q = await connect<number>();
    const controller = new AbortController();
    const get = q.get({ signal: controller.signal });
    controller.abort(new Error("stop"));
    await expect(get).rejects.toThrow("stop");
    await q.close();
  });

  it("shutdown(): getters drain what is left, then get QueueShutDown; puts fail", async () => {
    const q = await connect<number>();
    await q.put(1);
    await q.shutdown();
    await expect(q.put(2)).rejects.toBeInstanceOf(QueueShutDown);
    expect(await q.get()).toBe(1);
    await expect(waitFor(q.get(), 2)).rejects.toBeInstanceOf(QueueShutDown);
    await q.close();
  });

  it("shutdown(true) discards what was not delivered; join() resolves", async () => {
    const q = await connect<number>();
    for (const i of [1, 2, 3]) await q.put(i);
    await q.shutdown(true);
    await expect(q.get()).rejects.toBeInstanceOf(QueueShutDown);
    await waitFor(q.join(), 2);
    await q.close();
  });

  it("for await ends once the queue is shut down and drained", async () => {
    const q = await connect<number>();
    for (const i of [1, 2, 3]) await q.put(i);
    await q.shutdown();
    const seen: number[] = [];
    for await (const item of q) {
      seen.push(item);
      await q.taskDone();
    }
    expect(seen).toEqual([1, 2, 3]);
    await q.close();
  });

  it("an item the codec cannot encode is a TypeError at the call", async () => {
    const q = await connect<unknown>();
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    expect(() => q.put(cyclic)).toThrow(TypeError);
    expect(() => q.putNowait(() => 1)).toThrow(/cannot encode/);
    await q.close();
  });

  it("a wrong URL is a RedisQueueError from connect() that says what to check", async () => {
    const refused = RedisQueue.connect("x", { url: "redis://127.0.0.1:1", ...quiet });
    await expect(refused).rejects.toBeInstanceOf(RedisQueueError);
    await expect(refused).rejects.toThrow(
      /^cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\. Check the url option and that redis-server runs there$/,
    );
    const malformed = RedisQueue.connect("x", { url: "not a url", ...quiet });
    await expect(malformed).rejects.toBeInstanceOf(RedisQueueError);
    await expect(malformed).rejects.toThrow(/Give the url option as redis:\/\/\[\[user\]:password@\]host/);
  });

  it("after close(), calls fail with a RedisQueueError that says to connect again", async () => {
    const q = await connect<number>();
    await q.close();
    await expect(q.put(1)).rejects.toThrow(/put\(\) on "q\d+" after close\(\) in this process: connect again/);
    await expect(q.get()).rejects.toBeInstanceOf(RedisQueueError);
  });

  it("an entry the codec cannot decode goes to the dead-letter stream, with the decoder's error", async () => {
    const writer = await connect<string>({}, "undecodable");
    const reader = await connect<string>(
      {
        codec: {
          encode: (item) => JSON.stringify(item),
          decode: (data) => {
            if (data === '"bad"') throw new Error("not a job");
            return JSON.parse(data) as string;
          },
        },
      },
      "undecodable",
    );
    await writer.put("bad");
    await writer.put("good");
    await run(async () => {
      expect(await waitFor(reader.get(), 3)).toBe("good"); // the bad one is skipped, not delivered
      await reader.taskDone();
    });
    await waitFor(reader.join(), 3);
    const dead = await reader.deadLetters();
    expect(dead).toEqual([
      {
        id: expect.any(String),
        data: '"bad"',
        deliveries: 1,
        error: expect.stringMatching(/cannot decode it: not a job/),
      },
    ]);
    await Promise.all([writer.close(), reader.close()]);
  });

  it("close() ends a get blocked on the server, quickly", async () => {
    const q = await connect<number>();
    const get = q.get();
    await sleep(0.05);
    const started = Date.now();
    await q.close();
    await expect(get).rejects.toBeInstanceOf(RedisQueueError);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

/** A raw command on the queue's own server, for inspection. */
async function serverCall(args: string[]): Promise<unknown> {
  const { createClient } = await import("redis");
  const client = createClient({ url: server.url, RESP: 2 });
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}
