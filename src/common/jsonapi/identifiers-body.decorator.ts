import { createParamDecorator, ExecutionContext, Injectable, PipeTransform } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { parseIdentifiers } from './request-body';

export interface IdentifiersBodyOptions {
  /** The resource type every identifier must have. */
  type: string;
  /** For a DELETE: no body at all stands for every link (the handler gets null), as the Prowler API does. */
  optional?: boolean;
}

/** Hands the pipe the raw body (the factory behind @IdentifiersBody, which the OpenAPI generator looks for). */
export function readIdentifiersBody(_options: unknown, context: ExecutionContext): unknown {
  return context.switchToHttp().getRequest<FastifyRequest>().body;
}

@Injectable()
class IdentifiersBodyPipe implements PipeTransform<unknown, string[] | null> {
  transform(body: unknown, metadata: { data?: unknown }): string[] | null {
    const { type, optional } = metadata.data as IdentifiersBodyOptions;
    if (optional && (body === undefined || body === null)) return null;
    return parseIdentifiers(body, type).map((identifier) => identifier.id);
  }
}

const identifiersBody = createParamDecorator(readIdentifiersBody);
const pipe = new IdentifiersBodyPipe();

/**
 * A relationship endpoint's body, `{ data: [{ type, id }, ...] }`, as the
 * listed ids, checked before the handler runs. The same options describe the
 * request body in the OpenAPI document.
 */
export function IdentifiersBody(options: IdentifiersBodyOptions): ParameterDecorator {
  return identifiersBody(options, pipe);
}
