import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { openRedis, redisNamespace } from './redis-connection';

export const REDIS = Symbol('REDIS');

/** Closes the shared connection when the application shuts down. */
@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * An ioredis client with no 'error' listener prints "Unhandled error event"
 * with a stack for every failed reconnect. Callers already see failures as
 * rejected commands; this logs one warning per outage instead.
 */
function reportingErrors(redis: Redis): Redis {
  const logger = new Logger('Redis');
  let reported = false;
  redis.on('error', (error: Error) => {
    if (!reported) logger.warn(`connection lost: ${error.message}; reconnecting`);
    reported = true;
  });
  redis.on('ready', () => (reported = false));
  return redis;
}

/** The shared Redis connection for throttling, caches and pub/sub publishing (BullMQ keeps its own). */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        reportingErrors(
          openRedis(config, {
            keyPrefix: `${redisNamespace(config)}:`,
            // Fail fast while Redis is down instead of queueing commands without bound.
            maxRetriesPerRequest: 1,
            enableOfflineQueue: false,
            lazyConnect: false,
          }),
        ),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}
