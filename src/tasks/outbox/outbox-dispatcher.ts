import { Injectable } from '@nestjs/common';
import type { JobsOptions } from 'bullmq';
import { QueueRegistry, REDIS_CALL_TIMEOUT_MS, withTimeout } from '../queue/queue-registry';
import { OutboxRow, SchedulerOptions } from './outbox-row';

/**
 * Applies outbox rows to BullMQ. Every operation is idempotent, so a row
 * applied twice (the relay crashed between Redis and its commit) is harmless:
 * jobs are added with the task id as job id, schedulers are upserted by id.
 */
@Injectable()
export class OutboxDispatcher {
  constructor(private readonly queues: QueueRegistry) {}

  /** The ids of the rows BullMQ accepted, and the error for each row it did not. */
  async dispatch(rows: OutboxRow[]): Promise<{ done: string[]; failed: Map<string, Error> }> {
    const done: string[] = [];
    const failed = new Map<string, Error>();
    const jobsByQueue = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      if (row.operation === 'add-job') jobsByQueue.set(row.queue, [...(jobsByQueue.get(row.queue) ?? []), row]);
    }
    await Promise.all(
      [...jobsByQueue.values()].map(async (group) => {
        try {
          await this.addJobs(group);
          done.push(...group.map((row) => row.id));
        } catch (error) {
          for (const row of group) failed.set(row.id, error as Error);
        }
      }),
    );
    // Scheduler changes go one by one in the order they were written: a remove after an upsert must stay after it.
    for (const row of rows) {
      if (row.operation === 'add-job') continue;
      try {
        await this.applyScheduler(row);
        done.push(row.id);
      } catch (error) {
        failed.set(row.id, error as Error);
      }
    }
    return { done, failed };
  }

  private async addJobs(rows: OutboxRow[]): Promise<void> {
    const queue = this.queues.get(rows[0].queue);
    await withTimeout(
      queue.addBulk(rows.map((row) => ({ name: row.job_name!, data: row.payload, opts: { ...(row.options as JobsOptions), jobId: row.job_id } }))),
      REDIS_CALL_TIMEOUT_MS,
    );
  }

  private async applyScheduler(row: OutboxRow): Promise<void> {
    const queue = this.queues.get(row.queue);
    if (row.operation === 'remove-scheduler') {
      await withTimeout(queue.removeJobScheduler(row.job_id), REDIS_CALL_TIMEOUT_MS);
      return;
    }
    const options = row.options as unknown as SchedulerOptions;
    await withTimeout(
      queue.upsertJobScheduler(
        row.job_id,
        { every: options.everyMs, startDate: options.startAt },
        { name: row.job_name!, data: row.payload, opts: options.template },
      ),
      REDIS_CALL_TIMEOUT_MS,
    );
  }
}
