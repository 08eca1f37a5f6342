/**
 * `RedisQueue<T>`: the contract of {@link Queue} — put, get, taskDone, join, shutdown, async
 * iteration — stored in a Redis stream with one consumer group, so workers in many processes
 * drain one queue and nothing is lost when a worker or the server dies.
 *
 * How it holds together (see docs/redis.md):
 * - An item is an entry of `{name}:stream`. `get` reads it with XREADGROUP, which keeps it in the
 *   group's pending list until `taskDone` acknowledges and deletes it (one script). A worker that
 *   dies leaves its items pending; after `visibilityTimeout` seconds another process's reader
 *   takes them over with XAUTOCLAIM.
 * - Each process has one blocking reader on its own connection, driven by local demand: it asks
 *   for as many entries as there are tasks waiting in `get`. An entry that arrives for a getter
 *   that was cancelled meanwhile goes to the next local getter, or back to the group at once.
 * - `put` is one script that checks shutdown and maxsize and adds the entry: qsize never passes
 *   maxsize, whatever the number of producers.
 */
import { hostname } from "node:os";
import { createClient, ErrorReply, TimeoutError as RedisTimeoutError } from "redis";
import { Future, PENDING } from "../core/future.js";
import { type LoopImpl, runningLoop, taskContext } from "../core/loop.js";
import { doneFuture, failedFuture, Parked, ParkingLot, type SignalOptions, signalOf } from "../core/park.js";
import { currentTask } from "../core/task.js";
import { describe, InvalidStateError, QueueEmpty, QueueFull, QueueShutDown, RedisQueueError } from "../errors.js";
import { itemsUntilShutdown } from "../queues/drain.js";
import { type Client, Link } from "./link.js";
import { ACK, CLAIM, DEAD_LETTER, HEARTBEAT, PUT, RELEASE, SCRIPTS, type Script, SHUTDOWN, SIZE } from "./scripts.js";

/** How items become the strings stored in Redis, and back. */
export interface Codec<T> {
  /** Turns an item into a string; throw if it cannot be stored. */
  encode(item: T): string;
  /** Turns a stored string back into the item. An error here sends the entry to the dead-letter stream. */
  decode(data: string): T;
}

/** The default codec: JSON. `undefined`, functions, symbols, BigInts and cycles cannot be stored. */
export const jsonCodec: Codec<unknown> = {
  encode(item) {
    const text = JSON.stringify(item);
    if (typeof text !== "string") throw new TypeError(`JSON cannot represent ${describe(item)}`);
    return text;
  },
  decode(data) {
    return JSON.parse(data) as unknown;
  },
};

/** Options of {@link RedisQueue.connect}. Times are in seconds, as everywhere in awaitress. */
export interface RedisQueueOptions<T> {
  /**
   * The server, as node-redis takes it: `redis://[[user]:password@]host[:port][/db]`.
   * @default "redis://127.0.0.1:6379"
   */
  readonly url?: string;
  /**
   * Capacity: `put` waits while qsize (entries put and not yet delivered to any consumer) is at
   * least `maxsize`; `<= 0` is unbounded. Stored in the queue's meta hash: a process that omits
   * it adopts the stored value, one that gives a different value gets a {@link RedisQueueError}.
   * @default the stored value, or 0
   */
  readonly maxsize?: number;
  /**
   * Seconds an item may stay taken without `taskDone()` and without a heartbeat before another
   * process may take it over (its worker is presumed dead). A heartbeat keeps the items this
   * process holds every `visibilityTimeout / 3` seconds, so a long job keeps its claim.
   * @default 30
   */
  readonly visibilityTimeout?: number;
  /**
   * Deliveries after which an item that was never acknowledged goes to the dead-letter stream
   * (`{name}:dead`) with its last error instead of being delivered again; 0: never.
   * @default 5
   */
  readonly maxDeliveries?: number;
  /** How items are stored. @default JSON ({@link jsonCodec}) */
  readonly codec?: Codec<T>;
  /**
   * Seconds the server may leave this process's commands unanswered before they fail with
   * {@link RedisQueueError} (the blocking read is given its block time on top). One watchdog per
   * connection keeps it: when commands are outstanding and no reply came for that long, they all
   * fail, and a connection that answers nothing is dropped and opened again.
   * @default 5
   */
  readonly commandTimeout?: number;
  /**
   * Called with errors that belong to no call: a lost connection, a consumer group that vanished
   * (a server restart without persistence).
   * @default logs with console.error, once per connection loss
   */
  readonly onError?: (error: RedisQueueError) => void;
  /**
   * Called with warnings about the server's settings (persistence that cannot keep acknowledged
   * items). @default console.warn
   */
  readonly onWarning?: (message: string) => void;
  /** This process's consumer name in the group. @default "<host>-<pid>-<random>" */
  readonly consumer?: string;
}

const GROUP = "awaitress";
/** How long one blocking read waits before the reader looks around (claims, shutdown state). */
const MAX_BLOCK_MS = 1000;
/** How often a put waiting for space retries when no wake-up arrives. */
const PUT_POLL_MS = 200;
/** How often join() looks when no "drained" wake-up arrives. */
const JOIN_POLL_MS = 250;

interface Entry<T> {
  readonly id: string;
  readonly item: T;
  /** Times the group delivered the entry, this delivery included. */
  readonly deliveries: number;
}

interface RawEntry {
  readonly id: string;
  readonly payload: string;
  readonly deliveries: number;
}

/** The owner an item is recorded under for `taskDone()`: the task that got it, or null outside tasks. */
type Owner = object | null;

function checkSeconds(value: unknown, name: string, min: number): number {
  if (typeof value !== "number")
    throw new TypeError(`Expected \`${name}\` to be a number of seconds, got ${describe(value)}`);
  if (Number.isNaN(value) || value < min) {
    throw new RangeError(`Expected \`${name}\` to be a number of seconds >= ${min}, got \`${value}\``);
  }
  return value;
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // node-redis's errors of the connection often have no message: their class says what happened.
  return error.message || error.constructor.name;
}

