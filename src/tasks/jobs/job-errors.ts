import { UnrecoverableError } from 'bullmq';

/**
 * A job end with a name of its own (recorded as `result.outcome` on the task
 * row). Extends BullMQ's UnrecoverableError: an outcome is never retried.
 */
export class JobOutcomeError extends UnrecoverableError {
  constructor(readonly outcome: string, message: string) {
    super(message);
    this.name = 'JobOutcomeError';
  }
}

/** The job's provider was soft-deleted or is gone: there is nothing left to work on. */
export class ProviderDeletedError extends JobOutcomeError {
  constructor(providerId: string) {
    super('provider_deleted', `Provider ${providerId} was deleted; the job did not run.`);
  }
}

export class TimeLimitExceededError extends JobOutcomeError {
  constructor(kind: 'soft' | 'hard', limitMs: number) {
    super('time_limit', `The job exceeded its ${kind} time limit of ${Math.round(limitMs / 1000)} s.`);
  }
}

/** The task was cancelled while its job ran or waited. */
export class TaskCancelledError extends UnrecoverableError {
  readonly code = 'cancelled';
  constructor() {
    super('The task was cancelled.');
    this.name = 'TaskCancelledError';
  }
}

/** Thrown by bodies for failures that may pass on a later attempt (a peer not answering, a busy service). */
export class TransientJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientJobError';
  }
}

/** Why a running job's signal fired, besides a time limit. */
export const CANCEL_REASON = 'task-cancelled';
export const SHUTDOWN_REASON = 'worker-shutdown';

const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Errors worth another attempt: lost connections, serialization failures and
 * deadlocks, a database at its connection limit, lock timeouts. Anything else
 * is a bug or bad data, and retrying it would only repeat it.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof TransientJobError) return true;
  if (error instanceof UnrecoverableError) return false;
  const candidate = error as { code?: unknown; driverError?: { code?: unknown }; cause?: { code?: unknown } } | null;
  const code = candidate?.driverError?.code ?? candidate?.code ?? candidate?.cause?.code;
  if (typeof code !== 'string') return false;
  if (TRANSIENT_NETWORK_CODES.has(code)) return true;
  return code.startsWith('08') || code === '40001' || code === '40P01' || code === '53300' || code === '55P03' || code === '57P01';
}

/** What a failed task's result says about an error that is not ours: its kind, not its text (which may quote SQL). */
export function describeUnexpected(error: unknown): string {
  const name = (error as { name?: unknown })?.name;
  return `The task failed unexpectedly (${typeof name === 'string' ? name : 'error'}).`;
}
