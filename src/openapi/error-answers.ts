import type { EndpointOptions } from '../common/http/endpoint.decorator';

/** What each error status means in this API, for the document's descriptions. */
export const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid query parameter, path id or body.',
  401: 'No valid access token or API key.',
  403: "The caller's role lacks a needed permission.",
  404: 'A resource the request names (in its path, body or a filter) does not exist or is not visible to the caller.',
  409: 'The body names the wrong resource type or id, or the change conflicts with the current state (the last owner, a duplicate).',
  413: 'The body is larger than the limit.',
  414: 'A path segment is longer than the server takes.',
  415: 'The body is not application/vnd.api+json (or multipart/form-data for uploads).',
  422: 'The body is well formed but cannot be applied.',
  429: 'Too many requests; see Retry-After.',
  431: 'The headers or the query string are larger than the server takes.',
  502: 'A service the request depends on gave an answer that cannot be used.',
  503: 'The server is shutting down or a dependency is unavailable; retry later.',
};

/**
 * The error statuses an operation can answer, from what it is: every one can
 * refuse its input (400, 431 for an oversized query string; 414 for an
 * oversized path segment), be throttled (429) or be unavailable while the
 * server drains (503) or miss a resource it names (404: in its path, body
 * or a filter such as a bulk delete's ids); a guarded one can refuse the caller (401, 403); a
 * change can conflict with the current state (409); one with a body can be
 * refused for its size, media type or meaning (413, 415, 422); and an
 * endpoint adds what its own rules give (`errors`).
 */
export function errorStatuses(options: EndpointOptions, method: string, hasBody: boolean, hasPathParameters: boolean): number[] {
  const statuses = new Set<number>([400, 404, 429, 431, 503, ...(options.errors ?? [])]);
  if (hasPathParameters) statuses.add(414);
  if (!options.public) [401, 403].forEach((status) => statuses.add(status));
  if (method !== 'GET') statuses.add(409);
  if (hasBody) [409, 413, 415, 422].forEach((status) => statuses.add(status));
  return [...statuses].sort((a, b) => a - b);
}