function isNoGroup(error: unknown): boolean {
  return errorMessage(error).includes("NOGROUP");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * A queue with the contract of {@link "awaitress"!Queue}, stored in Redis Streams: many processes put into
 * and get from one queue. Create one with {@link RedisQueue.connect}; end with `close()`.
 *
 * Departures from the in-memory `Queue`, all forced by the network:
 * - `putNowait`, `getNowait`, `qsize`, `empty`, `full`, `shutdown` and `taskDone` return
 *   futures (each is a round trip); `putNowait` rejects with {@link QueueFull} when full and
 *   `getNowait` with {@link QueueEmpty} when nothing is there.
 * - An item is delivered **at least once**: a worker that dies (or holds an item past
 *   `visibilityTimeout` without the heartbeat) has it redelivered elsewhere.
 * - A `put` whose script is already on its way to the server cannot be withdrawn: cancelling it
 *   then waits for the answer — if the item was stored, `put` completes and the cancellation
 *   lands at the task's next await (an item is stored exactly when `put` completes).
 *
 * @example
 * const queue = await RedisQueue.connect<Job>("jobs", { url: "redis://127.0.0.1:6379", maxsize: 100 });
 * for await (const job of queue) {
 *   await handle(job);
 *   queue.taskDone();
 * }
 * await queue.close();
 */
export class RedisQueue<T> implements AsyncIterable<T> {
  /** The queue's name: its keys are `{name}:stream`, `{name}:dead`, `{name}:meta`, `{name}:errors`. */
  readonly name: string;
  /** Capacity, as stored in the queue's meta hash; `<= 0` is unbounded. */
  readonly maxsize: number;
  /** This process's consumer name in the group. */
  readonly consumer: string;
  /** The keys and channel, for inspection and tests. */
  readonly keys: {
    readonly stream: string;
    readonly dead: string;
    readonly meta: string;
    readonly errors: string;
    readonly channel: string;
  };

  private readonly codec: Codec<T>;
  private readonly visibilityMs: number;
  private readonly maxDeliveries: number;
  private readonly commandMs: number;
  private readonly blockMs: number;
  private readonly onError: (error: RedisQueueError) => void;
  private readonly commands: Link;
  private readonly reader: Link;
  private readonly subscriber: Client;

  private closed = false;
  private shutdownState: 0 | 1 | 2 = 0;
  /** Entries fetched for local getters that none has taken yet, oldest first. */
  private readonly buffer: Entry<T>[] = [];
  /** @internal */
  readonly _getters: ParkingLot;
  /** Items handed out and not acknowledged yet, by id (the heartbeat keeps them). */
  private readonly held = new Map<string, Entry<T> & { owner: Owner }>();
  /** For taskDone(): the ids each task got, oldest first. */
  private readonly heldBy = new Map<Owner, string[]>();
  private readonly acking: { id: string; done: ResultOp<void> }[] = [];
  private ackScheduled = false;
  private readonly spaceWaiters = new Set<() => void>();
  private readonly drainWaiters = new Set<() => void>();
  private demandWake: (() => void) | null = null;
  private readerId: number | null = null;
  private readerBlocked = false;
  private readerLoop: Promise<void> | null = null;
  private lastClaim = 0;
  private releaseHint = false;
  private reconcileScheduled = false;
  private heartbeat: NodeJS.Timeout | null = null;
  /** The group's identity, stored in the meta hash: another (or none) after a restart without persistence. */
  private epoch: string;
  /** The scripts being loaded after a NOSCRIPT; null otherwise. */
  private scriptsLoading: Promise<void> | null = null;
  /** The group being created again after it vanished; null otherwise. */
  private recreating: Promise<void> | null = null;

  private constructor(
    name: string,
    maxsize: number,
    options: RedisQueueOptions<T>,
    clients: { commands: Link; reader: Link; subscriber: Client },
    onError: (error: RedisQueueError) => void,
    epoch: string,
  ) {
    this.name = name;
    this.epoch = epoch;
    this.maxsize = maxsize;
    this.codec = options.codec ?? (jsonCodec as Codec<T>);
    this.visibilityMs = Math.round((options.visibilityTimeout ?? 30) * 1000);
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.commandMs = Math.round((options.commandTimeout ?? 5) * 1000);
    this.blockMs = Math.max(10, Math.min(MAX_BLOCK_MS, Math.floor(this.visibilityMs / 2)));
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.onError = onError;
    const tag = `{${name}}`;
    this.keys = {
      stream: `${tag}:stream`,
      dead: `${tag}:dead`,
      meta: `${tag}:meta`,
      errors: `${tag}:errors`,
      channel: `${tag}:events`,
    };
    this.commands = clients.commands;
    this.reader = clients.reader;
    this.subscriber = clients.subscriber;
    this._getters = new ParkingLot(`queue.get ${name}`, true);
  }

  /**
   * Connects to the queue `name` (creating its stream and consumer group if needed) and returns
   * it once the server answered. Rejects with {@link RedisQueueError} when the server cannot be
   * reached (after two quick retries), with `TypeError`/`RangeError` for bad options.
   *
   * @example
   * const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
   * const queue = await RedisQueue.connect<string>("jobs", { url, maxsize: 1000 });
   */
  static async connect<T>(name: string, options: RedisQueueOptions<T> = {}): Promise<RedisQueue<T>> {
    if (typeof name !== "string" || name === "" || /[{}]/.test(name)) {
      throw new TypeError(`Expected the queue name to be a non-empty string without braces, got ${describe(name)}`);
    }
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Expected the options of RedisQueue.connect() to be an object, got ${describe(options)}`);
    }
    if (options.maxsize !== undefined) checkSeconds(options.maxsize, "maxsize", Number.NEGATIVE_INFINITY);
    if (options.visibilityTimeout !== undefined) checkSeconds(options.visibilityTimeout, "visibilityTimeout", 0.02);
    if (options.commandTimeout !== undefined) checkSeconds(options.commandTimeout, "commandTimeout", 0.01);
    if (options.maxDeliveries !== undefined) checkSeconds(options.maxDeliveries, "maxDeliveries", 0);
    const url = options.url ?? "redis://127.0.0.1:6379";
    const commandMs = Math.round((options.commandTimeout ?? 5) * 1000);
    let lossReported = false;
    const onError =
      options.onError ??
      ((error: RedisQueueError) => {
        console.error(`awaitress RedisQueue ${JSON.stringify(name)}: ${error.message}`);
      });
    const reportLoss = (error: unknown): void => {
      if (lossReported) return;
      lossReported = true;
      onError(
        new RedisQueueError(
          `RedisQueue ${JSON.stringify(name)} lost the connection to ${url}: ${errorMessage(error)}. It reconnects by itself (waiting gets resume; a put in flight fails and may be retried)`,
          { cause: error },
        ),
      );
    };
    const clients: Client[] = [];
    const make = (role: string, signal?: AbortSignal): Client => {
      let connected = false;
      let client: Client;
      try {
        client = createClient({
          url,
          RESP: 2,
          name: `awaitress:${name}:${role}`,
          disableClientInfo: true,
          // No timer per command: each connection's Link keeps the command timeout (see link.ts).
          commandOptions: { timeout: 0 },
          socket: {
            connectTimeout: commandMs,
            ...(signal === undefined ? {} : { signal }),
            reconnectStrategy: (retries: number, cause: Error) => {
              if (!connected) {
                if (retries >= 2) {
                  return new RedisQueueError(
                    `cannot connect to Redis at ${url}: ${errorMessage(cause)}. Check the url option and that redis-server runs there`,
                    { cause },
                  );
                }
                return 100;
              }
              return Math.min(50 * 2 ** retries, 1000);
            },
          },
        }) as Client;
      } catch (error) {
        throw new RedisQueueError(
          `cannot use the Redis URL ${JSON.stringify(url)}: ${errorMessage(error)}. Give the url option as redis://[[user]:password@]host[:port][/db]`,
          {
            cause: error,
          },
        );
      }
      client.on("ready", () => {
        connected = true;
        lossReported = false;
      });
      client.on("error", (error: unknown) => {
        // A socket the command-timeout watchdog destroyed: its reason says why.
        const reason =
          error instanceof Error && error.name === "AbortError" && error.cause instanceof Error ? error.cause : error;
        if (connected) reportLoss(reason);
      });
      clients.push(client);
      return client;
    };
    const destroyAll = (): void => {
      for (const c of clients) {
        try {
          c.destroy();
        } catch {
          // already closed
        }
      }
    };
    try {
      const commands = new Link(commandMs);
      commands.attach(make("commands", commands.signal));
      await commands.client.connect();
      const [{ maxsize, epoch }] = await Promise.all([
        RedisQueue.setUp(commands, name, options),
        RedisQueue.loadScripts(commands),
      ]);
      const reader = new Link(commandMs);
      reader.attach(make("reader", reader.signal));
      const subscriber = make("subscriber");
      await Promise.all([reader.client.connect(), subscriber.connect()]);
      const queue = new RedisQueue<T>(name, maxsize, options, { commands, reader, subscriber }, onError, epoch);
      await queue.start();
      void RedisQueue.checkPersistence(commands, options.onWarning ?? ((m) => console.warn(m)), name);
      return queue;
    } catch (error) {
      destroyAll();
      if (error instanceof RedisQueueError || error instanceof TypeError || error instanceof RangeError) throw error;
      throw new RedisQueueError(
        `cannot connect to Redis at ${url}: ${errorMessage(error)}. Check the url option and that redis-server runs there`,
        { cause: error },
      );
    }
  }

  /** Creates the stream and group if needed and reconciles maxsize with the meta hash. */
  private static async setUp<T>(
    commands: Link,
    name: string,
    options: RedisQueueOptions<T>,
  ): Promise<{ maxsize: number; epoch: string }> {
    const tag = `{${name}}`;
    const meta = `${tag}:meta`;
    const epoch = await RedisQueue.ensureGroup(commands, `${tag}:stream`, meta);
    const wanted = options.maxsize;
    if (wanted !== undefined) {
      await commands.sendCommand(["HSETNX", meta, "maxsize", String(wanted)]);
    }
    const stored = Number((await commands.sendCommand<string | null>(["HGET", meta, "maxsize"])) ?? "0");
    if (wanted !== undefined && stored !== wanted) {
      throw new RedisQueueError(
        `RedisQueue ${JSON.stringify(name)} exists with maxsize ${stored}, not ${wanted}: omit maxsize to use the stored one, or delete the key ${meta}`,
      );
    }
    return { maxsize: stored, epoch };
  }

  /**
   * Creates the stream and group if needed, and the group's epoch (a random id in the meta hash
   * that a restart without persistence loses with the group). Returns the epoch: the first
   * process's, whichever process creates it.
   */
  private static async ensureGroup(commands: Link, stream: string, meta: string): Promise<string> {
    try {
      await commands.sendCommand(["XGROUP", "CREATE", stream, GROUP, "0", "MKSTREAM"]);
    } catch (error) {
      if (!errorMessage(error).includes("BUSYGROUP")) throw error;
    }
    await commands.sendCommand(["HSETNX", meta, "epoch", `${Date.now()}-${Math.random().toString(36).slice(2)}`]);
    return (await commands.sendCommand<string | null>(["HGET", meta, "epoch"])) ?? "";
  }

  /**
   * The consumer group vanished (a server restart without persistence, or the keys were deleted):
   * one error event (`onError`), the waiting getters fail with the same error, and the group, its
   * epoch and maxsize are created again so the queue works on. Returns the error for the call that
   * found it. While the group is being created again, a second finding reports nothing more.
   */
  private groupGone(cause: unknown, call?: string, consequence?: string): RedisQueueError {
    const at = call === undefined ? "" : ` ${call} failed:`;
    const tail = consequence === undefined ? "" : ` ${consequence}.`;
    const error = new RedisQueueError(
      `RedisQueue ${JSON.stringify(this.name)}${at} its consumer group is gone — the server restarted without persistence, or the keys were deleted — so items put and not acknowledged before may be lost.${tail} The group is being created again and the queue works on; to keep items across restarts run the server with appendonly yes (see docs/redis.md)`,
      { cause },
    );
    if (this.recreating === null && !this.closed) {
      this.recreating = RedisQueue.ensureGroup(this.commands, this.keys.stream, this.keys.meta)
        .then(async (epoch) => {
          this.epoch = epoch;
          if (this.maxsize > 0)
            await this.commands.sendCommand(["HSETNX", this.keys.meta, "maxsize", String(this.maxsize)]);
        })
        .catch(() => {
          // The server went away again: the next finding tries again.
        })
        .finally(() => {
          this.recreating = null;
        });
      this.onError(error);
      this.failIdleGetters(error);
    }
    return error;
  }

  /** After a reconnection: is it still our group? A restart without persistence lost it (and the epoch). */
  private checkEpoch(): void {
    if (this.closed || this.recreating !== null) return;
    this.commands.sendCommand<string | null>(["HGET", this.keys.meta, "epoch"]).then(
      (epoch) => {
        if (epoch !== this.epoch && !this.closed) {
          this.groupGone(
            new Error(`the queue's epoch is ${epoch === null ? "missing" : `now ${epoch}`}, was ${this.epoch}`),
          );
        }
      },
      () => {
        // Lost again: the next reconnection looks again.
      },
    );
  }

  /** Warns when the server's persistence cannot keep what the queue promises (see docs/redis.md). */
  private static async checkPersistence(commands: Link, warn: (message: string) => void, name: string): Promise<void> {
    let aof: string | undefined;
    let fsync: string | undefined;
    try {
      const reply = await commands.sendCommand<string[]>(["CONFIG", "GET", "append*"]);
      for (let i = 0; i + 1 < reply.length; i += 2) {
        if (reply[i] === "appendonly") aof = reply[i + 1];
        if (reply[i] === "appendfsync") fsync = reply[i + 1];
      }
    } catch {
      return; // CONFIG is often disabled on managed servers: nothing to check
    }
    const prefix = `awaitress RedisQueue ${JSON.stringify(name)}:`;
    if (aof !== "yes") {
      warn(
        `${prefix} the server runs without the append-only file (appendonly ${aof}): a crash loses puts and acknowledgements since the last snapshot. Set appendonly yes and appendfsync always to keep every completed put and taskDone.`,
      );
    } else if (fsync !== "always") {
      warn(
        `${prefix} appendfsync is ${fsync}: a server crash can lose up to a second of completed puts and acknowledgements (acknowledged items delivered again). Set appendfsync always to keep them all.`,
      );
    }
  }

  private async start(): Promise<void> {
    // Each later "ready" is a reconnection: the server may have restarted without its data.
    this.commands.on("ready", () => {
      void this.loadScripts();
      this.checkEpoch();
    });
    // The reader's id, for CLIENT UNBLOCK: asked once per connection, not before every read.
    const forget = (): void => {
      this.readerId = null;
    };
    this.reader.on("error", forget);
    this.reader.on("end", forget);
    this.reader.on("ready", () => this.askReaderId());
    await this.askReaderId();
    const state = await this.commands.sendCommand<string | null>(["HGET", this.keys.meta, "shutdown"]);
    if (state === "1" || state === "2") this.shutdownState = state === "2" ? 2 : 1;
    await this.subscriber.subscribe(this.keys.channel, (message: string) => {
      this.onEvent(message);
    });
    // The reader runs outside any task's context: it belongs to the queue, not to a caller.
    this.readerLoop = taskContext.exit(() => this.readLoop());
    const every = Math.max(10, Math.floor(this.visibilityMs / 3));
    this.heartbeat = setInterval(() => {
      this.beat();
    }, every);
    this.heartbeat.unref();
  }

  // -------------------------------------------------------------------------------------------
  // Putting

  /**
   * Puts `item` into the queue, waiting while it is full (a "space" wake-up from the process
   * whose reader took an item, with polling as a fallback). Completes once the server stored it.
   * Throws `TypeError` at once if the codec cannot encode the item; rejects with
   * {@link QueueShutDown} if the queue was shut down, {@link RedisQueueError} if the connection
   * was lost while the put was in flight (the item may or may not be stored).
   *
   * Cancellable while it waits for space (directly, through `waitFor`, `timeout`, a TaskGroup,
   * or `{ signal }`): it then stores nothing. Once its script is in flight it completes or fails
   * on the server's answer, and a cancellation lands afterwards.
   *
   * @example
   * await queue.put({ url: "https://example.com" });
   */
  put(item: T, options?: SignalOptions): Future<void> {
    const signal = signalOf(options, "RedisQueue.put()");
    const payload = this.encode(item, "put()");
    const loop = this.waitLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    return this.startPut(loop, payload, false, signal);
  }

  /**
   * Puts `item` without waiting for space: rejects with {@link QueueFull} when the queue is full
   * and {@link QueueShutDown} when it was shut down. Throws `TypeError` at once if the codec cannot
   * encode the item. Calls made in one go are pipelined to the server.
   */
  putNowait(item: T): Future<void> {
    const payload = this.encode(item, "putNowait()");
    return this.startPut(this.waitLoop(), payload, true, undefined);
  }

  private encode(item: T, what: string): string {
    let payload: unknown;
    try {
      payload = this.codec.encode(item);
    } catch (error) {
      throw new TypeError(`RedisQueue.${what}: the codec cannot encode ${describe(item)}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    if (typeof payload !== "string") {
      throw new TypeError(`RedisQueue.${what}: the codec's encode() must return a string, got ${describe(payload)}`);
    }
    return payload;
  }

  private startPut(loop: LoopImpl, payload: string, nowait: boolean, signal: AbortSignal | undefined): Future<void> {
    if (this.closed) return failedFuture(this.closedError("put()"), loop);
    const task = taskContext.getStore() as { id?: number } | undefined;
    const op = new PutOp(loop, `queue.put ${this.name}`);
    const attempt = (): void => {
      op.inFlight = true;
      this.eval(PUT, [this.keys.stream, this.keys.meta, this.keys.channel], [GROUP, payload]).then(
        (reply) => {
          op.inFlight = false;
          if (op._state !== PENDING) return;
          if (Array.isArray(reply)) {
            this.trace(loop, "queue-put", task?.id ?? null, Number(reply[1]));
            op._complete();
            return;
          }
          if (reply === -1) {
            op._fail(this.shutDownError("put()"));
            return;
          }
          if (nowait) {
            op._fail(
              new QueueFull(
                `putNowait() on a full queue (maxsize ${this.maxsize}): await put() to wait for a free slot`,
                this.maxsize,
              ),
            );
            return;
          }
          if (op._takeCancel()) return;
          this.waitForSpace(op, attempt);
        },
        (error: unknown) => {
          op.inFlight = false;
          op._fail(
            isNoGroup(error)
              ? this.groupGone(error, "put()", "This item was not stored: put it again")
              : this.commandError(
                  "put()",
                  error,
                  "the item may or may not have been stored: put it again if it must be, at the risk of storing it twice",
                ),
          );
        },
      );
    };
    if (signal !== undefined) op._watch(signal);
    attempt();
    return op;
  }

  private waitForSpace(op: PutOp, retry: () => void): void {
    if (this.closed) {
      op._fail(this.closedError("put()"));
      return;
    }
    let timer: NodeJS.Timeout | null = null;
    const wake = (): void => {
      this.spaceWaiters.delete(wake);
      if (timer !== null) clearTimeout(timer);
      op._withdraw = null;
      if (op._state === PENDING) retry();
    };
    timer = setTimeout(wake, PUT_POLL_MS);
    this.spaceWaiters.add(wake);
    op._withdraw = () => {
      this.spaceWaiters.delete(wake);
      if (timer !== null) clearTimeout(timer);
    };
  }

  // -------------------------------------------------------------------------------------------
  // Getting

  /**
   * Removes and returns the next item, waiting while there is none (asyncio's `get`). The item
   * stays pending in the consumer group until `taskDone()`: if this process dies first, another
   * takes it over after `visibilityTimeout`. Rejects with {@link QueueShutDown} once the queue was
   * shut down and nothing is left, {@link RedisQueueError} when the group vanished or the queue
   * was closed.
   *
   * Cancelling it — directly, through `waitFor`, `timeout`, a TaskGroup, or `{ signal }` — takes
   * nothing: an item fetched for it goes to the next local getter or back to the group at once.
   *
   * @example
   * const job = await queue.get();
   * const next = await waitFor(queue.get(), 5); // TimeoutError after 5 s, nothing lost
   */
  get(options?: SignalOptions): Future<T> {
    const signal = signalOf(options, "RedisQueue.get()");
    const loop = this.waitLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    if (this.buffer.length > 0) return doneFuture(this._takeBuffered(currentTask() ?? null, loop), loop);
    if (this.closed) return failedFuture(this.closedError("get()"), loop);
    if (this.shutdownState === 2) return failedFuture(this.shutDownError("get()"), loop);
    const op = new GetOp<T>(loop, this._getters.label, this)._parkIn(this._getters, signal);
    this._kick();
    return op;
  }

  /**
   * Takes an item if one is there now, without blocking on the server: rejects with
   * {@link QueueEmpty} when none is, {@link QueueShutDown} when none is and the queue was shut down.
   */
  getNowait(): Future<T> {
    const loop = this.waitLoop();
    const owner = currentTask() ?? null;
    if (this.buffer.length > 0) return doneFuture(this._takeBuffered(owner, loop), loop);
    if (this.closed) return failedFuture(this.closedError("getNowait()"), loop);
    const result = new ResultOp<T>(loop, `queue.getNowait ${this.name}`);
    result.inFlight = true;
    this.fetch(1, null).then(
      (raw) => {
        result.inFlight = false;
        const entries = this.decodeAll(raw);
        const entry = entries[0];
        if (entry === undefined) {
          result._fail(
            this.shutdownState !== 0
              ? this.shutDownError("getNowait()")
              : new QueueEmpty("getNowait() on an empty queue: await get() to wait for an item"),
          );
          return;
        }
        this.buffer.push(entry);
        if (result._state !== PENDING) {
          this.scheduleReconcile();
          return;
        }
        result._completeWith(this._takeBuffered(owner, loop));
      },
      (error: unknown) => {
        result.inFlight = false;
        result._fail(this.commandError("getNowait()", error));
      },
    );
    return result;
  }

  /** @internal Hands the oldest fetched entry to `owner`; only called when the buffer is not empty. */
  _takeBuffered(owner: Owner, loop: LoopImpl): T {
    const entry = this.buffer.shift() as Entry<T>;
    // Demand counts fetched entries as covering getters; one taken may leave a getter uncovered.
    this._kick();
    this.held.set(entry.id, { ...entry, owner });
    let ids = this.heldBy.get(owner);
    if (ids === undefined) {
      ids = [];
      this.heldBy.set(owner, ids);
    }
    ids.push(entry.id);
    if (loop.trace !== null) {
      this.trace(loop, "queue-get", (owner as { id?: number } | null)?.id ?? null, this.buffer.length);
    }
    return entry.item;
  }

  /** @internal True when a fetched entry waits for a getter. */
  _hasBuffered(): boolean {
    return this.buffer.length > 0;
  }

  /** @internal The error a getter gets when nothing more will come, or null. */
  _getEndError(): Error | null {
    if (this.closed) return this.closedError("get()");
    if (this.shutdownState === 2) return this.shutDownError("get()");
    return null;
  }

  /** @internal A woken getter left without taking: the next one gets its turn, or the item goes back. */
  _passOn(): void {
    if (this.buffer.length === 0) return;
    if (!this._getters.wakeOne()) this.scheduleReconcile();
  }

  /** Local demand: idle getters not yet covered by fetched entries. */
  private demand(): number {
    return this._getters.idleCount() - this.buffer.length;
  }

  /** @internal Wakes the reader if it sleeps for lack of demand. */
  _kick(): void {
    const wake = this.demandWake;
    if (wake !== null) {
      this.demandWake = null;
      wake();
    }
  }

  /** Asks the reader's connection for its id (ahead of any read queued on it). */
  private askReaderId(): Promise<void> {
    this.readerId = null;
    return this.reader.sendCommand<number>(["CLIENT", "ID"], { asap: true }).then(
      (id) => {
        this.readerId = id;
      },
      () => {
        // Lost again: the next "ready" asks again.
      },
    );
  }

  /** Ends a blocking read now (CLIENT UNBLOCK from the command connection), so the reader looks again. */
  private interruptRead(): void {
    if (!this.readerBlocked || this.readerId === null) return;
    this.commands.sendCommand(["CLIENT", "UNBLOCK", String(this.readerId)]).catch(() => {});
  }

  private async readLoop(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      if (this.demand() <= 0) {
        await new Promise<void>((resolve) => {
          this.demandWake = resolve;
        });
        // The first new getter woke us; the others of this turn (a batch of workers that each
        // finished an item) come in the same macrotask: one read for all of them.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      try {
        const want = Math.max(1, this.demand());
        const shutting = this.shutdownState !== 0;
        const raw = await this.fetch(want, shutting ? null : this.blockMs);
        failures = 0;
        if (raw.length === 0) {
          if (shutting) this.failIdleGetters(this.shutDownError("get()"));
          else await this.refreshShutdownState();
          continue;
        }
        this.deliver(this.decodeAll(raw));
      } catch (error) {
        if (this.closed) break;
        if (isNoGroup(error)) {
          this.groupGone(error);
          await this.recreating;
          continue;
        }
        failures++;
        await delay(Math.min(50 * 2 ** failures, 1000));
      }
    }
  }

  /**
   * One look for entries: those idle past the visibility timeout first (when a claim is due or an
   * entry was given back), then new ones, blocking up to `block` ms (null: not at all).
   */
  private async fetch(want: number, block: number | null): Promise<RawEntry[]> {
    const now = Date.now();
    if (this.releaseHint || now - this.lastClaim >= Math.min(this.visibilityMs / 4, 1000) || block === null) {
      this.releaseHint = false;
      this.lastClaim = now;
      const claimed = await this.eval(
        CLAIM,
        [this.keys.stream, this.keys.dead, this.keys.errors, this.keys.channel],
        [GROUP, this.consumer, String(this.visibilityMs), String(want), String(this.maxDeliveries)],
      );
      const entries = (claimed as [string, string, number][]).map(([id, payload, deliveries]) => ({
        id,
        payload,
        deliveries: Number(deliveries),
      }));
      if (entries.length > 0) {
        // As many as asked for: there may be more to take over, so the next look claims again
        // at once (not after the claim interval: a dead worker's items come back in one go).
        if (entries.length >= want) this.releaseHint = true;
        return entries;
      }
    }
    const args = ["XREADGROUP", "GROUP", GROUP, this.consumer, "COUNT", String(want)];
    if (block !== null) args.push("BLOCK", String(block));
    args.push("STREAMS", this.keys.stream, ">");
    let reply: unknown;
    if (block === null) {
      reply = await this.commands.sendCommand(args, { read: true });
    } else {
      // The read is always awaited to its end: a read abandoned while queued offline would be
      // sent on reconnection, and the entries it then took would wait (pending for this
      // consumer, in no one's hands) for the visibility timeout.
      this.readerBlocked = true;
      try {
        reply = await this.reader.sendCommand(args, { block });
      } finally {
        this.readerBlocked = false;
      }
    }
    const entries = parseRead(reply);
    if (entries.length > 0 && this.maxsize > 0) {
      this.commands.sendCommand(["PUBLISH", this.keys.channel, "space"]).catch(() => {});
    }
    return entries;
  }

  private decodeAll(raw: RawEntry[]): Entry<T>[] {
    const out: Entry<T>[] = [];
    for (const r of raw) {
      let item: T;
      try {
        item = this.codec.decode(r.payload);
      } catch (error) {
        this.eval(
          DEAD_LETTER,
          [this.keys.stream, this.keys.dead, this.keys.errors, this.keys.channel],
          [GROUP, r.id, r.payload, String(r.deliveries), `the codec cannot decode it: ${errorMessage(error)}`],
        ).catch((e: unknown) => this.onError(this.commandError("dead-lettering", e)));
        continue;
      }
      out.push({ id: r.id, item, deliveries: r.deliveries });
    }
    return out;
  }

  /** Entries arrived: wake as many local getters; what none takes goes back (reconcile). */
  private deliver(entries: Entry<T>[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.buffer.push(e);
    this._getters.wake(this.buffer.length);
    this.scheduleReconcile();
  }

  /**
   * After woken getters have settled: entries nobody took (their getters were withdrawn) go to
   * idle getters, or back to the group so another process can take them at once.
   */
  private scheduleReconcile(): void {
    if (this.reconcileScheduled) return;
    this.reconcileScheduled = true;
    setImmediate(() => {
      this.reconcileScheduled = false;
      if (this.buffer.length === 0) return;
      if (this._getters.anyWoken()) {
        this.scheduleReconcile();
        return;
      }
      const idle = this._getters.idleCount();
      if (idle > 0) {
        this._getters.wake(Math.min(idle, this.buffer.length));
        if (this.buffer.length > idle) this.scheduleReconcile();
        return;
      }
      const back = this.buffer.splice(0);
      void this.release(back, true);
    });
  }

  /** Gives entries back to the group, idle past the visibility timeout so anyone takes them at once. */
  private release(entries: readonly Entry<T>[], undelivered: boolean, error = ""): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    const args = [GROUP, this.consumer, String(this.visibilityMs + 3_600_000), error];
    for (const e of entries) {
      args.push(e.id, String(undelivered ? Math.max(0, e.deliveries - 1) : e.deliveries));
    }
    return this.eval(RELEASE, [this.keys.stream, this.keys.errors, this.keys.channel], args).then(
      () => {
        // Our own reader may take them at once too, without waiting for the pub/sub message.
        this.releaseHint = true;
        if (this.demand() > 0) this.interruptRead();
      },
      (e: unknown) => {
        // Not lost: the entries stay pending and are taken over after the visibility timeout.
        this.onError(this.commandError("giving items back", e, "they return after visibilityTimeout"));
      },
    );
  }

  private failIdleGetters(error: Error): void {
    this._getters.failAll(() => error);
  }

  private async refreshShutdownState(): Promise<void> {
    const state = await this.commands.sendCommand<string | null>(["HGET", this.keys.meta, "shutdown"]);
    if (state === "1" || state === "2") this.applyShutdown(state === "2");
  }

  // -------------------------------------------------------------------------------------------
  // Finishing

  /**
   * Acknowledges the item the calling task got (asyncio's `task_done`: `x = await q.get(); …;
   * q.taskDone()`): it is deleted from the stream, in one script, and never delivered again.
   * Outside a task, or from a task that holds no item, the oldest item this process holds is
   * acknowledged. Returns a future done when the server confirmed (acknowledgements made in one go
   * are sent together; one that fails for a lost connection is retried).
   *
   * Throws {@link InvalidStateError} when this process holds no item.
   */
  taskDone(): Future<void> {
    const loop = this.waitLoop();
    const id = this.nextHeld("taskDone()");
    const done = new ResultOp<void>(loop, `queue.taskDone ${this.name}`);
    done.inFlight = true;
    this.acking.push({ id, done });
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      // After the macrotask, not the microtask: getters woken by one read all run their
      // taskDone() in this turn of the event loop, and their acknowledgements go as one script.
      setImmediate(() => {
        this.flushAcks();
      });
    }
    return done;
  }

  /**
   * Gives the item the calling task got back to the group at once, recording `error` as its last
   * error: it is delivered again (to any process) until it was delivered `maxDeliveries` times,
   * then moved to the dead-letter stream with that error. Not in asyncio (whose queue has no
   * notion of failure); for a job that failed and should be retried elsewhere. Throws
   * {@link InvalidStateError} when this process holds no item.
   *
   * @example
   * const job = await queue.get();
   * try { await handle(job); await queue.taskDone(); } catch (e) { await queue.taskFailed(e); }
   */
  taskFailed(error: unknown): Future<void> {
    const loop = this.waitLoop();
    const id = this.nextHeld("taskFailed()");
    const entry = this.held.get(id) as Entry<T>;
    const done = new ResultOp<void>(loop, `queue.taskFailed ${this.name}`);
    done.inFlight = true;
    void this.release([entry], false, errorMessage(error) || "failed").then(() => {
      this.held.delete(id);
      done.inFlight = false;
      done._completeWith(undefined);
    });
    return done;
  }

  /** The id of the item the calling task got first (else the oldest this process holds), now let go. */
  private nextHeld(what: string): string {
    const owner = currentTask() ?? null;
    let key: Owner = owner;
    let ids = this.heldBy.get(owner);
    if (ids === undefined || ids.length === 0) {
      const oldest = this.oldestHeld();
      if (oldest === null) {
        throw new InvalidStateError(
          `RedisQueue.${what} called more times than items were taken in this process (queue ${JSON.stringify(this.name)}): call it once per item received from get()`,
        );
      }
      key = oldest.owner;
      ids = this.heldBy.get(key) as string[];
    }
    const id = ids.shift() as string;
    if (ids.length === 0) this.heldBy.delete(key);
    return id;
  }

  private oldestHeld(): { owner: Owner } | null {
    for (const entry of this.held.values()) {
      const ids = this.heldBy.get(entry.owner);
      if (ids !== undefined && ids.length > 0) return entry;
    }
    return null;
  }

  private flushAcks(attempt = 0): void {
    this.ackScheduled = false;
    const batch = this.acking.splice(0);
    if (batch.length === 0) return;
    const ids = batch.map((a) => a.id);
    this.eval(ACK, [this.keys.stream, this.keys.errors, this.keys.channel], [GROUP, ...ids]).then(
      () => {
        for (const a of batch) {
          this.held.delete(a.id);
          a.done.inFlight = false;
          a.done._completeWith(undefined);
        }
      },
      (error: unknown) => {
        if (this.closed || attempt >= 20) {
          for (const a of batch) {
            this.held.delete(a.id);
            a.done.inFlight = false;
            a.done._fail(this.commandError("taskDone()", error, "the item will be delivered again"));
          }
          return;
        }
        // Acknowledging twice is harmless: retry until the server is back.
        this.acking.unshift(...batch);
        setTimeout(() => this.flushAcks(attempt + 1), Math.min(50 * 2 ** attempt, 1000)).unref();
      },
    );
  }

  /** The heartbeat: resets the idle time of the items this process holds, so nobody takes them over. */
  private beat(): void {
    if (this.closed || this.held.size === 0) return;
    const ids = [...this.held.keys()];
    this.eval(HEARTBEAT, [this.keys.stream], [GROUP, this.consumer, ...ids]).catch(() => {
      // A missed beat is retried on the next one; the visibility timeout is three beats long.
    });
  }

  /**
   * Waits until every item put into the queue, by any process, was acknowledged (or discarded by
   * an immediate shutdown, or moved to the dead-letter stream): the stream is empty. Woken by a
   * "drained" message, with polling as a fallback. Cancellable; `{ signal }` as for `get`.
   */
  join(options?: SignalOptions): Future<void> {
    const signal = signalOf(options, "RedisQueue.join()");
    const loop = this.waitLoop();
    if (signal?.aborted) return failedFuture(signal.reason, loop);
    const op = new PutOp(loop, `queue.join ${this.name}`);
    if (signal !== undefined) op._watch(signal);
    const look = (): void => {
      if (op._state !== PENDING) return;
      this.commands.sendCommand<number>(["XLEN", this.keys.stream]).then(
        (length) => {
          if (op._state !== PENDING) return;
          if (length === 0) {
            op._withdraw = null;
            op._complete();
            return;
          }
          let timer: NodeJS.Timeout | null = null;
          const wake = (): void => {
            this.drainWaiters.delete(wake);
            if (timer !== null) clearTimeout(timer);
            look();
          };
          timer = setTimeout(wake, JOIN_POLL_MS);
          this.drainWaiters.add(wake);
          op._withdraw = () => {
            this.drainWaiters.delete(wake);
            if (timer !== null) clearTimeout(timer);
          };
        },
        (error: unknown) => {
          if (this.closed) op._fail(this.closedError("join()"));
          else setTimeout(look, JOIN_POLL_MS).unref();
          void error;
        },
      );
    };
    look();
    return op;
  }

  /**
   * Shuts the queue down for every process (Python 3.13's `shutdown`): puts fail with
   * {@link QueueShutDown} from now on, waiting putters are released with it; getters take what is
   * left and then fail with it. With `immediate`, the entries not yet delivered are deleted
   * (counting as done for `join`) and every getter fails now. Every process hears it within
   * milliseconds (pub/sub), at worst within a second (its reader checks the meta hash).
   */
  shutdown(immediate = false): Future<void> {
    const loop = this.waitLoop();
    const op = new ResultOp<void>(loop, `queue.shutdown ${this.name}`);
    op.inFlight = true;
    this.eval(SHUTDOWN, [this.keys.stream, this.keys.meta, this.keys.channel], [GROUP, immediate ? "1" : "0"]).then(
      () => {
        op.inFlight = false;
        this.applyShutdown(immediate);
        op._completeWith(undefined);
      },
      (error: unknown) => {
        op.inFlight = false;
        op._fail(this.commandError("shutdown()", error));
      },
    );
    return op;
  }

  /** True once this process knows the queue was shut down. */
  get isShutDown(): boolean {
    return this.shutdownState !== 0;
  }

  private applyShutdown(immediate: boolean): void {
    const state = immediate ? 2 : 1;
    if (this.shutdownState >= state) return;
    this.shutdownState = state;
    for (const wake of [...this.spaceWaiters]) wake(); // they retry, and fail with QueueShutDown
    if (immediate) {
      // Discarded, as asyncio's immediate shutdown discards the items left (they count as done).
      const dropped = this.buffer.splice(0);
      if (dropped.length > 0) {
        this.eval(
          ACK,
          [this.keys.stream, this.keys.errors, this.keys.channel],
          [GROUP, ...dropped.map((e) => e.id)],
        ).catch(() => {});
      }
      this.failIdleGetters(this.shutDownError("get()"));
    }
    this.interruptRead();
  }

  private onEvent(message: string): void {
    if (message === "space") {
      for (const wake of [...this.spaceWaiters]) wake();
    } else if (message === "drained") {
      for (const wake of [...this.drainWaiters]) wake();
    } else if (message === "release") {
      this.releaseHint = true;
      if (this.demand() > 0) this.interruptRead();
    } else if (message === "shutdown:1" || message === "shutdown:2") {
      this.applyShutdown(message === "shutdown:2");
    }
  }

  // -------------------------------------------------------------------------------------------
  // Size

  /** Entries put and not yet delivered to any consumer (asyncio's qsize: items not yet taken). */
  qsize(): Future<number> {
    return this.query<number>("qsize()", this.eval(SIZE, [this.keys.stream], [GROUP]) as Promise<number>);
  }

  /** True when no entry waits for delivery. */
  empty(): Future<boolean> {
    return this.query(
      "empty()",
      this.eval(SIZE, [this.keys.stream], [GROUP]).then((n) => Number(n) === 0),
    );
  }

  /** True when qsize is at least maxsize; never for an unbounded queue. */
  full(): Future<boolean> {
    return this.query(
      "full()",
      this.eval(SIZE, [this.keys.stream], [GROUP]).then((n) => this.maxsize > 0 && Number(n) >= this.maxsize),
    );
  }

  /** The dead-letter stream's entries: `{ id, item data, deliveries, error }`, oldest first. */
  deadLetters(count = 100): Future<{ id: string; data: string; deliveries: number; error: string }[]> {
    return this.query(
      "deadLetters()",
      this.commands.sendCommand(["XRANGE", this.keys.dead, "-", "+", "COUNT", String(count)]).then((reply) =>
        (reply as unknown as [string, string[]][]).map(([, fields]) => {
          const f: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
          return { id: f.id ?? "", data: f.d ?? "", deliveries: Number(f.deliveries ?? 0), error: f.error ?? "" };
        }),
      ),
    );
  }

  private query<R>(what: string, promise: Promise<R>): Future<R> {
    const op = new ResultOp<R>(this.waitLoop(), `queue.${what} ${this.name}`);
    promise.then(
      (value) => op._completeWith(value),
      (error: unknown) => op._fail(this.commandError(what, error)),
    );
    return op;
  }

  // -------------------------------------------------------------------------------------------
  // Iteration and closing

  /**
   * Iterates with `get()`, ending once the queue is shut down and drained. Does not call
   * `taskDone()`: call it after handling each item.
   *
   * @example
   * for await (const job of queue) { await handle(job); queue.taskDone(); }
   */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return itemsUntilShutdown(() => this.get());
  }

  /**
   * Leaves the queue (this process only; the queue lives on in Redis): waiting gets, puts and
   * joins fail with {@link RedisQueueError}, the blocking read is ended, items fetched but not
   * handed out and items handed out but not acknowledged go back to the group at once, pending
   * acknowledgements are sent, and the connections close. Never hangs: a server that does not
   * answer within the command timeout has its connections destroyed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    // Pending acknowledgements first: they are work done.
    await this.waitAcks();
    this.closed = true;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    const error = this.closedError("get()");
    this.failIdleGetters(error);
    for (const wake of [...this.spaceWaiters]) wake();
    for (const wake of [...this.drainWaiters]) wake();
    this._kick();
    this.interruptRead();
    const bounded = <R>(p: Promise<R>): Promise<R | undefined> =>
      Promise.race([p, delay(this.commandMs + 100).then(() => undefined)]);
    await bounded(this.readerLoop ?? Promise.resolve());
    const back = this.buffer.splice(0);
    const held = [...this.held.values()];
    this.held.clear();
    this.heldBy.clear();
    await bounded(Promise.all([this.release(back, true), this.release(held, false)]));
    for (const client of [this.subscriber, this.reader.client, this.commands.client]) {
      await bounded(client.close().catch(() => {}));
      try {
        client.destroy();
      } catch {
        // closed already
      }
    }
  }

  /** `await using queue = await RedisQueue.connect(...)` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async waitAcks(): Promise<void> {
    const pending = this.acking.map((a) => a.done);
    for (const done of pending) {
      await new Promise<void>((resolve) => {
        done._onDone(() => resolve());
      });
    }
  }

  toString(): string {
    return `RedisQueue(${JSON.stringify(this.name)}, maxsize=${this.maxsize}, consumer=${this.consumer}, fetched=${this.buffer.length}, held=${this.held.size}, getters=${this._getters.idleCount()}${this.shutdownState ? ", shut down" : ""})`;
  }

  // -------------------------------------------------------------------------------------------
  // Plumbing

  private eval(script: Script, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    return this.commands.sendCommand(["EVALSHA", script.sha, ...tail]).catch((error: unknown) => {
      // NOSCRIPT: the script did not run, so running it again is safe. The server forgot the
      // scripts (SCRIPT FLUSH, a restart): every call in flight shares one reload, then retries;
      // should they be forgotten again meanwhile, the retry sends the whole script.
      if (!errorMessage(error).includes("NOSCRIPT")) throw error;
      return this.loadScripts().then(() =>
        this.commands.sendCommand(["EVALSHA", script.sha, ...tail]).catch((again: unknown) => {
          if (!errorMessage(again).includes("NOSCRIPT")) throw again;
          return this.commands.sendCommand(["EVAL", script.source, ...tail]);
        }),
      );
    });
  }

  /** Loads every script (one round trip, ahead of commands queued meanwhile); shared while under way. */
  private loadScripts(): Promise<void> {
    if (this.scriptsLoading === null) {
      this.scriptsLoading = RedisQueue.loadScripts(this.commands).finally(() => {
        this.scriptsLoading = null;
      });
    }
    return this.scriptsLoading;
  }

  private static loadScripts(commands: Link): Promise<void> {
    return Promise.all(SCRIPTS.map((s) => commands.sendCommand(["SCRIPT", "LOAD", s.source], { asap: true }))).then(
      () => {},
      () => {
        // Not loaded (the connection dropped, or SCRIPT is forbidden): EVALSHA says so, and EVAL goes on.
      },
    );
  }

  /** The caller's loop: each operation belongs to the loop that started it (nothing is bound). */
  private waitLoop(): LoopImpl {
    return runningLoop();
  }

  private trace(loop: LoopImpl, type: "queue-put" | "queue-get", task: number | null, size: number): void {
    loop.trace?.event({ type, time: loop.time(), task, queue: this.name, size });
  }

  private shutDownError(what: string): QueueShutDown {
    return new QueueShutDown(
      what.startsWith("get")
        ? `${what} on RedisQueue ${JSON.stringify(this.name)}, which was shut down and is empty: stop consuming`
        : `${what} on RedisQueue ${JSON.stringify(this.name)}, which was shut down: stop producing`,
    );
  }

  private closedError(what: string): RedisQueueError {
    return new RedisQueueError(
      `RedisQueue.${what} on ${JSON.stringify(this.name)} after close() in this process: connect again (RedisQueue.connect) to go on using the queue`,
    );
  }

  private commandError(what: string, error: unknown, consequence?: string): RedisQueueError {
    if (error instanceof RedisQueueError) return error;
    if (isNoGroup(error)) return this.groupGone(error, what);
    let reason: string;
    if (error instanceof RedisTimeoutError) {
      reason = `no answer within the command timeout (${this.commandMs / 1000} s): the connection is down or the server is overloaded`;
    } else if (error instanceof ErrorReply) {
      reason = `the server answered ${JSON.stringify(error.message)}`;
    } else {
      reason = `${errorMessage(error)} (the connection is down: it reconnects by itself)`;
    }
    const tail = consequence === undefined ? "" : `; ${consequence}`;
    return new RedisQueueError(`RedisQueue ${JSON.stringify(this.name)} ${what} failed: ${reason}${tail}`, {
      cause: error,
    });
  }
}

