import type { ConnectionOptions } from 'bullmq';
import { AppConfig } from '../../config/app-config';

/**
 * BullMQ connections are its own (never the shared ioredis with keyPrefix,
 * which BullMQ refuses); keys are namespaced with BullMQ's `prefix` instead,
 * set to REDIS_PREFIX, which is also the namespace a task row records.
 */
export function queueNamespace(config: AppConfig): string {
  return config.redis.prefix;
}

/** Reconnects within two seconds of Redis coming back (BullMQ's own default backs off to twenty). */
const reconnect = (attempt: number) => Math.min(200 * attempt, 2000);

/** Producers fail fast while Redis is down (the outbox keeps the work); nothing piles up in memory. */
export function producerConnection(config: AppConfig): ConnectionOptions {
  return { url: config.redis.url, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: reconnect };
}

/** Workers block on Redis and reconnect for ever: BullMQ requires maxRetriesPerRequest null for them. */
export function workerConnection(config: AppConfig): ConnectionOptions {
  return { url: config.redis.url, maxRetriesPerRequest: null, retryStrategy: reconnect };
}
