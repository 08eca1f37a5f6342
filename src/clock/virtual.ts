import { AsyncResource } from "node:async_hooks";
import { type DeadlockedTask, describe } from "../errors.js";
import { shuffleRange } from "../internal/prng.js";
import type { TraceSink } from "../internal/sink.js";
import type { Clock, TimerHandle } from "./clock.js";
import { DUE, FINISHED, TimerEntry, TimerHeap } from "./heap.js";

/** Options of {@link VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * Virtual time at which the clock starts, in seconds.
   * @default 0
   */
  start?: number;
  /**
   * Real seconds the program must stay idle before the clock jumps (Trio's
   * `autojump_threshold`). With `0` the clock jumps as soon as the microtask queue drains, so a
   * task awaiting a socket sees virtual time race ahead; with, say, `0.05` it jumps only after
   * 50 ms of real time in which the loop ran nothing and no timer was scheduled or cancelled,
   * which gives real I/O the time to answer. Each jump then costs that much real time.
   * @default 0
   * @example
   * await run(main, { clock: new VirtualClock({ autojumpThreshold: 0.05 }) })
   */
  autojumpThreshold?: number;
}

/** What the virtual clock reads of the loop it drives (the `Loop` has all of it). @internal */
export interface VirtualClockHost {
  /** Live tasks; each has a `name`, `_futWaiter` and `_waitingSince`. */
  readonly tasks: { readonly size: number } & Iterable<unknown>;
  /** Schedule fuzzing: permutes timers due at the same instant when set. */
  readonly shuffle: (() => number) | null;
  /** Loop passes run so far: activity, for the autojump threshold. */
  readonly passes: number;
  /** Where clock jumps are recorded, or `null`. */
  readonly trace: TraceSink | null;
  /** Reports an error a timer callback threw. */
  reportError(context: { message: string; error: unknown }): void;
  /** Runs a timer callback as part of the loop (so `getRunningLoop()` in it finds the loop). */
  runTimer<A>(callback: (arg: A) => void, arg: A): void;
  /** True while the loop has work it has not run (time must not move then). */
  busy(): boolean;
}

/** A deadlock report: every live task, what it waits on, and the virtual time. @internal */
export type DeadlockListener = (waiting: DeadlockedTask[], time: number) => void;

interface WatchedTask {
  readonly name: string;
  /** @internal */
  readonly _futWaiter: { done(): boolean; _waitLabel(): string } | null;
  /** @internal */
  readonly _waitingSince: number;
}

/** How often to look again while a task awaits a foreign promise and no timer is pending. */
const FOREIGN_POLL_MS = 10;

/**
 * Real time a suspected deadlock must last, nothing running, before it is reported: a future may
 * be completed by a callback the loop cannot see (a real timer, a socket) that is about to run.
 */
const DEADLOCK_GRACE_MS = 50;

/** Most idle probes queued at once (see `refill`). */
const PROBE_BATCH = 64;

/**
 * A clock whose time moves only when the program has nothing to do: once the microtask queue has
 * drained (a `setImmediate` observes it), it jumps to the earliest deadline and fires that timer.
 * Every timer due at that instant fires in one pass (asyncio's `_run_once`), in the order they
 * were scheduled, or in an order drawn from the seed under `run(main, { shuffle })`; the tasks they
 * wake then run one step at a time, each until it waits again. Sleeps of hours
 * take no real time, and the same program gives the same output on every run. asyncio has no
 * virtual clock; this is Trio's `MockClock` with autojump. {@link VirtualClock.advance} moves time
 * by hand.
 *
 * Under `run`, a program in which every task waits on an awaitress future (a queue, a lock, an
 * event, a task) while no timer is pending can never continue: `run` rejects with
 * {@link DeadlockError} naming each task and what it waits on, instead of hanging.
 *
 * **Real I/O under a virtual clock.** The clock cannot see sockets, files or child processes. A
 * task awaiting a foreign promise (not an awaitress future) is never taken for deadlocked: the
 * clock keeps waiting for it. But by default time jumps to the next deadline as soon as the
 * microtask queue drains, even while a socket is still to answer, so a `timeout` around real I/O
 * fires at once. Set {@link VirtualClockOptions.autojumpThreshold} (say `0.05`) to jump only after
 * that much real idleness. A future completed from a foreign callback (a real `setTimeout`, a
 * socket's event, a promise passed to `gather`) is invisible to the clock: a deadlock is reported
 * only once every task has waited on the same future for 50 ms of real time (or the threshold, if
 * longer) with nothing run, so such a callback must come within that time; for slower I/O set the
 * threshold higher, or await the foreign promise in a task (never taken for deadlocked).
 *
 * Errors: `RangeError` for a `start` or `autojumpThreshold` that is not a finite number (the
 * threshold must also be non-negative).
 *
 * @example
 * await run(async () => { await sleep(3600); console.log(time()) }, { clock: "virtual" }) // 3600
 */
