/**
 * `Queue<T>`: asyncio's FIFO queue for producer and consumer tasks, with Python 3.13's
 * `shutdown()`, and async iteration.
 */

import type { Future } from "../core/future.js";
import { type LoopImpl, runningLoop, taskContext } from "../core/loop.js";
import { doneFuture, failedFuture, Parked, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { describe, InvalidStateError, QueueEmpty, QueueFull, QueueShutDown } from "../errors.js";
import { RingBuffer } from "../internal/ring-buffer.js";
import { itemsUntilShutdown } from "./drain.js";

/** Options of {@link Queue}, {@link PriorityQueue} and {@link LifoQueue}. */
export interface QueueOptions {
  /**
   * A name for the queue, shown in traces ("queue-put" / "queue-get" events) and in what tasks
   * wait on ("queue.get jobs").
   * @default "Queue-<n>" in traces; no suffix in wait labels
   */
  name?: string;
}

let queueCount = 0;

/** @internal Checks `maxsize` as asyncio accepts it: any number; `<= 0` means unbounded. */
export function checkMaxsize(maxsize: unknown): number {
  if (typeof maxsize !== "number") {
    throw new TypeError(`Expected \`maxsize\` to be a number (0 for unbounded), got ${describe(maxsize)}`);
  }
  if (Number.isNaN(maxsize)) {
    throw new RangeError("Expected `maxsize` to be a number (0 for unbounded), got `NaN`");
  }
  return maxsize;
}

/** @internal */
export function checkQueueOptions(options: unknown): QueueOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected the queue options to be an object, got ${describe(options)}`);
  }
  const name = (options as QueueOptions).name;
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(`Expected \`name\` to be a string, got ${describe(name)}`);
  }
  return options as QueueOptions;
}

/**
 * A first-in, first-out queue for coordinating producer and consumer tasks (asyncio's `Queue`).
 *
 * `maxsize <= 0` (the default) means unbounded; otherwise `put` waits while the queue holds
 * `maxsize` items (`full()` is `qsize() >= maxsize`, so a fractional maxsize rounds up, as in
 * asyncio). Waiting getters and putters are served in FIFO order. A getter or putter that is
 * cancelled leaves nothing behind; one that was woken and then cancelled before it ran takes
 * nothing and hands its turn to the next waiter, so no item is lost or taken twice.
 *
 * `taskDone()` and `join()` count unfinished work as asyncio does. `shutdown()` follows Python
 * 3.13. Queues are async-iterable: `for await (const item of queue)` takes items with `get()`
 * and ends once the queue is shut down and drained; it does **not** call `taskDone()` (call it
 * yourself after handling each item if anyone `join()`s the queue).
 *
 * Departures from asyncio: `taskDone()` called too often throws {@link InvalidStateError}
 * (asyncio: `ValueError`); a `maxsize` that is not a number is a `TypeError` and NaN a
 * `RangeError` up front.
 *
 * @example
 * const queue = new Queue<number>(100);
 * const worker = createTask(async () => {
 *   for await (const n of queue) {
 *     console.log(n * 2);
 *     queue.taskDone();
 *   }
 * });
 * for (let i = 0; i < 10; i++) await queue.put(i);
 * await queue.join();  // every item handled
 * queue.shutdown();    // the worker's loop ends
 * await worker;
 */
export class Queue<T> implements AsyncIterable<T> {
  /** The capacity given to the constructor; `<= 0` means unbounded (asyncio's `maxsize`). */
  readonly maxsize: number;
  /** The queue's name, as given in the options or `Queue-<n>`; used in traces. */
  readonly name: string;
  /** @internal Items, oldest first (FIFO and LIFO queues; PriorityQueue keeps a heap). */
  protected readonly _items: RingBuffer<T>;
  /** @internal */
  protected _size = 0;
  private readonly bounded: boolean;
  private unfinished = 0;
  private taken = 0;
  private doneCount = 0;
  private isShutdown = false;
  /** @internal */
  readonly _getters: ParkingLot;
  /** @internal */
  readonly _putters: ParkingLot;
  private readonly joiners: ParkingLot;
  /** The loop last seen using this queue: where trace events go. Bound on first use, as asyncio does. */
  private loop: LoopImpl | null = null;

  /**
   * @param maxsize Capacity; `<= 0` for unbounded. Default 0.
   * @param options See {@link QueueOptions}.
   */
  constructor(maxsize = 0, options?: QueueOptions) {
    this.maxsize = checkMaxsize(maxsize);
    const { name } = checkQueueOptions(options);
    this.bounded = maxsize > 0;
    this.name = name ?? `Queue-${++queueCount}`;
    const suffix = name === undefined ? "" : ` ${name}`;
    this._getters = new ParkingLot(`queue.get${suffix}`, true);
    this._putters = new ParkingLot(`queue.put${suffix}`, true);
    this.joiners = new ParkingLot(`queue.join${suffix}`, true);
    this._items = new RingBuffer<T>(this.bounded && maxsize < 1024 ? Math.ceil(maxsize) : 16);
  }

