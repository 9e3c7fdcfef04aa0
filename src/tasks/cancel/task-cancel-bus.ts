import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { openRedis } from '../../redis/redis-connection';
import { queueNamespace } from '../queue/bullmq-connection';
import { REDIS_CALL_TIMEOUT_MS, withTimeout } from '../queue/queue-registry';

/**
 * Cancel requests for executing tasks, over Redis pub/sub, so the worker
 * running the task hears it whichever process it is in. A message lost while
 * Redis is away is not a lost cancel: the request is also in the task row,
 * and a worker finds it at the body's next progress report.
 */
@Injectable()
export class TaskCancelBus implements OnApplicationShutdown {
  private readonly logger = new Logger('TaskCancelBus');
  private publisher?: Redis;
  private subscriber?: Redis;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private get channel(): string {
    return `${queueNamespace(this.config)}:task-cancel`;
  }

  async publish(taskId: string): Promise<void> {
    this.publisher ??= this.connect({ maxRetriesPerRequest: 1 });
    try {
      await withTimeout(this.publisher.publish(this.channel, taskId), REDIS_CALL_TIMEOUT_MS);
    } catch (error) {
      this.logger.warn(`cancel of task ${taskId} not broadcast (${(error as Error).message}); the worker will find it in the task row`);
    }
  }

  /** Calls `onCancel` with each task id whose cancel is requested; resubscribes by itself after a reconnect. */
  subscribe(onCancel: (taskId: string) => void): void {
    this.subscriber ??= this.connect({ maxRetriesPerRequest: null });
    this.subscriber.on('message', (channel: string, taskId: string) => {
      if (channel === this.channel) onCancel(taskId);
    });
    // Not awaited: with Redis away at start the subscription completes when it comes back.
    this.subscriber.subscribe(this.channel).catch((error: Error) => this.logger.warn(`cancel channel: ${error.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const connection of [this.publisher, this.subscriber]) connection?.disconnect();
  }

  private connect(options: { maxRetriesPerRequest: number | null }): Redis {
    const connection = openRedis(this.config, options);
    connection.on('error', () => undefined);
    return connection;
  }
}
