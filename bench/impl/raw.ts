/**
 * The limit: each workload hand-written with native promises, as efficiently as we can.
 * The program keeps the workload's shape (every queue operation and every acquisition is
 * awaited, as user code would); only the machinery is hand-tuned (ring buffers, no closures
 * where none is needed, resolvers called directly).
 */
import { seededPermutation } from "../prng.js";
import { type Params, type Workload, w4Delay, w5Delay } from "../workloads.js";

/** A FIFO of values on a growable ring buffer: O(1) push and shift, no Array.shift. */
class Fifo<T> {
  private items: (T | undefined)[] = new Array(16);
  private head = 0;
  length = 0;
  push(value: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[(this.head + this.length) & (this.items.length - 1)] = value;
    this.length++;
  }
  shift(): T {
    const value = this.items[this.head] as T;
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.length--;
    return value;
  }
  private grow(): void {
    const next: (T | undefined)[] = new Array(this.items.length * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}

async function w1Child(i: number): Promise<number> {
  await null;
  return i;
}

/** W1: async functions joined by Promise.all. */
const w1: Workload = async ({ n }) => {
  const all = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) all[i] = w1Child(i);
  const results = await Promise.all(all);
  let total = 0;
  for (const r of results) total += r;
  return total;
};

/** A bounded queue: put waits while full, get waits while empty; a hand-off skips the buffer. */
class BoundedQueue<T> {
  private readonly items = new Fifo<T>();
  private readonly getters = new Fifo<(value: T) => void>();
  private readonly putters = new Fifo<() => void>();
  private readonly pending = new Fifo<T>();
  constructor(private readonly maxsize: number) {}

  put(value: T): Promise<void> | undefined {
    if (this.getters.length > 0) {
      this.getters.shift()(value);
      return undefined;
    }
    if (this.items.length < this.maxsize) {
      this.items.push(value);
      return undefined;
    }
    this.pending.push(value);
    return new Promise((resolve) => this.putters.push(resolve));
  }

  get(): T | Promise<T> {
    if (this.items.length > 0) {
      const value = this.items.shift();
      if (this.putters.length > 0) {
        this.items.push(this.pending.shift());
        this.putters.shift()();
      }
      return value;
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }
}

/** W2: one producer, `width` consumers; -1 tells a consumer to stop. */
const w2: Workload = async ({ n, width, depth }) => {
  const queue = new BoundedQueue<number>(depth);
  let total = 0;
  const consumer = async () => {
    for (;;) {
      const item = await queue.get();
      if (item < 0) return;
      total += item;
    }
  };
  const consumers: Promise<void>[] = [];
  for (let c = 0; c < width; c++) consumers.push(consumer());
  for (let i = 0; i < n; i++) await queue.put(i);
  for (let c = 0; c < width; c++) await queue.put(-1);
  await Promise.all(consumers);
  return total;
};

/** The job of W3: one await of a promise. */
export async function job(i: number): Promise<number> {
  await null;
  return i;
}

/** A job of the retry workloads (Q3): every tenth fails its first attempt. */
export async function flakyJob(i: number, attempt: number): Promise<number> {
  await null;
  if (attempt === 1 && i % 10 === 0) throw new Error(`job ${i} failed`);
  return i;
}

/** W3: `width` workers pull job numbers from a shared counter. */
const w3: Workload = async ({ n, width }) => {
  let next = 0;
  let total = 0;
  const worker = async () => {
    while (next < n) {
      const value = await job(next++);
      total += value;
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < width; w++) workers.push(worker());
  await Promise.all(workers);
  return total;
};

/** Q3: as W3, each job retried by hand up to 3 attempts. */
const q3Retry: Workload = async ({ n, width }) => {
  let next = 0;
  let total = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      for (let attempt = 1; ; attempt++) {
        try {
          const value = await flakyJob(i, attempt);
          total += value;
          break;
        } catch (error) {
          if (attempt === 3) throw error;
        }
      }
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < width; w++) workers.push(worker());
  await Promise.all(workers);
  return total;
};

/** A FIFO counting semaphore: release hands the permit straight to the first waiter. */
class FifoSemaphore {
  private readonly waiters = new Fifo<() => void>();
  constructor(private permits: number) {}
  acquire(): Promise<void> | undefined {
    if (this.permits > 0) {
      this.permits--;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    if (this.waiters.length > 0) this.waiters.shift()();
    else this.permits++;
  }
}

/**
 * W3 in awaitress's task-per-job shape: an async function per job, all started at once, each
 * holding a hand-written FIFO semaphore(width) across its one await; Promise.all joins them.
 */
const w3TaskPerJob: Workload = async ({ n, width }) => {
  const sem = new FifoSemaphore(width);
  const limited = async (i: number) => {
    await sem.acquire();
    try {
      return await job(i);
    } finally {
      sem.release();
    }
  };
  const all = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) all[i] = limited(i);
  const results = await Promise.all(all);
  let total = 0;
  for (const r of results) total += r;
  return total;
};

function timerSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** W4: `n` native timers of 0..depth ms, joined by Promise.all. */
const w4: Workload = async ({ n, depth }) => {
  const all = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) all[i] = timerSleep(w4Delay(i, depth));
  await Promise.all(all);
  return n;
};

/**
 * W5: a hand-written discrete-event simulation. Sleepers wait in a binary heap ordered by
 * (time, sequence); when every live task sleeps, the clock jumps to the earliest deadline and
 * wakes everyone due then, in order. No macrotask: the sleep that makes every task wait
 * schedules the jump as a microtask.
 */
class Simulation {
  now = 0;
  private times: number[] = [];
  private seqs: number[] = [];
  private wakers: (() => void)[] = [];
  private seq = 0;
  sleeping = 0;
  alive = 0;
  private jumpScheduled = false;
  private readonly jump = () => this.advance();