  // The storage, overridden by LifoQueue and PriorityQueue (asyncio's `_put` / `_get`).

  /** @internal Stores `item`. */
  protected _put(item: T): void {
    this._items.push(item);
  }

  /** @internal Removes and returns the next item; only called when the queue is not empty. */
  protected _get(): T {
    return this._items.shift() as T;
  }

  /** Number of items in the queue. */
  qsize(): number {
    return this._size;
  }

  /** True if the queue holds no item. */
  empty(): boolean {
    return this._size === 0;
  }

  /** True if the queue holds `maxsize` items or more; never true for an unbounded queue. */
  full(): boolean {
    return this.bounded && this._size >= this.maxsize;
  }

  /** True once {@link Queue.shutdown} was called. */
  get isShutDown(): boolean {
    return this.isShutdown;
  }

  /**
   * Puts `item` into the queue, waiting while it is full (asyncio's `put`). Completes without
   * suspending when there is room. Throws {@link QueueShutDown} if the queue is, or while waiting
   * becomes, shut down.
   *
   * @example
   * await queue.put(job);
   */
  put(item: T, options?: SignalOptions): Future<void> {
    const signal = signalOf(options, "Queue.put()");
    const loop = this.waitLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    if (this.isShutdown) return failedFuture(this._shutDownError("put()"), loop);
    if (!this.full()) {
      this.putNowait(item);
      return doneFuture(undefined, loop);
    }
    return new PutOp(loop, this._putters.label, this as Queue<unknown>, item)._parkIn(this._putters, signal);
  }

  /**
   * Puts `item` into the queue without waiting (asyncio's `put_nowait`). Throws
   * {@link QueueFull} if the queue is full and {@link QueueShutDown} if it was shut down.
   */
  putNowait(item: T): void {
    if (this.isShutdown) throw this._shutDownError("putNowait()");
    if (this.bounded && this._size >= this.maxsize) {
      throw new QueueFull(
        `putNowait() on a full queue (maxsize ${this.maxsize}): await put() to wait for a free slot`,
        this.maxsize,
      );
    }
    this._put(item);
    this._size++;
    this.unfinished++;
    if (this._getters.size > 0) this._getters.wakeOne();
    let loop = this.loop;
    if (loop === null || loop.closed) loop = this.bindLoop();
    if (loop.trace !== null) this.traceEvent(loop, "queue-put");
  }

  /**
   * Removes and returns the next item, waiting while the queue is empty (asyncio's `get`).
   * Completes without suspending when an item is there. Throws {@link QueueShutDown} once the
   * queue is shut down and empty (a task waiting in `get` is released with it).
   *
   * Returns a {@link Future}: cancelling it — directly, or through `waitFor`, `timeout`, `gather`
   * or a task group — withdraws the get, which then takes nothing (a get woken but not yet run
   * passes its item on). With `{ signal }`, aborting withdraws it the same way and rejects with
   * `signal.reason`.
   *
   * @example
   * const job = await queue.get();
   * const next = await waitFor(queue.get(), 5); // TimeoutError after 5 s, nothing lost
   * const item = await queue.get({ signal: AbortSignal.timeout(1000) });
   */
  get(options?: SignalOptions): Future<T> {
    const signal = signalOf(options, "Queue.get()");
    const loop = this.waitLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    if (this._size > 0) return doneFuture(this.getNowait(), loop);
    if (this.isShutdown) return failedFuture(this._shutDownError("get()"), loop);
    return new GetOp<T>(loop, this._getters.label, this)._parkIn(this._getters, signal);
  }

  /**
   * Removes and returns the next item without waiting (asyncio's `get_nowait`). Throws
   * {@link QueueEmpty} if the queue is empty, or {@link QueueShutDown} if it is empty and shut
   * down.
   */
  getNowait(): T {
    if (this._size === 0) {
      if (this.isShutdown) throw this._shutDownError("getNowait()");
      throw new QueueEmpty("getNowait() on an empty queue: await get() to wait for an item");
    }
    const item = this._get();
    this._size--;
    this.taken++;
    if (this._putters.size > 0) this._putters.wakeOne();
    let loop = this.loop;
    if (loop === null || loop.closed) loop = this.bindLoop();
    if (loop.trace !== null) this.traceEvent(loop, "queue-get");
    return item;
  }

  /**
   * Marks one item taken with `get` as handled (asyncio's `task_done`). When every item put was
   * marked, tasks waiting in {@link Queue.join} resume.
   *
   * Throws {@link InvalidStateError} when called more times than items were put (asyncio
   * raises `ValueError` there): call it once per item taken, after handling it.
   */
  taskDone(): void {
    if (this.unfinished <= 0) {
      throw new InvalidStateError(
        `Queue.taskDone() called more times than items were taken (${this.taken} taken, ${this.doneCount + 1} done): call it once per item received from get()`,
      );
    }
    this.doneCount++;
    this.unfinished--;
    if (this.unfinished === 0 && this.joiners.size > 0) this.joiners.wakeAll();
  }

