/**
 * `setImmediate` for the browser build (esbuild's `inject`, scripts/build.mjs): a macrotask that
 * runs once the microtask queue has drained, as Node's does — a `MessageChannel` message, which
 * (unlike `setTimeout(fn, 0)`) is not clamped to 4 ms when nested. The virtual clock's idle probes
 * and the loop's watchdog rely on exactly that: when one runs, every microtask has run.
 */
/** The part of a DOM `MessagePort` used here (the project's types are Node's, not the DOM's). */
interface Port {
  onmessage: (() => void) | null;
  postMessage(message: null): void;
  close(): void;
}

const queue: Array<() => void> = [];
let channel: { port1: Port; port2: Port } | undefined;

function runOne(): void {
  const fn = queue.shift();
  // An open channel keeps a Node-like host (a test runner loading this build) alive: closed
  // whenever nothing is queued, made again on the next call.
  if (queue.length === 0 && channel !== undefined) {
    channel.port1.close();
    channel = undefined;
  }
  if (fn !== undefined) fn();
}

export function setImmediate(fn: () => void): void {
  if (channel === undefined) {
    channel = new MessageChannel() as unknown as { port1: Port; port2: Port };
    channel.port1.onmessage = runOne;
  }
  queue.push(fn);
  channel.port2.postMessage(null);
}
