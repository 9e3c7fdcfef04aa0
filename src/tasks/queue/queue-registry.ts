import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.module';
import { QueueName } from '../queue-names';
import { producerConnection, queueNamespace } from './bullmq-connection';

/** A time bound on every Redis call made while a database transaction is open (the relay's). */
export const REDIS_CALL_TIMEOUT_MS = 5000;

/** One BullMQ Queue (producer side) per queue name, opened on first use so processes that never enqueue hold no connection. */
@Injectable()
export class QueueRegistry implements OnApplicationShutdown {
  private readonly logger = new Logger('QueueRegistry');
  private readonly queues = new Map<QueueName, Queue>();
  private lastErrorLog = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: producerConnection(this.config), prefix: queueNamespace(this.config) });
      queue.on('error', (error) => this.logThrottled(error));
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Removes a job that has not started; 0 when it is running (its lock holds) or absent. */
  async removeWaiting(name: QueueName, jobId: string): Promise<number> {
    return withTimeout(this.get(name).remove(jobId), REDIS_CALL_TIMEOUT_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close().catch(() => undefined)));
    this.queues.clear();
  }

  /** While Redis is down every reconnect attempt errors; one line every ten seconds is enough. */
  private logThrottled(error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10000) return;
    this.lastErrorLog = now;
    this.logger.warn(`Redis (queues): ${error.message}`);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
