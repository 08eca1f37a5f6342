/**
 * A worker process for the RedisQueue fault tests, driven by its arguments; it reports what it
 * does as lines on stdout so the test can count every item:
 *   consume <url> <queue> <concurrency> <visibility>   "ready <consumer>", then "got <item> <epoch ms>" on get,
 *                                                     "done <item> <epoch ms>" once taskDone resolved, and
 *                                                     "stall <ms> <epoch ms>" when its event loop ran late
 *   produce <url> <queue> <from> <to>                 "put <item>" per resolved put, then "finished"
 *   wait <url> <queue>                                "waiting", then "shutdown <epoch ms>" on QueueShutDown
 *   hold <url> <queue> <concurrency> <visibility>      "ready", then "holding <item>" per get; never acknowledges
 *                                                     (its heartbeat keeps the items until it is killed)
 */
import { createTask, gather, QueueShutDown, run, sleep } from "../../src/node.js";
import { RedisQueue } from "../../src/redis/index.js";

const [mode, urlArg, name, a, b] = process.argv.slice(2);
const url = urlArg as string;
const quiet = { onWarning: () => {}, onError: () => {} };

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function consume(concurrency: number, visibility: number): Promise<void> {
  const q = await RedisQueue.connect<number>(name as string, { url, visibilityTimeout: visibility, ...quiet });
  // How late this process's timers run (the heartbeat is one): a stall longer than the visibility
  // timeout lets another process take this one's items over, a legitimate redelivery.
  const TICK = 50;
  let last = Date.now();
  setInterval(() => {
    const now = Date.now();
    if (now - last - TICK > 200) say(`stall ${now - last - TICK} ${now}`);
    last = now;
  }, TICK).unref();
  say(`ready ${q.consumer}`);
  await run(async () => {
    const workers = Array.from({ length: concurrency }, () =>
      createTask(async () => {
        for await (const item of q) {
          say(`got ${item} ${Date.now()}`);
          await sleep(Math.random() * 0.004);
          await q.taskDone();
          say(`done ${item} ${Date.now()}`);
        }
      }),
    );
    await gather(...workers);
  });
  await q.close();
}

async function produce(from: number, to: number): Promise<void> {
  const q = await RedisQueue.connect<number>(name as string, { url, ...quiet });
  say("ready");
  await run(async () => {
    for (let i = from; i < to; i++) {
      await q.put(i);
      say(`put ${i}`);
    }
  });
  say("finished");
  await q.close();
}

async function wait(): Promise<void> {
  const q = await RedisQueue.connect<number>(name as string, { url, ...quiet });
  await run(async () => {
    const get = q.get();
    await sleep(0.05);
    say("waiting");
    try {
      await get;
      say("item");
    } catch (error) {
      say(error instanceof QueueShutDown ? `shutdown ${Date.now()}` : `error ${String(error)}`);
    }
  });
  await q.close();
}

async function hold(concurrency: number, visibility: number): Promise<void> {
  const q = await RedisQueue.connect<number>(name as string, { url, visibilityTimeout: visibility, ...quiet });
  say("ready");
  await run(async () => {
    const holders = Array.from({ length: concurrency }, () =>
      createTask(async () => {
        say(`holding ${await q.get()}`);
        await new Promise(() => {}); // a job that never ends: killed with its item in hand
      }),
    );
    await gather(...holders);
  });
}

if (mode === "hold") await hold(Number(a), Number(b));
else if (mode === "consume") await consume(Number(a), Number(b));
else if (mode === "produce") await produce(Number(a), Number(b));
else if (mode === "wait") await wait();
else throw new Error(`unknown mode ${mode}`);
