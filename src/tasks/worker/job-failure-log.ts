import { LoggerService } from '@nestjs/common';
import { UnrecoverableError, WaitingError } from 'bullmq';
import type { JobData } from '../jobs/job-definitions';
import { JobOutcomeError, TaskCancelledError } from '../jobs/job-errors';

interface FailedJob {
  id?: string;
  name: string;
  data: Pick<JobData, 'tenantId' | 'taskId'>;
  attemptsMade: number;
}

/** A short machine-readable reason: the outcome we named, the driver's or system's code, else the error's class. */
export function jobErrorCode(error: unknown): string {
  if (error instanceof JobOutcomeError) return error.outcome;
  const candidate = error as { code?: unknown; driverError?: { code?: unknown }; name?: unknown } | null;
  const code = candidate?.driverError?.code ?? candidate?.code;
  if (typeof code === 'string' || typeof code === 'number') return String(code);
  return typeof candidate?.name === 'string' ? candidate.name : 'error';
}

/**
 * One log line per job that ends in error, naming the task, tenant, job and
 * error code. Never the job's arguments (they may hold a provider secret) nor
 * the error text (it may quote them, or SQL with values): the task row keeps
 * the public message and the handler's own log the details.
 */
export function logJobFailure(logger: LoggerService, job: FailedJob, error: unknown): void {
  if (error instanceof WaitingError) return; // handed back on shutdown: not a failure
  const fields = {
    task_id: job.data.taskId,
    tenant_id: job.data.tenantId,
    job: job.name,
    job_id: job.id,
    attempt: job.attemptsMade + 1,
    code: jobErrorCode(error),
    final: error instanceof UnrecoverableError,
  };
  if (error instanceof TaskCancelledError) logger.log({ ...fields, msg: 'job cancelled' });
  else logger.warn({ ...fields, msg: 'job failed' });
}
