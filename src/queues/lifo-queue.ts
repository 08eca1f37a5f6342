/** `LifoQueue<T>`: a {@link Queue} that hands out the most recently added item first. */
import { Queue } from "./queue.js";

/**
 * A last-in, first-out queue: a stack with {@link Queue}'s waiting, `taskDone`/`join` and
 * `shutdown` (asyncio's `LifoQueue`). Only the order of items differs from `Queue`; waiting
 * getters and putters are still served first come, first served.
 *
 * @example
 * const stack = new LifoQueue<number>();
 * stack.putNowait(1); stack.putNowait(3); stack.putNowait(2);
 * console.log(stack.getNowait(), stack.getNowait(), stack.getNowait()); // 2 3 1
 */
export class LifoQueue<T> extends Queue<T> {
  /** @internal */
  protected override _get(): T {
    return this._items.pop() as T;
  }
}
