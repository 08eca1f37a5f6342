// Debug mode on this runtime, through the built package. Node's async hooks see every step of
// every task; Bun's and Deno's do not see promise continuations, so there debug mode watches
// only each task's first step, and must say so once (a process warning with code
// AWAITRESS_PARTIAL_STEP_HOOKS), never silently. One task blocks the loop in its first step and
// again after an await; this checks what was reported against what this runtime can see and
// prints one JSON line (scripts/smoke-runtimes.mjs also counts the watchdog's lines on stderr).
//
//   node smoke/debug.mjs        bun smoke/debug.mjs        deno run -A smoke/debug.mjs
import assert from "node:assert/strict";
import { createTask, run, sleep } from "awaitress";
import { Recorder } from "awaitress/trace";

const CODE = "AWAITRESS_PARTIAL_STEP_HOOKS";
const versions = /** @type {Record<string, string | undefined>} */ (process.versions);
const runtime = versions.bun !== undefined ? "bun" : versions.deno !== undefined ? "deno" : "node";
// What this runtime lacks today (tested in scripts/smoke-runtimes.mjs's baseline on Node too).
const partial = runtime !== "node";

const warnings = [];
process.on("warning", (warning) => {
  if (/** @type {{ code?: string }} */ (warning).code === CODE) warnings.push(warning);
});

/** Holds the thread for `ms` milliseconds: the synchronous work debug mode is there to catch. */
function busy(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

async function blockTwice() {
  const slow = [];
  await run(
    async () => {
      const hog = createTask(
        async () => {
          busy(200); // its first step
          await sleep(0.01);
          busy(200); // a later step
        },
        { name: "hog" },
      );
      await hog;
      await sleep(0.05); // the watchdog's lines are written by its thread; give it a turn
    },
    {
      debug: true,
      slowStepThreshold: 0.05,
      blockedThreshold: 0.05,
      onError: (context) => slow.push(context.message),
    },
  );
  return slow;
}

const first = await blockTwice();
const second = await blockTwice();
// A trace with steps (a Recorder's default) uses the same monitor: no second warning either.
await run(() => sleep(1), { clock: "virtual", trace: new Recorder() });
await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick

for (const slow of [first, second]) {
  assert.ok(
    slow.every((m) =>
      /^Executing Task "hog" \(id \d+, created at smoke\/debug\.mjs:\d+:\d+\) took \d+\.\d{3} seconds/.test(m),
    ),
    `unexpected slow-step reports: ${JSON.stringify(slow)}`,
  );
  assert.equal(slow.length, partial ? 1 : 2, `slow-step reports on ${runtime}: ${JSON.stringify(slow)}`);
}
assert.equal(warnings.length, partial ? 1 : 0, `${CODE} warnings on ${runtime}: ${warnings.length}`);
if (partial) {
  const text = warnings[0].message;
  assert.match(text, /first step/);
  assert.match(text, /createHook\(\) does not call before\/after around promise continuations/);
  assert.match(
    text,
    /Unavailable after a task's first await: slow-step reports, the watchdog's live blocked-loop reports/,
  );
  assert.match(text, /Still works:/);
}
console.log(
  JSON.stringify({ runtime, slowStepReports: [first.length, second.length], partialHooksWarnings: warnings.length }),
);