  sleep(delay: number): Promise<void> {
    return new Promise((resolve) => {
      this.push(this.now + delay, resolve);
      this.sleeping++;
      this.maybeJump();
    });
  }

  maybeJump(): void {
    if (this.sleeping === this.alive && this.alive > 0 && !this.jumpScheduled) {
      this.jumpScheduled = true;
      queueMicrotask(this.jump);
    }
  }

  private advance(): void {
    this.jumpScheduled = false;
    if (this.times.length === 0) return;
    const when = this.times[0] as number;
    this.now = when;
    while (this.times.length > 0 && this.times[0] === when) {
      this.sleeping--;
      this.pop()();
    }
  }

  private push(time: number, waker: () => void): void {
    const times = this.times;
    const seqs = this.seqs;
    const wakers = this.wakers;
    const seq = this.seq++;
    let i = times.length;
    times.push(time);
    seqs.push(seq);
    wakers.push(waker);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent] as number;
      if (pt < time || (pt === time && (seqs[parent] as number) < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent] as number;
      wakers[i] = wakers[parent] as () => void;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    wakers[i] = waker;
  }

  private pop(): () => void {
    const times = this.times;
    const seqs = this.seqs;
    const wakers = this.wakers;
    const top = wakers[0] as () => void;
    const lastTime = times.pop() as number;
    const lastSeq = seqs.pop() as number;
    const lastWaker = wakers.pop() as () => void;
    const size = times.length;
    if (size === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (
        right < size &&
        ((times[right] as number) < (times[child] as number) ||
          (times[right] === times[child] && (seqs[right] as number) < (seqs[child] as number)))
      ) {
        child = right;
      }
      const ct = times[child] as number;
      if (lastTime < ct || (lastTime === ct && lastSeq < (seqs[child] as number))) break;
      times[i] = ct;
      seqs[i] = seqs[child] as number;
      wakers[i] = wakers[child] as () => void;
      i = child;
    }
    times[i] = lastTime;
    seqs[i] = lastSeq;
    wakers[i] = lastWaker;
    return top;
  }
}

/** W5: `n` tasks, each sleeping `depth` times on the hand-written virtual clock. */
const w5: Workload = async ({ n, depth }) => {
  const sim = new Simulation();
  let events = 0;
  const task = async (i: number) => {
    for (let k = 0; k < depth; k++) {
      await sim.sleep(w5Delay(i, k));
      events++;
    }
    sim.alive--;
    sim.maybeJump();
  };
  sim.alive = n;
  const all = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) all[i] = task(i);
  await Promise.all(all);
  return events;
};