export class VirtualClock implements Clock {
  readonly kind = "virtual";
  /** Real seconds of idleness before a jump; see {@link VirtualClockOptions.autojumpThreshold}. */
  readonly autojumpThreshold: number;
  private readonly heap = new TimerHeap();
  private seq = 0;
  private cancels = 0;
  private current: number;
  private host: VirtualClockHost | undefined = undefined;
  private onDeadlock: DeadlockListener | undefined = undefined;
  /** `setImmediate` probes queued: each runs with the microtask queue drained, an idle point. */
  private probes = 0;
  /** Schedule fuzzing: timers due at the current instant, in a drawn order, not fired yet. */
  private due: TimerEntry[] = [];
  private dueNext = 0;
  private dueLeft = 0;
  /** Armed real timer: the autojump threshold, or a poll while a task awaits foreign I/O. */
  private wakeup: ReturnType<typeof setTimeout> | undefined = undefined;
  private wakeupIsThreshold = false;
  private markerPasses = -1;
  private markerTimers = -1;
  /** The futures every task waited on when a deadlock was first suspected, and the activity then. */
  private suspect: unknown[] | null = null;
  private suspectPasses = -1;
  private suspectTimers = -1;
  private closed = false;

  constructor(options: VirtualClockOptions = {}) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`Expected VirtualClock's options to be an object, got ${describe(options)}`);
    }
    const start = options.start ?? 0;
    if (typeof start !== "number" || !Number.isFinite(start)) {
      throw new RangeError(`Expected \`start\` to be a finite number of seconds, got ${describe(start)}`);
    }
    const threshold = options.autojumpThreshold ?? 0;
    if (typeof threshold !== "number" || !Number.isFinite(threshold) || threshold < 0) {
      throw new RangeError(
        `Expected \`autojumpThreshold\` to be a non-negative number of seconds, got ${describe(threshold)}`,
      );
    }
    this.current = start;
    this.autojumpThreshold = threshold;
  }

  now(): number {
    return this.current;
  }

  get pendingTimers(): number {
    return this.heap.size + this.dueLeft;
  }

  callAt<A>(when: number, callback: (arg: A) => void, arg: A): TimerHandle {
    const entry = new TimerEntry(when, this.seq++, callback, arg);
    this.heap.push(entry as TimerEntry);
    if (this.probes === 0) this.arm();
    return entry;
  }

  cancel(handle: TimerHandle): void {
    if (!(handle instanceof TimerEntry)) return;
    if (handle.state === FINISHED) return;
    this.cancels++;
    if (handle.state === DUE) {
      // Taken out with others due at the same instant, not fired yet: it must not fire.
      handle.state = FINISHED;
      this.dueLeft--;
    } else {
      this.heap.remove(handle);
    }
  }

  close(): void {
    this.closed = true;
    this.heap.clear();
    for (const entry of this.due) entry.state = FINISHED;
    this.due = [];
    this.dueLeft = 0;
    this.host = undefined;
    this.onDeadlock = undefined;
    this.clearWakeup();
  }

  /**
   * Moves time forward by `seconds`, firing every timer due on the way in deadline order, without
   * waiting for the program to be idle. For tests that drive the clock by hand.
   */
  advance(seconds: number): void {
    if (typeof seconds !== "number" || !(seconds >= 0)) {
      throw new RangeError(`Expected \`seconds\` to be a non-negative number, got ${describe(seconds)}`);
    }
    const target = this.current + seconds;
    for (;;) {
      const next = this.peekNext();
      if (next === undefined || next.when > target) break;
      this.fireNext();
    }
    this.current = target;
  }

  /**
   * Connects the clock to the loop it drives: from now on it permutes same-instant timers when
   * the loop shuffles, and reports a deadlock to `onDeadlock`. `run` calls it.
   * @internal
   */
  attach(host: VirtualClockHost): void {
    this._attach(host, undefined);
  }

  /** @internal `attach`, with the listener `run` gives for deadlocks. */
  _attach(host: VirtualClockHost, onDeadlock?: DeadlockListener): void {
    this.host = host;
    this.onDeadlock = onDeadlock;
    this.closed = false; // a clock may serve one run after another
    // Watch from the first idle moment on, even if no timer is ever scheduled.
    this.arm();
  }

  /** Makes sure an idle probe will run; a pending threshold wait already counts as one. */
  private arm(): void {
    if (this.closed || this.probes > 0) return;
    if (this.wakeup !== undefined) {
      if (this.wakeupIsThreshold) return;
      this.clearWakeup();
    }
    this.probes = 1;
    setImmediate(this.firstProbe);
  }

  /**
   * Queues one probe per pending timer (up to a batch): probes queued together run in the same
   * turn of Node's event loop, and Node drains the microtask queue between them, so each is an
   * idle point at a fraction of the cost of a turn.
   */
  private refill(): void {
    let want = this.heap.size + this.dueLeft;
    if (want > PROBE_BATCH) want = PROBE_BATCH;
    else if (want === 0 && this.host !== undefined) want = 1; // to watch for a deadlock
    while (this.probes < want) {
      this.probes++;
      setImmediate(this.probe);
    }
  }

  private clearWakeup(): void {
    if (this.wakeup !== undefined) clearTimeout(this.wakeup);
    this.wakeup = undefined;
    this.wakeupIsThreshold = false;
  }

  /**
   * Runs when the microtask queue is empty and the loop has nothing runnable: every task is
   * waiting. Fires every timer due at the earliest deadline (see `fireNext`).
   */
  private readonly probe = (): void => {
    this.probes--;
    if (this.closed) return;
    if (this.host?.busy()) {
      // Tasks are runnable (the loop let the host poll I/O in between): not idle yet.
      this.probes++;
      setImmediate(this.probe);
      return;
    }
    const next = this.peekNext();
    if (next === undefined) {
      if (this.probes === 0) this.idleWithoutTimers();
      return;
    }
    if (next.when > this.current && this.autojumpThreshold > 0) {
      // A jump: only after the threshold of real idleness.
      if (this.probes === 0 && !this.wakeupIsThreshold) {
        this.clearWakeup();
        this.waitThreshold();
      }
      return;
    }
    this.fireNext();
    this.refill();
  };

  /**
   * The probe queued from a task (`callAt` inside a sleep): bound to the context the clock was
   * made in, so timer callbacks run outside any task, whichever task armed the clock. Probes
   * queued by probes inherit that context for free.
   */
  private readonly firstProbe = AsyncResource.bind(this.probe);

  /** Waits `autojumpThreshold` real seconds, then jumps if nothing happened meanwhile. */
  private waitThreshold(): void {
    this.markerPasses = this.host?.passes ?? 0;
    this.markerTimers = this.seq + this.cancels;
    this.wakeupIsThreshold = true;
    this.wakeup = setTimeout(this.afterThreshold, this.autojumpThreshold * 1000);
  }

  private readonly afterThreshold = (): void => {
    this.wakeup = undefined;
    this.wakeupIsThreshold = false;
    if (this.closed) return;
    if ((this.host?.passes ?? 0) !== this.markerPasses || this.seq + this.cancels !== this.markerTimers) {
      // Something ran: look again once the program is idle (a timer due now fires at once; a
      // jump waits for a new idle period).
      this.arm();
      return;
    }
    if (this.peekNext() === undefined) {
      this.idleWithoutTimers();
      return;
    }
    this.fireNext();
    this.refill();
  };

  /**
   * No timer is pending and the program is idle: a deadlock, unless a task awaits a foreign
   * promise (maybe real I/O), or something outside the loop completes a future (a callback of a
   * real timer or socket). The second cannot be seen, so the verdict waits until the same tasks
   * have waited on the same futures, with nothing run, for a grace of real time.
   */
  private idleWithoutTimers(): void {
    const host = this.host;
    if (host === undefined || host.tasks.size === 0) return;
    const futures: unknown[] = [];
    for (const t of host.tasks) {
      const future = (t as WatchedTask)._futWaiter;
      if (future === null || future.done()) {
        // Awaiting a foreign promise: maybe real I/O, which may still wake everyone. Look again later.
        this.suspect = null;
        this.clearWakeup();
        this.wakeup = setTimeout(this.poll, FOREIGN_POLL_MS);
        this.wakeup.unref();
        return;
      }
      futures.push(future);
    }
    const suspect = this.suspect;
    const unchanged =
      suspect !== null &&
      this.suspectPasses === host.passes &&
      this.suspectTimers === this.seq + this.cancels &&
      suspect.length === futures.length &&
      suspect.every((future, i) => future === futures[i]);
    if (!unchanged) {
      this.suspect = futures;
      this.suspectPasses = host.passes;
      this.suspectTimers = this.seq + this.cancels;
      this.clearWakeup();
      this.wakeup = setTimeout(this.poll, Math.max(DEADLOCK_GRACE_MS, this.autojumpThreshold * 1000));
      return;
    }
    this.suspect = null;
    const onDeadlock = this.onDeadlock;
    if (onDeadlock === undefined) return;
    const waiting: DeadlockedTask[] = [];
    for (const t of host.tasks) {
      const task = t as WatchedTask;
      const future = task._futWaiter as NonNullable<WatchedTask["_futWaiter"]>;
      waiting.push({ name: task.name, waitsOn: future._waitLabel(), since: task._waitingSince });
    }
    onDeadlock(waiting, this.current);
    // Look again once `run` has reacted: tasks stuck while being cancelled are reported too.
    this.arm();
  }

  private readonly poll = (): void => {
    this.wakeup = undefined;
    this.arm();
  };

  /** The timer that fires next: the head of the drawn batch, else the heap's earliest. */
  private peekNext(): TimerEntry | undefined {
    if (this.dueLeft > 0) {
      const due = this.due;
      while (this.dueNext < due.length) {
        const entry = due[this.dueNext] as TimerEntry;
        if (entry.state === DUE) return entry;
        this.dueNext++;
      }
    }
    return this.heap.peek();
  }

  /** Fires the next timer, moving time to its deadline. */
  /**
   * Jumps to the next deadline and fires every timer due then, in deadline-then-scheduling order
   * (or drawn order under schedule fuzzing), in one pass: asyncio's `_run_once`. A timer that an
   * earlier one cancels does not fire; one scheduled for the same instant fires next pass.
   */
  private fireNext(): void {
    const random = this.host?.shuffle ?? null;
    const first = this.takeDrawn(random);
    const from = this.current;
    const trace = this.host?.trace ?? null;
    // Every task waits (the program is idle): the trace shows it, then the jump.
    if (trace !== null) trace.event({ type: "loop-idle", time: from });
    if (first.when > from) {
      this.current = first.when;
      if (trace !== null) trace.event({ type: "clock-jump", time: first.when, from });
    }
    this.call(first);
    while (this.dueLeft > 0) {
      const entry = this.peekNext();
      if (entry === undefined || entry.state !== DUE) break;
      this.dueNext++;
      this.dueLeft--;
      entry.state = FINISHED;
      this.call(entry);
    }
  }

  private takeDrawn(random: (() => number) | null): TimerEntry {
    if (this.dueLeft === 0) {
      const heap = this.heap;
      const first = heap.peek() as TimerEntry;
      const due: TimerEntry[] = [];
      for (;;) {
        const next = heap.peek();
        if (next === undefined || next.when > first.when) break;
        heap.pop();
        next.state = DUE;
        due.push(next);
      }
      if (random !== null) shuffleRange(due, 0, due.length, random);
      this.due = due;
      this.dueNext = 0;
      this.dueLeft = due.length;
    }
    const entry = this.peekNext() as TimerEntry;
    this.dueNext++;
    this.dueLeft--;
    entry.state = FINISHED;
    return entry;
  }

  private call(entry: TimerEntry): void {
    const host = this.host;
    try {
      if (host === undefined) entry.callback(entry.arg);
      else host.runTimer(entry.callback, entry.arg);
    } catch (error) {
      if (host === undefined) throw error;
      host.reportError({ message: "Exception in a timer callback", error });
    }
  }
}
