import type { ConnectionOptions } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { openRedis, redisNamespace, usesRedisCluster } from '../../redis/redis-connection';

/**
 * BullMQ connections are its own (never the shared ioredis with keyPrefix,
 * which BullMQ refuses); keys are namespaced with BullMQ's `prefix` instead,
 * set to REDIS_PREFIX (hash-tagged on a cluster), which is also the namespace
 * a task row records.
 */
export function queueNamespace(config: AppConfig): string {
  return redisNamespace(config);
}

/** Reconnects within two seconds of Redis coming back (BullMQ's own default backs off to twenty). */
const reconnect = (attempt: number) => Math.min(200 * attempt, 2000);

/**
 * Producers fail fast while Redis is down (the outbox keeps the work); nothing piles up in memory.
 * BullMQ opens a cluster only from a client it is given, never from options, and leaves such a
 * client open: its opener closes it.
 */
export function producerConnection(config: AppConfig): ConnectionOptions {
  const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: reconnect };
  return usesRedisCluster(config) ? openRedis(config, options) : { url: config.redis.url, ...options };
}

/** Workers block on Redis and reconnect for ever: BullMQ requires maxRetriesPerRequest null for them. */
export function workerConnection(config: AppConfig): ConnectionOptions {
  const options = { maxRetriesPerRequest: null, retryStrategy: reconnect };
  return usesRedisCluster(config) ? openRedis(config, options) : { url: config.redis.url, ...options };
}

/** Closes a connection this process opened for BullMQ (a cluster client), once what used it is closed. */
export async function closeOpenedConnection(connection: ConnectionOptions | undefined): Promise<void> {
  if (!connection || typeof (connection as { quit?: unknown }).quit !== 'function') return;
  const client = connection as { quit(): Promise<unknown>; disconnect(): void };
  await client.quit().catch(() => client.disconnect());
}