/** Parses an XREADGROUP reply (RESP2): `[[stream, [[id, [field, value, ...]], ...]]]` or null. */
function parseRead(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply)) return [];
  const out: RawEntry[] = [];
  for (const stream of reply as [string, [string, string[] | null][]][]) {
    for (const [id, fields] of stream[1]) {
      if (fields === null) continue;
      out.push({ id, payload: fields[1] ?? "", deliveries: 1 });
    }
  }
  return out;
}

/**
 * A future completed by a server's answer. While the answer is on its way it refuses
 * cancellation (the operation happens either way): the awaiting task gets the outcome and the
 * cancellation lands at its next await. @internal
 */
class ResultOp<T> extends Future<T> {
  inFlight = false;
  private cancelPending: { message: unknown } | null = null;

  constructor(loop: LoopImpl, label: string) {
    super(loop);
    this._label = label;
  }

  override cancel(message?: unknown): boolean {
    if (this._state !== PENDING) return super.cancel(message);
    if (this.inFlight) {
      this.cancelPending = { message };
      return false;
    }
    return super.cancel(message);
  }

  /** @internal Done with `value`, a result the task keeps even if it was cancelled meanwhile. */
  _completeWith(value: T): void {
    if (this._state !== PENDING) return;
    this._keepsResult = true;
    this._resolve(value);
  }

