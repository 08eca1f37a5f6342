/**
 * The waiter analogy from the seed's article, made runnable. The event loop is a waiter, the
 * tables are tasks. Some tables are ready to order at once: the waiter stays until the order is
 * placed (synchronous code). Others need time to decide: the waiter leaves them an order sheet
 * and comes back when it is filled in (an `await` hands control back to the loop).
 *
 * Two waiters work the same five tables: one stands at each table until it has decided
 * (every `await` in turn), the other leaves order sheets (one task per table). The log says
 * where each waiter was, in virtual minutes (one second of the loop's clock stands for a minute,
 * so the timeline's "5s" is five minutes).
 *
 *   npx tsx examples/restaurant.ts              # the log
 *   npx tsx examples/restaurant.ts --timeline   # and a lane per table: where the loop was
 */
import { pathToFileURL } from "node:url";
import { createTask, formatValue, gather, run, sleep, time } from "awaitress";
import { Recorder, terminalTimeline } from "awaitress/trace";

/** A table: how long it needs to decide (0: ready at once) and what it orders. */
export interface Table {
  readonly name: string;
  readonly minutesToDecide: number;
  readonly order: string;
}

/** Five tables: two ready at once, three that need a few minutes. */
export const TABLES: readonly Table[] = [
  { name: "table 1", minutesToDecide: 0, order: "soup" },
  { name: "table 2", minutesToDecide: 5, order: "steak and salad" },
  { name: "table 3", minutesToDecide: 0, order: "pasta" },
  { name: "table 4", minutesToDecide: 2, order: "fish" },
  { name: "table 5", minutesToDecide: 8, order: "curry, rice and tea" },
];

type Log = (line: string) => void;

function stamp(): string {
  return `[${formatValue(time(), "2.0f")} min]`;
}

/** The waiter at one table: takes the order now, or leaves a sheet and comes back. */
async function serve(table: Table, log: Log): Promise<string> {
  if (table.minutesToDecide === 0) {
    // Ready at once: the waiter stays until the order is placed. Nobody else is served meanwhile.
    log(`${stamp()} at ${table.name}: ready, order taken on the spot (${table.order})`);
    return table.order;
  }
  log(`${stamp()} at ${table.name}: needs ${table.minutesToDecide} min, leaves an order sheet`);
  // The table asks for time: control goes back to the waiter, who decides where to go next.
  await sleep(table.minutesToDecide);
  log(`${stamp()} back at ${table.name}: picks up the sheet (${table.order})`);
  return table.order;
}

/** A waiter who waits at each table until it has decided: one `await` after another. */
export async function waiterWhoWaits(log: Log = console.log): Promise<string[]> {
  const orders: string[] = [];
  for (const table of TABLES) {
    log(`${stamp()} goes to ${table.name} and waits there`);
    orders.push(await serve(table, log));
  }
  return orders;
}

/** A waiter who leaves order sheets: one task per table, all on the same loop. */
export async function waiterWithOrderSheets(log: Log = console.log): Promise<string[]> {
  return gather(...TABLES.map((table) => createTask(() => serve(table, log), { name: table.name })));
}

/** Runs both waiters on the virtual clock and prints where they were. */
export async function main(options: { log?: Log; timeline?: boolean } = {}): Promise<void> {
  const log = options.log ?? console.log;
  log("A waiter who waits at every table until it has decided:");
  const slow = await run(
    async () => {
      const orders = await waiterWhoWaits(log);
      return { orders, minutes: time() };
    },
    { clock: "virtual" },
  );
  log(`  ${slow.orders.length} orders in ${slow.minutes} minutes\n`);

  log("One waiter for all the tables, leaving order sheets (the event loop):");
  const recorder = options.timeline === true ? new Recorder() : undefined;
  const fast = await run(
    async () => {
      const orders = await waiterWithOrderSheets(log);
      return { orders, minutes: time() };
    },
    { clock: "virtual", ...(recorder ? { trace: recorder } : {}) },
  );
  log(`  ${fast.orders.length} orders in ${fast.minutes} minutes: never idle while a table was ready`);
  if (recorder !== undefined) log(`\n${terminalTimeline(recorder.events, { width: 100 })}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await main({ timeline: process.argv.includes("--timeline") });
}
