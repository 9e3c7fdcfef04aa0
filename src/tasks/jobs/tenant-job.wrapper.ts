import { Logger } from '@nestjs/common';
import { UnrecoverableError, WaitingError } from 'bullmq';
import { RlsTransactionOptions } from '../../database/rls-transaction';
import { currentContext, runWithContext } from '../../database/tenant-context';
import { isUuid } from '../../database/uuid';
import { CANCEL_REASON, describeUnexpected, isTransient, JobOutcomeError, SHUTDOWN_REASON, TaskCancelledError, TransientJobError } from './job-errors';
import { JobEnvelope, JobProcessor, JobRuntime, TenantJobBody, TenantJobContext } from './job-context';

export interface TenantJobOptions {
  /** Passes `tenantId` to the body inside its arguments. Off by default: most bodies have no use for it. */
  keepTenant?: boolean;
  /**
   * 'job' (default): the body and the task's completion commit in one
   * transaction, so a re-run after a crash finds either nothing done or a
   * completed task. 'step': each `inTenant` call is its own transaction, for
   * long jobs (batched deletes, scans) that must not hold one open; their
   * steps must be idempotent.
   */
  transaction?: 'job' | 'step';
}

const logger = new Logger('TenantJob');

/** Marks the processors the tenant wrapper built, for the start-up check and for @ProviderJob's order check. */
const TENANT_BOUND = Symbol('tenant-bound');

export function isTenantBound(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[TENANT_BOUND] === true;
}

/**
 * The tenant wrapper as a decorator on a handler's `process` method, listed
 * first (outermost, so it runs first): the method is written as the body
 * `(args, context)`, and becomes the processor `(envelope, runtime)` the
 * queue processor calls. Inner decorators (@ProviderJob) go below it.
 */
export function TenantJob(options: TenantJobOptions = {}) {
  return <T extends TenantJobBody<any, unknown>>(_target: object, _key: string | symbol, descriptor: TypedPropertyDescriptor<T>): void => {
    const body = descriptor.value!;
    const processor = function (this: unknown, data: JobEnvelope<unknown>, runtime: JobRuntime) {
      return tenantJob(body.bind(this), options as TenantJobOptions & { keepTenant?: false })(data, runtime);
    };
    Object.defineProperty(processor, TENANT_BOUND, { value: true });
    (descriptor as PropertyDescriptor).value = processor;
  };
}

export function tenantJob<A, R>(body: TenantJobBody<A, R>, options?: TenantJobOptions & { keepTenant?: false }): JobProcessor<A>;
export function tenantJob<A, R>(body: TenantJobBody<A & { tenantId: string }, R>, options: TenantJobOptions & { keepTenant: true }): JobProcessor<A>;
/**
 * The tenant wrapper, outermost around every job body: the body runs only
 * inside transactions bound to the job's tenant, never without one. It also
 * keeps the task row in step: executing when picked up (a task already
 * finished or cancelled is not run again), completed with the body's result,
 * or failed/cancelled with a `result.outcome` saying why.
 */
