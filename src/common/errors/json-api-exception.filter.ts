import { ArgumentsHost, Catch, ExceptionFilter, Logger, NotFoundException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JSONAPI_MEDIA_TYPE } from '../jsonapi/media-type';
import { ApiError } from './api-error';
import { HTTP_STATUS_ERRORS, mapError } from './error-mapper';

const logger = new Logger('HttpErrors');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** The methods some route serves at this concrete path (empty: the path is unknown). */
function allowedMethods(request: FastifyRequest): string[] {
  const path = request.url.split('?')[0];
  return METHODS.filter((method) => request.server.findRoute({ method: method as 'GET', url: path }) !== null);
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  // Nest's router raises NotFoundException for any unmatched method and path; a path that exists under another method is 405.
  if (error instanceof NotFoundException) {
    const allowed = allowedMethods(request);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      error = new ApiError(405, HTTP_STATUS_ERRORS[405].code, HTTP_STATUS_ERRORS[405].detail);
    }
  }
  const mapped = mapError(error);
  if (mapped.unexpected) {
    request.log.error({ err: error }, 'unexpected error');
  } else if (mapped.status >= 500) {
    logger.warn(`${request.method} ${request.routeOptions?.url ?? ''}: ${mapped.errors[0]?.detail}`);
  }
  if (mapped.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60');
  // Sent as bytes: Fastify appends a charset to any JSON media type it serializes or is handed as text, and errors
  // raised before the hooks run (frameworkErrors) never pass the onSend hook that removes it.
  reply.status(mapped.status).type(JSONAPI_MEDIA_TYPE).send(Buffer.from(JSON.stringify({ errors: mapped.errors })));
}

@Catch()
export class JsonApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