  /** @internal */
  _fail(error: unknown): void {
    if (this._state !== PENDING) return;
    this._reject(error);
  }

  /** @internal A cancellation refused while in flight: carry it out now. Returns whether there was one. */
  _takeCancel(): boolean {
    const pending = this.cancelPending;
    if (pending === null) return false;
    this.cancelPending = null;
    super.cancel(pending.message);
    return true;
  }
}

/** A put (or join) that may wait between round trips: withdrawn when cancelled while waiting. @internal */
class PutOp extends ResultOp<void> {
  /** Stops the current wait (for space, for a drained stream); null while none. */
  _withdraw: (() => void) | null = null;
  private signal: AbortSignal | undefined;
  private onAbort: (() => void) | undefined;

  override cancel(message?: unknown): boolean {
    if (this._state === PENDING && !this.inFlight) this.stopWaiting();
    return super.cancel(message);
  }

  /** @internal Rejects with `signal.reason` when it aborts (if not in flight; else after the answer). */
  _watch(signal: AbortSignal): void {
    this.signal = signal;
    this.onAbort = () => {
      if (this._state !== PENDING) return;
      if (this.inFlight) {
        this.cancel(signal.reason);
        return;
      }
      this.stopWaiting();
      this._reject(signal.reason);
    };
    signal.addEventListener("abort", this.onAbort, { once: true });
    this._onDone(() => this.detach());
  }

  /** @internal */
  _complete(): void {
    this._completeWith(undefined);
  }

  private stopWaiting(): void {
    const withdraw = this._withdraw;
    this._withdraw = null;
    withdraw?.();
  }

  private detach(): void {
    if (this.signal !== undefined && this.onAbort !== undefined) {
      this.signal.removeEventListener("abort", this.onAbort);
    }
    this.signal = undefined;
    this.onAbort = undefined;
  }
}

/** A get parked until the reader fetches an entry for it. @internal */
class GetOp<T> extends Parked<T> {
  constructor(
    loop: LoopImpl,
    label: string,
    private readonly queue: RedisQueue<T>,
  ) {
    super(loop, label);
  }

  _take(): boolean {
    const queue = this.queue;
    if (queue._hasBuffered()) {
      const task = this._awaitingTask();
      this._grant(queue._takeBuffered((task as object | null) ?? null, this._loop));
      return true;
    }
    const end = queue._getEndError();
    if (end !== null) {
      this._failWith(end);
      return true;
    }
    queue._kick();
    return false;
  }

  override _passOn(): void {
    this.queue._passOn();
  }
}
