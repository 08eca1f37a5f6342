/**
 * The limit: each workload hand-written with native promises, as efficiently as we can.
 * The program keeps the workload's shape (every queue operation and every acquisition is
 * awaited, as user code would); only the machinery is hand-tuned (ring buffers, no closures
 * where none is needed, resolvers called directly).
 */
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

export const workloads: Record<string, Workload> = { w1, w2, w3, w4, w5, w6 };

export type { Params };
