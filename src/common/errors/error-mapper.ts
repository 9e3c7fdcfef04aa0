import { HttpException } from '@nestjs/common';
import { ApiError, ApiErrors } from './api-error';
import { boundedErrorText } from './excerpt';
import { postgresCode } from '../../database/postgres-error';

export interface JsonApiErrorObject {
  status: string;
  code: string;
  detail: string;
  source?: Record<string, string>;
}

export interface MappedError {
  status: number;
  errors: JsonApiErrorObject[];
  /** True when the error is ours to fix: logged with its stack, detail hidden from the client. */
  unexpected: boolean;
}

const POSTGRES_CODES: Record<string, { status: number; code: string; detail: string }> = {
  '23505': { status: 409, code: 'conflict', detail: 'A resource with these values already exists.' },
  '23503': { status: 409, code: 'conflict', detail: 'The resource is referenced by, or refers to, another resource that does not allow this change.' },
  '23514': { status: 400, code: 'invalid', detail: 'A value is outside its allowed range.' },
  '23502': { status: 400, code: 'required', detail: 'A required value is missing.' },
  '22001': { status: 400, code: 'invalid', detail: 'A value is too long.' },
  '22P02': { status: 400, code: 'invalid', detail: 'A value has the wrong format.' },
  '22021': { status: 400, code: 'invalid', detail: 'A value holds a character that cannot be stored (such as NUL).' },
  '22P05': { status: 400, code: 'invalid', detail: 'A value holds a character that cannot be stored.' },
  '22003': { status: 400, code: 'invalid', detail: 'A number is out of range.' },
  // An index entry over PostgreSQL's size limit: only an overlong value gets there.
  '54000': { status: 400, code: 'invalid', detail: 'A value is too long.' },
  '22007': { status: 400, code: 'invalid', detail: 'A date or time has the wrong format.' },
  '22008': { status: 400, code: 'invalid', detail: 'A date or time is out of range.' },
  // A row-level security refusal means the row belongs to no tenant the caller may write.
  '42501': { status: 404, code: 'not_found', detail: 'Not found.' },
  '40001': { status: 409, code: 'retry', detail: 'A concurrent change interfered; retry the request.' },
  '40P01': { status: 409, code: 'retry', detail: 'A concurrent change interfered; retry the request.' },
  '57014': { status: 503, code: 'timeout', detail: 'The request took too long and was cancelled.' },
};

/**
 * The answer for each status the HTTP layer (Fastify, Nest's router, Node's
 * parser) raises on its own. Its messages are never passed on: they quote the
 * path or the header that was refused.
 */
export const HTTP_STATUS_ERRORS: Record<number, { code: string; detail: string }> = {
  400: { code: 'invalid', detail: 'The request could not be processed.' },
  401: { code: 'not_authenticated', detail: 'Authentication credentials were not provided or are invalid.' },
  403: { code: 'permission_denied', detail: 'You do not have permission to perform this action.' },
  404: { code: 'not_found', detail: 'Not found.' },
  405: { code: 'method_not_allowed', detail: 'This path does not take this method; see the Allow header.' },
  406: { code: 'not_acceptable', detail: 'The requested media type cannot be served; accept application/vnd.api+json.' },
  408: { code: 'request_timeout', detail: 'The request did not arrive in time.' },
  413: { code: 'payload_too_large', detail: 'The request body is too large.' },
  414: { code: 'uri_too_long', detail: 'A path segment is too long.' },
  415: { code: 'unsupported_media_type', detail: 'Unsupported content type; send application/vnd.api+json.' },
  429: { code: 'throttled', detail: 'Too many requests; try again later.' },
  431: { code: 'headers_too_large', detail: 'The request headers or query string are too large.' },
  503: { code: 'unavailable', detail: 'The service is unavailable; retry later.' },
};

const FASTIFY_CODES: Record<string, { code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: HTTP_STATUS_ERRORS[415],
  FST_ERR_CTP_BODY_TOO_LARGE: HTTP_STATUS_ERRORS[413],
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'parse_error', detail: 'The body is empty but the content type says JSON.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'parse_error', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid', detail: 'The Content-Length header does not match the body.' },
  FST_ERR_BAD_URL: { code: 'invalid', detail: 'The path is not a valid URL.' },
  FST_ERR_MAX_PARAM_LENGTH: HTTP_STATUS_ERRORS[414],
};

/** A JSON:API error object for a status raised by the HTTP layer. */
export function httpStatusError(status: number, fastifyCode?: string): JsonApiErrorObject {
  const known = (fastifyCode ? FASTIFY_CODES[fastifyCode] : undefined) ?? HTTP_STATUS_ERRORS[status] ?? HTTP_STATUS_ERRORS[400];
  return { status: String(status), code: known.code, detail: known.detail };
}

function fromApiError(error: ApiError): JsonApiErrorObject {
  const item: JsonApiErrorObject = { status: String(error.status), code: error.code, detail: boundedErrorText(error.detail) };
  if (error.source) {
    item.source = Object.fromEntries(Object.entries(error.source).map(([key, value]) => [key, boundedErrorText(String(value))]));
  }
  return item;
}

/** Turns anything thrown while serving a request into a JSON:API error response. */
export function mapError(error: unknown): MappedError {
  if (error instanceof ApiError) return { status: error.status, errors: [fromApiError(error)], unexpected: false };
  if (error instanceof ApiErrors) {
    const status = error.errors[0]?.status ?? 400;
    return { status, errors: error.errors.map(fromApiError), unexpected: false };
  }
  const pgCode = postgresCode(error);
  if (pgCode && POSTGRES_CODES[pgCode]) {
    const known = POSTGRES_CODES[pgCode];
    return { status: known.status, errors: [{ status: String(known.status), code: known.code, detail: known.detail }], unexpected: false };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const cause = (error as { cause?: { code?: unknown } }).cause;
    return { status, errors: [httpStatusError(status, typeof cause?.code === 'string' ? cause.code : undefined)], unexpected: status >= 500 };
  }
  const fastify = error as { code?: string; statusCode?: number };
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return { status: fastify.statusCode, errors: [httpStatusError(fastify.statusCode, fastify.code)], unexpected: false };
  }
  return { status: 500, errors: [{ status: '500', code: 'server_error', detail: 'An unexpected error occurred.' }], unexpected: true };
}
