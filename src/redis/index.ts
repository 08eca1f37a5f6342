/**
 * `awaitress/redis`: the Queue contract on Redis Streams, its own entry point so the core stays
 * free of dependencies (`redis`, node-redis, is an optional peer dependency used only here).
 *
 * @module awaitress/redis
 */
export { RedisQueueError } from "../errors.js";
export { type Codec, jsonCodec, RedisQueue, type RedisQueueOptions } from "./redis-queue.js";
