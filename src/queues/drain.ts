/** What `for await (const item of queue)` does, for every queue with asyncio's `get`/`shutdown`. */
import { QueueShutDown } from "../errors.js";

/**
 * Yields what `get()` returns until it throws {@link QueueShutDown} (the queue was shut down
 * and is empty), then ends; any other error propagates. @internal
 */
export async function* itemsUntilShutdown<T>(get: () => PromiseLike<T>): AsyncGenerator<T, void, undefined> {
  for (;;) {
    let item: T;
    try {
      item = await get();
    } catch (error) {
      if (error instanceof QueueShutDown) return;
      throw error;
    }
    yield item;
  }
}
