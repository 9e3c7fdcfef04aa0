import { TransientJobError } from '../tasks/jobs/job-errors';

/**
 * A target that refused for good: bad credentials (401/403), a missing
 * bucket or project, a request it will never accept. Retrying would only
 * repeat the refusal, so the job records it and does not try again.
 */
export class IntegrationRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrationRefusedError';
  }
}

/** How an HTTP status from a target is treated: 401/403 and other 4xx are refusals; 408, 429 and 5xx may pass later. */
export function errorForStatus(target: string, status: number, detail?: string): Error {
  const suffix = detail ? `: ${detail.slice(0, 300)}` : '';
  if (status === 401 || status === 403) return new IntegrationRefusedError(`${target} refused the credentials (HTTP ${status})${suffix}.`);
  if (status === 408 || status === 429 || status >= 500) return new TransientJobError(`${target} answered HTTP ${status}${suffix}; it will be tried again.`);
  return new IntegrationRefusedError(`${target} refused the request (HTTP ${status})${suffix}.`);
}

/**
 * A failure that is not an HTTP answer: the job's own signal (cancel, time
 * limit, shutdown) is rethrown as it is; a request cut off by the per-request
 * timeout or a connection that failed may pass later.
 */
export function errorForFailure(target: string, error: unknown, jobSignal: AbortSignal): Error {
  if (jobSignal.aborted) return error instanceof Error ? error : new Error(String(error));
  if (error instanceof IntegrationRefusedError || error instanceof TransientJobError) return error;
  const name = (error as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return new TransientJobError(`${target} did not answer in time; it will be tried again.`);
  const code = (error as { code?: string; cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  return new TransientJobError(`${target} could not be reached${code ? ` (${code})` : ''}; it will be tried again.`);
}

/** The job's signal and the per-request timeout in one. */
export function requestSignal(jobSignal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([jobSignal, AbortSignal.timeout(timeoutMs)]);
}
