import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { JSONAPI_MEDIA_TYPE } from '../jsonapi/media-type';
import { mapError } from './error-mapper';

const logger = new Logger('HttpErrors');

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const mapped = mapError(error);
  if (mapped.unexpected) {
    request.log.error({ err: error }, 'unexpected error');
  } else if (mapped.status >= 500) {
    logger.warn(`${request.method} ${request.routeOptions?.url ?? ''}: ${mapped.errors[0]?.detail}`);
  }
  if (mapped.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60');
  reply.status(mapped.status).type(JSONAPI_MEDIA_TYPE).send({ errors: mapped.errors });
}

@Catch()
export class JsonApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
