import { createParamDecorator, ExecutionContext, Injectable, PipeTransform } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { UuidPipe } from '../http/request-params';
import { BodyOptions, parseResourceBody, ParsedResourceBody } from './request-body';

export interface ResourceBodyOptions<T> extends Omit<BodyOptions<T>, 'id'> {
  /** For PATCH: the UUID path parameter whose value the body's `data.id` must match. */
  idFromParam?: string;
}

interface RawBody {
  body: unknown;
  params: Record<string, string | undefined>;
}

/** Hands the pipe the raw body and the path parameters (the factory behind @ResourceBody, which the OpenAPI generator looks for). */
export function readResourceBody(_options: unknown, context: ExecutionContext): RawBody {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  return { body: request.body, params: (request.params ?? {}) as RawBody['params'] };
}

@Injectable()
class ResourceBodyPipe implements PipeTransform<RawBody, Promise<ParsedResourceBody<object>>> {
  private readonly uuid = new UuidPipe();

  transform({ body, params }: RawBody, metadata: { data?: unknown }): Promise<ParsedResourceBody<object>> {
    const { idFromParam, ...options } = metadata.data as ResourceBodyOptions<object>;
    // The path id is checked as its own @Param(UuidPipe) checks it, so whichever
    // of the two pipes fails first, a bad id gives the same error; a good one is
    // compared in the lowercase form that pipe hands the handler.
    const id = idFromParam === undefined ? undefined : this.uuid.transform(params[idFromParam] as string, { data: idFromParam });
    return parseResourceBody(body, { ...options, id });
  }
}

const resourceBody = createParamDecorator(readResourceBody);
const pipe = new ResourceBodyPipe();

/**
 * The body as a JSON:API resource document, parsed and validated by
 * parseResourceBody before the handler runs. The same options describe the
 * request body in the OpenAPI document, so the two cannot drift apart.
 */
export function ResourceBody<T>(options: ResourceBodyOptions<T>): ParameterDecorator {
  return resourceBody(options, pipe);
}
