// The core on another runtime (Bun, Deno; Node gives the reference output): tasks, gather,
// cancellation, Queue, Lock, waitFor's timeout, a TaskGroup's error and Timer, on the virtual
// clock, through the built package (dist/esm) by its name. Prints one line per check with what
// it saw, so scripts/smoke-runtimes.mjs can compare the output with Node's; exits 1 on a failure.
//
//   node smoke/core.mjs        bun smoke/core.mjs        deno run smoke/core.mjs
import assert from "node:assert/strict";
import {
  CancelledError,
  createTask,
  ExceptionGroup,
  gather,
  Lock,
  Queue,
  run,
  sleep,
  TaskGroup,
  TimeoutError,
  Timer,
  time,
  waitFor,
} from "awaitress";

const checks = [];
function check(name, fn) {
  checks.push({ name, fn });
}

check("tasks run concurrently and return their results", async () => {
  const a = createTask(() => sleep(2, "a"), { name: "a" });
  const b = createTask(() => sleep(3, "b"), { name: "b" });
  const results = [await a, await b];
  assert.deepEqual(results, ["a", "b"]);
  assert.equal(time(), 3);
  return `${results.join(",")} at t=${time()}`;
});

check("gather keeps the order of its arguments", async () => {
  const results = await gather(sleep(3, 1), sleep(1, 2), sleep(2, 3));
  assert.deepEqual(results, [1, 2, 3]);
  assert.equal(time(), 3);
  return `${results.join(",")} at t=${time()}`;
});

check("cancel() throws CancelledError into the task, its finally runs", async () => {
  const log = [];
  const t = createTask(async () => {
    try {
      await sleep(10);
    } finally {
      log.push(`finally at t=${time()}`);
    }
  });
  await sleep(1);
  t.cancel("enough");
  const error = await t.then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof CancelledError, `expected CancelledError, got ${error}`);
  assert.ok(t.cancelled());
  assert.deepEqual(log, ["finally at t=1"]);
  return `${log[0]}, cancelled=${t.cancelled()}`;
});

check("Queue: a bounded queue hands items over in order, put waits for room", async () => {
  const q = new Queue(1);
  const got = [];
  const consumer = createTask(async () => {
    for (let i = 0; i < 3; i++) {
      got.push(`${await q.get()}@${time()}`);
      q.taskDone();
      await sleep(1);
    }
  });
  for (const item of ["x", "y", "z"]) await q.put(item);
  await q.join();
  await consumer;
  assert.deepEqual(got, ["x@0", "y@1", "z@2"]);
  return got.join(" ");
});

check("Lock: one holder at a time, in arrival order", async () => {
  const lock = new Lock();
  const order = [];
  async function worker(name) {
    await lock.acquire();
    try {
      order.push(`${name}@${time()}`);
      await sleep(1);
    } finally {
      lock.release();
    }
  }
  await gather(worker("p"), worker("q"), worker("r"));
  assert.deepEqual(order, ["p@0", "q@1", "r@2"]);
  return order.join(" ");
});

check("waitFor: a timeout on the virtual clock throws TimeoutError at the deadline", async () => {
  const slow = createTask(() => sleep(60, "late"));
  const error = await waitFor(slow, 5).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${error}`);
  assert.equal(time(), 5);
  assert.ok(slow.cancelled(), "the awaited task is cancelled");
  return `TimeoutError at t=${time()}, task cancelled=${slow.cancelled()}`;
});

check("TaskGroup: an error cancels the siblings and comes out in an ExceptionGroup", async () => {
  let sibling;
  const group = new TaskGroup();
  const error = await group
    .run(async (tg) => {
      sibling = tg.createTask(() => sleep(100), { name: "sibling" });
      tg.createTask(
        async () => {
          await sleep(2);
          throw new Error("boom");
        },
        { name: "failing" },
      );
    })
    .then(
      () => undefined,
      (e) => e,
    );
  assert.ok(error instanceof ExceptionGroup, `expected ExceptionGroup, got ${error}`);
  assert.deepEqual(
    error.errors.map((e) => e.message),
    ["boom"],
  );
  assert.ok(sibling.cancelled());
  assert.equal(time(), 2);
  return `ExceptionGroup [${error.errors.map((e) => e.message)}] at t=${time()}, sibling cancelled=${sibling.cancelled()}`;
});

check("Timer: times a block on the loop's clock and formats the text", async () => {
  const lines = [];
  const timer = new Timer({ text: "took {:.2f} s", logger: (line) => lines.push(line) });
  timer.start();
  await sleep(1.5);
  const seconds = timer.stop();
  assert.equal(seconds, 1.5);
  assert.deepEqual(lines, ["took 1.50 s"]);
  return lines[0];
});

// The package itself, not the sources: the name resolves to the build.
console.log(`awaitress resolves to ${import.meta.resolve("awaitress").replace(/^.*\/(dist\/)/, "$1")}`);
let failed = 0;
for (const { name, fn } of checks) {
  try {
    const saw = await run(fn, { clock: "virtual" });
    console.log(`ok - ${name}: ${saw}`);
  } catch (error) {
    failed++;
    console.log(`not ok - ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
console.log(`${checks.length - failed}/${checks.length} passed`);
process.exitCode = failed === 0 ? 0 : 1;