/** A FIFO mutex: release hands the lock straight to the first waiter. */
class Mutex {
  private locked = false;
  private readonly waiters = new Fifo<() => void>();
  acquire(): Promise<void> | undefined {
    if (!this.locked) {
      this.locked = true;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    if (this.waiters.length > 0) this.waiters.shift()();
    else this.locked = false;
  }
}

/** How many of `n` acquisitions task `j` of `width` makes. */
export function share(n: number, width: number, j: number): number {
  return Math.floor(n / width) + (j < n % width ? 1 : 0);
}

/** W6: `width` tasks take turns on one mutex, each holding it across one await. */
const w6: Workload = async ({ n, width }) => {
  const mutex = new Mutex();
  let count = 0;
  const worker = async (m: number) => {
    for (let k = 0; k < m; k++) {
      await mutex.acquire();
      await null;
      count++;
      mutex.release();
    }
  };
  const workers: Promise<void>[] = [];
  for (let j = 0; j < width; j++) workers.push(worker(share(n, width, j)));
  await Promise.all(workers);
  return count;
};

/** The median of some numbers (NaN for none). */
export function medianOf(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** How long the fairness spinner runs with timers pending: `n` ms, at least twice the longest timer. */
export function fairnessSpinMs({ n, width, depth }: Params): number {
  return Math.max(n, 2 * width, 2 * depth);
}

/**
 * Keeps one native `setTimeout(ms)` pending while `active()` holds (each firing arms the next)
 * and records how late each fires; resolves once the last one has fired.
 */
export function nativeTimerChain(ms: number, active: () => boolean, late: number[]): Promise<void> {
  return new Promise((done) => {
    const arm = () => {
      const start = performance.now();
      setTimeout(() => {
        late.push(performance.now() - start - ms);
        if (active()) arm();
        else done();
      }, ms);
    };
    arm();
  });
}

/** What a spinner did: its turns and the real time they took. */
export interface Spun {
  count: number;
  ms: number;
}

/**
 * The fairness measurement, whatever the spinner: a warm-up, then the spinner alone for half the
 * time, then for the whole time while a chain of native setTimeout(width) and `sleeper` (a loop of
 * the library's own `depth` ms sleeps, recording how late each wakes) stay pending, then alone
 * again for the other half (so drift and JIT warm-up weigh on both sides alike). Reports the
 * worst and median lateness of each kind of timer, the spinner's rate with and without timers,
 * and the cost in percent; returns the timer kinds that fired (2).
 */
export async function fairnessPhases(
  p: Params,
  spin: (ms: number) => PromiseLike<Spun>,
  sleeper: (active: () => boolean, late: number[]) => PromiseLike<void>,
  report: (key: string, value: number) => void,
): Promise<number> {
  const spinMs = fairnessSpinMs(p);
  await spin(Math.min(200, spinMs));
  const before = await spin(spinMs / 2);
  let spinning = true;
  const active = () => spinning;
  const nativeLate: number[] = [];
  const sleepLate: number[] = [];
  const chain = nativeTimerChain(p.width, active, nativeLate);
  const sleeping = sleeper(active, sleepLate);
  const busy = await spin(spinMs);
  spinning = false;
  await sleeping;
  await chain;
  const after = await spin(spinMs / 2);
  const spinRate = busy.count / (busy.ms / 1000);
  const idleSpinRate = (before.count + after.count) / ((before.ms + after.ms) / 1000);
  report("nativeLateMaxMs", Math.max(...nativeLate));
  report("nativeLateMs", medianOf(nativeLate));
  report("sleepLateMaxMs", Math.max(...sleepLate));
  report("sleepLateMs", medianOf(sleepLate));
  report("spinRate", spinRate);
  report("idleSpinRate", idleSpinRate);
  report("costPct", (1 - spinRate / idleSpinRate) * 100);
  return (nativeLate.length > 0 ? 1 : 0) + (sleepLate.length > 0 ? 1 : 0);
}

function immediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Spins on `await immediate()` for `ms` of real time. */
async function rawSpin(ms: number): Promise<Spun> {
  let count = 0;
  const start = performance.now();
  for (;;) {
    const elapsed = performance.now() - start;
    if (elapsed >= ms) return { count, ms: elapsed };
    await immediate();
    count++;
  }
}

/** Sleeps on native timers (`ms` each) while `active()` holds, recording how late each wakes. */
async function rawSleeper(ms: number, active: () => boolean, late: number[]): Promise<void> {
  do {
    const start = performance.now();
    await timerSleep(ms);
    late.push(performance.now() - start - ms);
  } while (active());
}

/**
 * Fairness, the limit: the spinner yields to the host loop each turn (setImmediate), so timers
 * run between its turns; the "library sleep" is a native timer too.
 */
const fairness: Workload = (p, _mark, report) =>
  fairnessPhases(p, rawSpin, (active, late) => rawSleeper(p.depth, active, late), report);

/** Thrown into a raw getter that is cancelled. */
class Cancelled extends Error {}

interface Getter<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/** An unbounded queue whose waiting getters can be withdrawn in O(1) (a Set keeps them in order). */
class CancellableQueue<T> {
  private readonly items = new Fifo<T>();
  private readonly getters = new Set<Getter<T>>();
  get size(): number {
    return this.items.length;
  }
  /** Waits for an item; `handle` receives the getter to pass to `cancel`. */
  get(handle: (getter: Getter<T>) => void): T | Promise<T> {
    if (this.items.length > 0) return this.items.shift();
    return new Promise((resolve, reject) => {
      const getter = { resolve, reject };
      this.getters.add(getter);
      handle(getter);
    });
  }
  cancel(getter: Getter<T>): void {
    if (this.getters.delete(getter)) getter.reject(new Cancelled());
  }
  putNowait(item: T): void {
    for (const getter of this.getters) {
      this.getters.delete(getter);
      getter.resolve(item);
      return;
    }
    this.items.push(item);
  }
}

/** The order the waiter-removal workloads cancel `n` waiters in (the random one is seeded). */
export function cancelOrder(n: number, order: "arrival" | "reverse" | "random"): number[] {
  if (order === "random") return seededPermutation(n, 10);
  const indices = Array.from({ length: n }, (_, i) => i);
  return order === "reverse" ? indices.reverse() : indices;
}

/**
 * Waiter removal, the limit: `n` async functions wait in `get()`; after mark(), each is
 * cancelled (in `order`); the time is until every one has settled.
 */
function removal(order: "arrival" | "reverse" | "random"): Workload {
  return async ({ n }, mark) => {
    const queue = new CancellableQueue<number>();
    const getters = new Array<Getter<number>>(n);
    const waiter = async (i: number) =>
      await queue.get((g) => {
        getters[i] = g;
      });
    const all = new Array<Promise<number>>(n);
    for (let i = 0; i < n; i++) all[i] = waiter(i);
    const settled = Promise.allSettled(all);
    const indices = cancelOrder(n, order);
    mark();
    for (const i of indices) queue.cancel(getters[i] as Getter<number>);
    let cancelled = 0;
    for (const r of await settled) if (r.status === "rejected" && r.reason instanceof Cancelled) cancelled++;
    queue.putNowait(1);
    if (queue.size !== 1) throw new Error("a cancelled getter still took an item");
    return cancelled;
  };
}

/** Heap used after a full collection, once finalizers have had a turn (needs --expose-gc). */
export async function settledHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("the retention workload needs node --expose-gc");
  for (let k = 0; k < 2; k++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  gc();
  return process.memoryUsage().heapUsed;
}

/** An error carrying `index` and a message of `length` characters of its own (a flat string). */
export function bulkyError(index: number, length: number): Error & { index: number } {
  const message = `${index}:`.padEnd(length, "x");
  // padEnd makes a rope over one shared filler; reading a character flattens it into its own string.
  message.charCodeAt(length - 1);
  return Object.assign(new Error(message), { index });
}

async function failing(i: number, length: number): Promise<never> {
  await null;
  throw bulkyError(i, length);
}

/**
 * Retention, the limit: `n` async functions that fail, `width` at a time, each awaited in
 * try/catch. Reports the heap after gc minus the heap at the start, in MB.
 */
const retention: Workload = async ({ n, width, depth }, mark, report) => {
  const before = await settledHeap();
  mark();
  let total = 0;
  const batch: Promise<never>[] = [];
  for (let start = 0; start < n; start += width) {
    const end = Math.min(n, start + width);
    for (let i = start; i < end; i++) batch.push(failing(i, depth));
    for (const p of batch) {
      try {
        await p;
      } catch (error) {
        total += (error as { index: number }).index;
      }
    }
    batch.length = 0;
  }
  const growth = ((await settledHeap()) - before) / 1048576;
  report("heapGrowthMb", growth);
  report("heapAfterRunMb", growth);
  return total;
};

export const workloads: Record<string, Workload> = {
  w1,
  w2,
  w3,
  q3Retry,
  w3TaskPerJob,
  w4,
  w5,
  w6,
  fairness,
  removalArrival: removal("arrival"),
  removalReverse: removal("reverse"),
  removalRandom: removal("random"),
  retention,
};

export type { Params };
