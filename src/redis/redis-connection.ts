import Redis, { Cluster, RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { repairedCluster } from './cluster-repairs';

export function usesRedisCluster(config: AppConfig): boolean {
  return config.redis.clusterNodes.length > 0;
}

/**
 * The namespace of every key this deployment writes: REDIS_PREFIX, wrapped in
 * a hash tag on a cluster. A cluster refuses scripts and transactions whose
 * keys live in different slots, and BullMQ's scripts touch several keys of a
 * queue (and a flow, several queues) at once, so every key shares the
 * `{prefix}` slot. The cluster then brings failover and room beside other
 * data, not a queue spread over several masters.
 */
export function redisNamespace(config: AppConfig): string {
  return usesRedisCluster(config) ? `{${config.redis.prefix}}` : config.redis.prefix;
}

export type ConnectionOptions = RedisOptions & { enableOfflineQueue?: boolean };

/**
 * A client for one server (REDIS_URL) or for the cluster (REDIS_CLUSTER_NODES).
 * A Cluster is typed as Redis: it answers the same commands, and callers use
 * nothing else; cluster nodes take the user and password of REDIS_URL.
 */
export function openRedis(config: AppConfig, options: ConnectionOptions): Redis {
  if (!usesRedisCluster(config)) return new Redis(config.redis.url, options);
  const { enableOfflineQueue, retryStrategy, ...perNode } = options;
  const server = new URL(config.redis.url);
  const credentials = {
    ...(server.username ? { username: decodeURIComponent(server.username) } : {}),
    ...(server.password ? { password: decodeURIComponent(server.password) } : {}),
  };
  const cluster = repairedCluster(new Cluster(config.redis.clusterNodes, {
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy ?? ((attempt: number) => Math.min(200 * attempt, 2000)),
    redisOptions: { ...perNode, ...credentials },
  }));
  return cluster as unknown as Redis;
}
