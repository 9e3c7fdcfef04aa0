import { errorForFailure, errorForStatus, requestSignal } from '../integration-errors';

export interface HttpTargetOptions {
  /** Names the target in errors ("Jira", "Slack"). */
  name: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * One JSON request to an integration target, cut off after the timeout.
 * Redirects are not followed: a target that redirects could send the
 * credentials on to a host nobody checked. Non-2xx answers become the
 * errors of integration-errors (refused for good, or worth another try).
 */
export async function requestJson<T>(url: string, init: RequestInit, options: HttpTargetOptions): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'manual', signal: requestSignal(options.signal, options.timeoutMs) });
  } catch (error) {
    throw errorForFailure(options.name, error, options.signal);
  }
  const text = await response.text().catch(() => '');
  if (response.status < 200 || response.status >= 300) throw errorForStatus(options.name, response.status, errorDetail(text));
  try {
    return (text === '' ? {} : JSON.parse(text)) as T;
  } catch {
    throw errorForStatus(options.name, 502, 'the answer was not JSON');
  }
}

/** A short reason from an error body (Jira's errorMessages/errors, Slack's error), never the whole body. */
function errorDetail(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { errorMessages?: unknown; errors?: unknown; error?: unknown; message?: unknown };
    const messages = [
      ...(Array.isArray(body.errorMessages) ? body.errorMessages : []),
      ...(body.errors && typeof body.errors === 'object' ? Object.values(body.errors as object) : []),
      ...(typeof body.error === 'string' ? [body.error] : []),
      ...(typeof body.message === 'string' ? [body.message] : []),
    ].filter((m): m is string => typeof m === 'string');
    return messages.length ? messages.join('; ') : undefined;
  } catch {
    return undefined;
  }
}