  /**
   * Waits until every item put into the queue was taken and marked with `taskDone()`
   * (asyncio's `join`). Returns at once when nothing is unfinished.
   */
  join(options?: SignalOptions): Future<void> {
    const signal = signalOf(options, "Queue.join()");
    const loop = this.waitLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    if (this.unfinished === 0) return doneFuture(undefined, loop);
    return new JoinOp(loop, this.joiners.label)._parkIn(this.joiners, signal);
  }

  /**
   * Shuts the queue down (Python 3.13's `Queue.shutdown`): `put`/`putNowait` throw
   * {@link QueueShutDown} from now on, and every task waiting in `put` is released with it.
   * `get` keeps returning the items left and throws `QueueShutDown` once the queue is empty;
   * tasks waiting in `get` on an empty queue are released with it.
   *
   * With `immediate = true` the items left are discarded too, each counting as done for
   * {@link Queue.join}, so `join` returns once the items already taken are marked done.
   *
   * @example
   * queue.shutdown();      // producers stop; consumers drain what is left
   * queue.shutdown(true);  // everybody stops now
   */
  shutdown(immediate = false): void {
    this.isShutdown = true;
    if (immediate) {
      while (this._size > 0) {
        this._get();
        this._size--;
        if (this.unfinished > 0) this.unfinished--;
      }
      if (this.unfinished === 0) this.joiners.wakeAll();
    }
    // Waiting getters take what is left, then fail with QueueShutDown; waiting putters fail now.
    this._getters.wakeAll();
    this._putters.failAll(() => this._shutDownError("put()"));
  }

  /**
   * Iterates over the items with `get()`, ending once the queue is shut down and drained. Does
   * not call `taskDone()`. Cancelling the task that iterates cancels the `get` it waits in;
   * leaving the loop early (`break`) loses nothing: an item is taken only when it is yielded.
   *
   * @example
   * for await (const job of queue) { await handle(job); queue.taskDone(); }
   */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return itemsUntilShutdown(() => this.get());
  }

  /** "Queue(maxsize=2, size=1, getters=0, putters=1, unfinished=1)", for debugging. */
  toString(): string {
    const shut = this.isShutdown ? ", shut down" : "";
    return `${this.constructor.name}(${JSON.stringify(this.name)}, maxsize=${this.maxsize}, size=${this._size}, getters=${this._getters.idleCount()}, putters=${this._putters.idleCount()}, unfinished=${this.unfinished}${shut})`;
  }

  /** @internal Number of registered waiters: [getters, putters] (for tests and hang reports). */
  _waiterCounts(): [getters: number, putters: number] {
    return [this._getters.size, this._putters.size];
  }

  /** The loop to wait on: the one last seen, found again only once it has closed (as asyncio binds). */
  private waitLoop(): LoopImpl {
    const loop = this.loop;
    if (loop !== null && !loop.closed) return loop;
    return this.bindLoop();
  }

  private bindLoop(): LoopImpl {
    const loop = runningLoop();
    this.loop = loop;
    return loop;
  }

  /** @internal */
  _shutDownError(what: string): QueueShutDown {
    return new QueueShutDown(
      what.startsWith("get")
        ? `${what} on a queue that was shut down and is empty: stop consuming`
        : `${what} on a queue that was shut down: stop producing`,
    );
  }

  private traceEvent(loop: LoopImpl, type: "queue-put" | "queue-get"): void {
    const task = taskContext.getStore() as { id?: number } | undefined;
    loop.trace?.event({ type, time: loop.time(), task: task?.id ?? null, queue: this.name, size: this._size });
  }
}

/** A get waiting for an item. */
class GetOp<T> extends Parked<T> {
  constructor(
    loop: LoopImpl,
    label: string,
    private readonly queue: Queue<T>,
  ) {
    super(loop, label);
  }
  /** @internal */
  _take(): boolean {
    const queue = this.queue;
    if (queue.qsize() > 0) {
      this._grant(queue.getNowait());
      return true;
    }
    if (queue.isShutDown) {
      this._failWith(queue._shutDownError("get()"));
      return true;
    }
    return false;
  }
  /** @internal */
  override _passOn(): void {
    if (this.queue.qsize() > 0) this.queue._getters.wakeOne();
  }
}

/** A put waiting for a free slot. */
class PutOp extends Parked<void> {
  constructor(
    loop: LoopImpl,
    label: string,
    private readonly queue: Queue<unknown>,
    private readonly item: unknown,
  ) {
    super(loop, label);
  }
  /** @internal */
  _take(): boolean {
    const queue = this.queue;
    if (queue.isShutDown) {
      this._failWith(queue._shutDownError("put()"));
      return true;
    }
    if (queue.full()) return false;
    queue.putNowait(this.item);
    this._grant(undefined);
    return true;
  }
  /** @internal */
  override _passOn(): void {
    if (!this.queue.full()) this.queue._putters.wakeOne();
  }
}

/** A join waiting for every item to be marked done. */
class JoinOp extends Parked<void> {
  /** @internal */
  _take(): boolean {
    this._grant(undefined);
    return true;
  }
}
