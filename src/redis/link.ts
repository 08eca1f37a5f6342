/**
 * One connection of {@link RedisQueue} with its command timeout kept by one watchdog, not by
 * node-redis: node-redis 6 creates an `AbortSignal.timeout()` (a timer and a signal the GC must
 * track) per command when a command timeout is set, which cost about 40% of a pipelined
 * producer's CPU — and that timeout only covers a command until it is written (node-redis drops
 * it then), so a server that stalls with commands written never failed them.
 *
 * The clients are created with `commandOptions: { timeout: 0 }`. When commands are outstanding
 * and no reply came for the timeout (plus the block time of a blocking read in flight), the
 * watchdog fails them all, each with node-redis's `TimeoutError`:
 * - those not written yet (the connection is down: node-redis queues them offline) are aborted
 *   through the `abortSignal` of their cohort (up to {@link COHORT} commands share one controller);
 * - those written are failed by destroying the socket (through the `signal` that node-redis
 *   passes on to `net.createConnection`): node-redis fails what waits for a reply and reconnects,
 *   and a server that was only stalled answers the next commands on the new connection.
 */
import { setMaxListeners } from "node:events";
import type { createClient } from "redis";
import { TimeoutError as RedisTimeoutError } from "redis";

/** @internal */
export type Client = ReturnType<
  typeof createClient<Record<string, never>, Record<string, never>, Record<string, never>, 2>
>;

/**
 * Commands sharing one AbortController: few enough that adding a listener (Node walks the
 * signal's listeners) stays cheap, many enough that controllers are rare.
 */
const COHORT = 64;

interface Cohort {
  readonly controller: AbortController;
  sent: number;
  pending: number;
  /** The watchdog failed its commands: whatever error they get is the timeout. */
  tripped: boolean;
}

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

/** @internal */
export class Link {
  private pending = 0;
  private blocking = 0;
  private blockMs = 0;
  /** When the last reply came (or the first command went out after a quiet spell). */
  private lastProgress = 0;
  private timer: NodeJS.Timeout | null = null;
  private cohort: Cohort | null = null;
  /** Cohorts with commands outstanding. */
  private readonly live = new Set<Cohort>();
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
   * on top of the timeout. `asap`: ahead of the commands not written yet.
   */
  sendCommand<R = unknown>(args: readonly string[], options?: { block?: number; asap?: boolean }): Promise<R> {
    let cohort = this.cohort;
    if (cohort === null || cohort.sent >= COHORT) {
      const controller = new AbortController();
      setMaxListeners(COHORT + 1, controller.signal);
      cohort = { controller, sent: 0, pending: 0, tripped: false };
      this.cohort = cohort;
      this.live.add(cohort);
    }
    cohort.sent++;
    cohort.pending++;
    if (this.pending++ === 0) this.lastProgress = Date.now();
    const block = options?.block ?? 0;
    if (block > 0) {
      this.blocking++;
      this.blockMs = block;
    }
    this.arm();
    const sent = this.client.sendCommand(args, {
      abortSignal: cohort.controller.signal,
      ...(options?.asap === true ? { asap: true } : {}),
    }) as Promise<R>;
    const c = cohort;
    return sent.then(
      (reply) => {
        this.settle(c, block);
        return reply;
      },
      (error: unknown) => {
        this.settle(c, block);
        if (c.tripped) throw new RedisTimeoutError();
        throw error;
      },
    );
  }

  on(event: "ready" | "error" | "end", listener: (...args: unknown[]) => void): void {
    this.client.on(event, listener);
  }

  private settle(cohort: Cohort, block: number): void {
    this.pending--;
    this.lastProgress = Date.now();
    if (block > 0) this.blocking--;
    if (--cohort.pending === 0 && cohort !== this.cohort) this.live.delete(cohort);
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
    if (this.pending === 0) return;
    if (Date.now() >= this.lastProgress + this.allowance()) this.trip();
    else this.arm();
  }

  /** No answer for too long: every command outstanding fails now. */
  private trip(): void {
    const cohorts = [...this.live];
    this.live.clear();
    this.cohort = null;
    this.lastProgress = Date.now();
    for (const cohort of cohorts) cohort.tripped = true;
    // Those not written yet (queued offline, or behind the written ones)...
    for (const cohort of cohorts) cohort.controller.abort();
    // ...and those written, waiting for a reply: a ready connection that answers nothing is dropped.
    if (this.clientOf?.isReady === true) {
      this.socketSignal.kill(new Error(`no answer within the command timeout (${this.timeoutMs / 1000} s)`));
    }
  }
}
