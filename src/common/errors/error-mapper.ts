import { HttpException } from '@nestjs/common';
import { ApiError, ApiErrors } from './api-error';

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
  '22007': { status: 400, code: 'invalid', detail: 'A date or time has the wrong format.' },
  '22008': { status: 400, code: 'invalid', detail: 'A date or time is out of range.' },
  // A row-level security refusal means the row belongs to no tenant the caller may write.
  '42501': { status: 404, code: 'not_found', detail: 'Not found.' },
  '40001': { status: 409, code: 'retry', detail: 'A concurrent change interfered; retry the request.' },
  '40P01': { status: 409, code: 'retry', detail: 'A concurrent change interfered; retry the request.' },
  '57014': { status: 503, code: 'timeout', detail: 'The request took too long and was cancelled.' },
};

const FASTIFY_CODES: Record<string, { code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type', detail: 'Unsupported content type; send application/vnd.api+json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', detail: 'The request body is too large.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'parse_error', detail: 'The body is empty but the content type says JSON.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'parse_error', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'invalid', detail: 'The Content-Length header does not match the body.' },
};

function fromApiError(error: ApiError): JsonApiErrorObject {
  const item: JsonApiErrorObject = { status: String(error.status), code: error.code, detail: error.detail };
  if (error.source) item.source = error.source as Record<string, string>;
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
    const code = status === 404 ? 'not_found' : status === 401 ? 'not_authenticated' : status === 403 ? 'permission_denied' : status === 429 ? 'throttled' : 'error';
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
    const detail = status === 401 ? 'Authentication credentials were not provided or are invalid.' : typeof message === 'string' ? message : error.message;
    return { status, errors: [{ status: String(status), code, detail }], unexpected: status >= 500 };
  }
  const fastify = error as { code?: string; statusCode?: number; message?: string };
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const known = fastify.code ? FASTIFY_CODES[fastify.code] : undefined;
    const status = fastify.statusCode;
    return {
      status,
      errors: [{ status: String(status), code: known?.code ?? 'invalid', detail: known?.detail ?? 'The request could not be processed.' }],
      unexpected: false,
    };
  }
  return { status: 500, errors: [{ status: '500', code: 'server_error', detail: 'An unexpected error occurred.' }], unexpected: true };
}

function postgresCode(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = candidate?.driverError?.code ?? (candidate?.constructor?.name === 'DatabaseError' ? candidate.code : undefined);
  return typeof code === 'string' ? code : undefined;
}
