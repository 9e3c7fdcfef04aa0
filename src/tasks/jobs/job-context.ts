import type { EntityManager } from 'typeorm';
import { TenantDatabase } from '../../database/tenant-database';
import { TasksRepository } from '../tasks.repository';

/** What the worker hands a processor besides the job's data: the doors it may use and the limits it runs under. */
export interface JobRuntime {
  readonly database: TenantDatabase;
  readonly tasks: TasksRepository;
  readonly jobId: string;
  /** Fires on cancel, on the soft time limit, on worker shutdown, or when BullMQ loses the job's lock. */
  readonly signal: AbortSignal;
  /** Rejects at the hard time limit. */
  readonly hardLimit: Promise<never>;
  pastHardLimit(): boolean;
  readonly attempt: number;
  readonly finalAttempt: boolean;
  /** Aborts the signal as a cancel (used when a cancel request is found in the task row). */
  cancel(): void;
  /** Moves the job back to the waiting list without using an attempt (worker shutdown). */
  handBack(): Promise<void>;
}

export interface JobEnvelope<A> {
  tenantId: string;
  taskId: string | null;
  args: A;
}

export type JobProcessor<A> = (data: JobEnvelope<A>, runtime: JobRuntime) => Promise<unknown>;

/**
 * What a job body sees. It never gets a database handle for another tenant:
 * `inTenant` opens (or, in a single-transaction job, joins) a transaction for
 * the job's own tenant, and `tenantManager()` works inside it.
 */
export interface TenantJobContext {
  readonly jobId: string;
  readonly taskId: string | null;
  readonly signal: AbortSignal;
  readonly attempt: number;
  inTenant<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>;
  /** 0-100, written at once in its own transaction; also how a worker notices a cancel it was not told about. */
  progress(percent: number): Promise<void>;
}

export type TenantJobBody<A, R> = (args: A, context: TenantJobContext) => Promise<R>;