export function tenantJob<A, R>(body: TenantJobBody<any, R>, options: TenantJobOptions = {}): JobProcessor<A> {
  const mode = options.transaction ?? 'job';
  return async (data: JobEnvelope<A>, runtime: JobRuntime) => {
    const { tenantId, taskId } = data;
    if (!isUuid(tenantId)) throw new UnrecoverableError('The job names no valid tenant; it was refused.');
    // Bookkeeping writes commit on their own, even while a single-transaction body is open.
    const ownTransaction = <T>(fn: () => Promise<T>, options?: RlsTransactionOptions) =>
      runWithContext({}, () => runtime.database.transaction(tenantId, fn, options));

    if (taskId) {
      const claim = await ownTransaction(async () => runtime.tasks.claimFromRows(currentContext()?.scope?.openingRows), {
        opening: runtime.tasks.claimStatement(taskId),
      });
      if (claim === 'skip') return { skipped: 'the task had already finished' };
      if (claim === 'cancel') {
        await ownTransaction(() => runtime.tasks.finish(taskId, 'cancelled', { outcome: 'cancelled' }));
        return { skipped: 'the task was cancelled' };
      }
    }

    const context: TenantJobContext = {
      jobId: runtime.jobId,
      taskId,
      signal: runtime.signal,
      attempt: runtime.attempt,
      inTenant: (fn) => {
        // A body that outlived its hard limit is abandoned: it gets no further transaction.
        if (runtime.pastHardLimit()) return Promise.reject(new Error('The job is past its hard time limit.'));
        return runtime.database.transaction(tenantId, fn);
      },
      progress: async (percent) => {
        if (!taskId) return;
        if (await ownTransaction(() => runtime.tasks.progress(taskId, percent))) runtime.cancel();
      },
    };
    const args = options.keepTenant ? { ...data.args, tenantId } : data.args;
    const runBody = () => Promise.race([body(args, context), runtime.hardLimit]);

    try {
      if (mode === 'job') {
        // Raced twice: inside, so a late body rolls back instead of committing; outside, so the
        // worker does not wait for that rollback behind a statement still running.
        const transaction = runtime.database.transaction(tenantId, async () => {
          const result = await runBody();
          if (taskId) await runtime.tasks.finish(taskId, 'completed', result ?? null);
          return result;
        });
        return await Promise.race([transaction, runtime.hardLimit]);
      }
      const result = await runBody();
      if (taskId) await ownTransaction(() => runtime.tasks.finish(taskId, 'completed', result ?? null));
      return result;
    } catch (error) {
      throw await settleFailure(error, taskId, runtime, ownTransaction);
    }
  };
}

/** Records why the job stopped and answers the error BullMQ should see (which decides retry or not). */
async function settleFailure(
  error: unknown,
  taskId: string | null,
  runtime: JobRuntime,
  ownTransaction: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<Error> {
  const reason = runtime.signal.aborted ? runtime.signal.reason : undefined;
  try {
    if (reason === SHUTDOWN_REASON) {
      if (taskId) await ownTransaction(() => runtime.tasks.handBack(taskId));
      await runtime.handBack();
      return new WaitingError();
    }
    if (!taskId) return isTransient(error) && !runtime.finalAttempt ? asError(error) : asUnrecoverable(error);

    if (reason === CANCEL_REASON || (await ownTransaction(() => runtime.tasks.cancelRequested(taskId)))) {
      await ownTransaction(() => runtime.tasks.finish(taskId, 'cancelled', { outcome: 'cancelled' }));
      return new TaskCancelledError();
    }
    // The error first: at the hard limit the signal still carries the earlier soft-limit reason.
    const outcome = error instanceof JobOutcomeError ? error : reason instanceof JobOutcomeError ? reason : undefined;
    if (outcome) {
      await ownTransaction(() => runtime.tasks.finish(taskId, 'failed', { outcome: outcome.outcome, error: outcome.message }));
      return outcome;
    }
    if (isTransient(error) && !runtime.finalAttempt) {
      await ownTransaction(() => runtime.tasks.retrying(taskId, publicMessage(error), runtime.attempt));
      return asError(error);
    }
    logger.error(`task ${taskId} failed: ${(error as Error)?.stack ?? String(error)}`);
    await ownTransaction(() => runtime.tasks.finish(taskId, 'failed', { outcome: 'error', error: publicMessage(error) }));
    return asUnrecoverable(error);
  } catch (bookkeepingError) {
    // The task row could not be written (database away): let BullMQ retry; the next attempt or the sweep settles the row.
    logger.warn(`task ${taskId ?? runtime.jobId}: could not record its failure: ${(bookkeepingError as Error).message}`);
    return asError(error);
  }
}

function publicMessage(error: unknown): string {
  return error instanceof JobOutcomeError || error instanceof TransientJobError ? error.message : describeUnexpected(error);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function asUnrecoverable(error: unknown): Error {
  return error instanceof UnrecoverableError ? error : new UnrecoverableError(asError(error).message);
}
