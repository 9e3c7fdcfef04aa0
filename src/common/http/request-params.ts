import { createParamDecorator, ExecutionContext, PipeTransform, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors/api-error';
import { parseQuery } from '../jsonapi/query-parser';
import { ParsedQuery, QuerySpec } from '../jsonapi/query-spec';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Query parameters that never select a tenant: the token does. Dropped before parsing. */
const IGNORED_PARAMETERS = new Set(['tenant_id']);

/** Reads and checks the query string against an endpoint's spec (the factory behind @JsonApiQuery). */
export function readJsonApiQuery(spec: QuerySpec, context: ExecutionContext): ParsedQuery {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const raw = Object.fromEntries(
    Object.entries((request.query ?? {}) as Record<string, unknown>).filter(([key]) => !IGNORED_PARAMETERS.has(key)),
  );
  return parseQuery(raw, spec);
}

/** The endpoint's parsed `filter`/`sort`/`page`/`include`/`fields`, or 400 on anything unknown. The OpenAPI document lists the spec's parameters. */
export const JsonApiQuery = createParamDecorator(readJsonApiQuery);

/** A path id that must be a UUID; anything else is 400 naming the parameter. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string, metadata: { data?: string }): string {
    if (typeof value !== 'string' || !UUID.test(value)) {
      throw ApiError.badRequest('invalid', `'${metadata.data ?? 'id'}' must be a UUID.`, { parameter: metadata.data ?? 'id' });
    }
    return value.toLowerCase();
  }
}

/** Rejects any query string on endpoints that take none (tenant_id excepted, which is ignored). */
export function assertNoQuery(query: Record<string, unknown> | undefined): void {
  for (const key of Object.keys(query ?? {})) {
    if (!IGNORED_PARAMETERS.has(key)) throw ApiError.badRequest('invalid', `Unknown query parameter '${key}'.`, { parameter: key });
  }
}
