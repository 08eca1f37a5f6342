/**
 * One connection of {@link RedisQueue} with its command timeout kept by one watchdog, not by
 * node-redis: node-redis 6 creates an `AbortSignal.timeout()` (a timer and a signal the GC must
 * track) per command when a command timeout is set, which cost about 40% of a pipelined
 * producer's CPU — and that timeout only covers a command until it is written (node-redis drops
 * it then), so a server that stalls with commands written never failed them.
 *
 * The clients are created with `commandOptions: { timeout: 0 }`. When commands are outstanding
 * and no reply came for the timeout (plus the block time of a blocking read in flight), the
 * watchdog fails them all at once, each with node-redis's `TimeoutError` (each command has a
 * promise of the Link's own, settled by the reply or by the watchdog, whichever comes first), and:
 * - drops those not written yet, so they are never sent: the commands sent while the connection
 *   is down (node-redis queues them offline) and every read carry the `abortSignal` of one shared
 *   controller. Other commands carry none (a listener per command is most of its cost): sent on a
 *   ready connection, they are written within the event-loop turn;
 * - destroys the socket when it is up (through the `signal` that node-redis passes on to
 *   `net.createConnection`): node-redis fails what waited for a reply and reconnects, and a server
 *   that was only stalled answers the next commands on the new connection.
 */
import { setMaxListeners } from "node:events";
import type { createClient } from "redis";
import { TimeoutError as RedisTimeoutError } from "redis";

/** @internal */
export type Client = ReturnType<
  typeof createClient<Record<string, never>, Record<string, never>, Record<string, never>, 2>
>;

/**
 * What `net.Socket` takes as its `signal` option, for every socket node-redis creates on this
 * connection (it spreads the socket options once): each `kill()` destroys the current socket,
 * and the next one starts with a fresh controller. @internal
 */
class SocketSignal {
  private controller = new AbortController();

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  get reason(): unknown {
    return this.controller.signal.reason;
  }

  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void {
    this.controller.signal.addEventListener(type, listener, options);
  }

  removeEventListener(type: string, listener: () => void): void {
    this.controller.signal.removeEventListener(type, listener);
  }

  kill(reason: Error): void {
    const old = this.controller;
    old.abort(reason); // the socket's listener reads `reason` now, from the old controller
    this.controller = new AbortController();
  }
}

/** A command in flight: settled once, by its reply or by the watchdog. */
interface Outstanding {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  readonly block: number;
  settled: boolean;
}

/** @internal */
export class Link {
  private readonly outstanding = new Set<Outstanding>();
  private blocking = 0;
  private blockMs = 0;
  /** When the last reply came (or the first command went out after a quiet spell). */
  private lastProgress = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The signal of the commands that must never be sent once the watchdog failed them. */
  private abortable: AbortController | null = null;
  private readonly socketSignal = new SocketSignal();
  private clientOf: Client | null = null;

  constructor(private readonly timeoutMs: number) {}

  /** The `signal` to give node-redis's socket options, so the watchdog can destroy the socket. */
  get signal(): AbortSignal {
    return this.socketSignal as unknown as AbortSignal;
  }

  get client(): Client {
    if (this.clientOf === null) throw new Error("Link used before attach()");
    return this.clientOf;
  }

  attach(client: Client): void {
    this.clientOf = client;
  }

  /**
   * Sends a command. `block`: the ms a blocking command may legitimately wait for its answer,
   * on top of the timeout. `read`: a read (it takes entries: it must not be sent after it
   * failed). `asap`: ahead of the commands not written yet.
   */
  sendCommand<R = unknown>(
    args: readonly string[],
    options?: { block?: number; read?: boolean; asap?: boolean },
  ): Promise<R> {
    const client = this.client;
    const block = options?.block ?? 0;
    let commandOptions: { abortSignal?: AbortSignal; asap?: boolean } | undefined;
    if (!client.isReady || block > 0 || options?.read === true) {
      if (this.abortable === null) {
        this.abortable = new AbortController();
        setMaxListeners(0, this.abortable.signal);
      }
      commandOptions = { abortSignal: this.abortable.signal };
    }
    if (options?.asap === true) commandOptions = { ...commandOptions, asap: true };
    if (this.outstanding.size === 0) this.lastProgress = Date.now();
    if (block > 0) {
      this.blocking++;
      this.blockMs = block;
    }
    return new Promise<R>((resolve, reject) => {
      const entry: Outstanding = { resolve: resolve as (value: unknown) => void, reject, block, settled: false };
      this.outstanding.add(entry);
      this.arm();
      client.sendCommand(args, commandOptions).then(
        (reply) => {
          if (this.settle(entry)) resolve(reply as R);
        },
        (error: unknown) => {
          if (this.settle(entry)) reject(error);
        },
      );
    });
  }

  on(event: "ready" | "error" | "end", listener: (...args: unknown[]) => void): void {
    this.client.on(event, listener);
  }

  /** A reply (or a failure) came: true if the watchdog had not failed the command already. */
  private settle(entry: Outstanding): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    this.outstanding.delete(entry);
    this.lastProgress = Date.now();
    if (entry.block > 0) this.blocking--;
    return true;
  }

  private allowance(): number {
    return this.timeoutMs + (this.blocking > 0 ? this.blockMs : 0);
  }

  private arm(): void {
    if (this.timer !== null) return;
    const wait = Math.max(1, this.lastProgress + this.allowance() - Date.now());
    this.timer = setTimeout(() => this.check(), wait);
    this.timer.unref();
  }

  private check(): void {
    this.timer = null;
    if (this.outstanding.size === 0) return;
    if (Date.now() >= this.lastProgress + this.allowance()) this.trip();
    else this.arm();
  }

  /** No answer for too long: every command outstanding fails now. */
  private trip(): void {
    const failed = [...this.outstanding];
    this.outstanding.clear();
    this.blocking = 0;
    this.lastProgress = Date.now();
    // Those that must not be sent any more are dropped from node-redis's queue...
    const abortable = this.abortable;
    this.abortable = null;
    abortable?.abort();
    // ...a ready connection that answers nothing is dropped (node-redis reconnects)...
    if (this.clientOf?.isReady === true) {
      this.socketSignal.kill(new Error(`no answer within the command timeout (${this.timeoutMs / 1000} s)`));
    }
    // ...and each caller hears of the timeout now, whatever node-redis answers later.
    for (const entry of failed) {
      entry.settled = true;
      entry.reject(new RedisTimeoutError());
    }
  }
}
