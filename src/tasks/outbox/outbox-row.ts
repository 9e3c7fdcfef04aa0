import type { JobsOptions } from 'bullmq';
import { QueueName } from '../queue-names';

/** One pending hand-over to BullMQ, as stored in the `outbox` table. */
export type OutboxOperation =
  | { operation: 'add-job'; queue: QueueName; jobName: string; jobId: string; payload: unknown; options: JobsOptions; held?: boolean }
  | { operation: 'upsert-scheduler'; queue: QueueName; jobName: string; jobId: string; payload: unknown; options: SchedulerOptions }
  | { operation: 'remove-scheduler'; queue: QueueName; jobId: string };

export interface SchedulerOptions {
  everyMs: number;
  startAt: number;
  template: JobsOptions;
}

export interface OutboxRow {
  id: string;
  queue: QueueName;
  operation: OutboxOperation['operation'];
  job_name: string | null;
  job_id: string;
  payload: unknown;
  options: Record<string, unknown>;
  attempts: number;
}
