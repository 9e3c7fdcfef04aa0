import { Logger, Provider } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { QUEUE_NAMES, QueueName } from '../queue-names';

/** A time bound on every Redis call made while a database transaction is open (the relay's). */
export const REDIS_CALL_TIMEOUT_MS = 5000;

/**
 * The BullMQ queues (producer side) that BullModule registered, by name, for
 * code that picks the queue from data (a job's definition, an outbox row).
 * BullModule opens and closes them.
 */
export class QueueRegistry {
  private readonly logger = new Logger('QueueRegistry');
  private readonly queues: ReadonlyMap<QueueName, Queue>;
  private lastErrorLog = 0;

  constructor(queues: Queue[]) {
    this.queues = new Map(queues.map((queue) => [queue.name as QueueName, queue]));
    // Without a listener an 'error' event (Redis away) would be thrown; one line every ten seconds is enough.
    for (const queue of queues) queue.on('error', (error) => this.logThrottled(error));
  }

  get(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`No queue '${name}'.`);
    return queue;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  /** Removes a job that has not started; 0 when it is running (its lock holds) or absent. */
  async removeWaiting(name: QueueName, jobId: string): Promise<number> {
    return withTimeout(this.get(name).remove(jobId), REDIS_CALL_TIMEOUT_MS);
  }

  private logThrottled(error: Error): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 10000) return;
    this.lastErrorLog = now;
    this.logger.warn(`Redis (queues): ${error.message}`);
  }
}

export const queueRegistryProvider: Provider = {
  provide: QueueRegistry,
  inject: QUEUE_NAMES.map((name) => getQueueToken(name)),
  useFactory: (...queues: Queue[]) => new QueueRegistry(queues),
};

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
