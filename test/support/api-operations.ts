import 'reflect-metadata';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { QuerySpec } from '../../src/common/jsonapi/query-spec';
import { operationIdOf } from '../../src/openapi/openapi-document';
import { TestApp } from './test-app';

/** One served operation, as the OpenAPI document lists it. */
export interface ApiOperation {
  method: string;
  path: string;
  operationId: string;
  /** The query spec its handler parses the query string with (filters and their types), when it takes one. */
  query?: QuerySpec;
}

/**
 * Every operation the running app serves, from its OpenAPI document (so an
 * endpoint is listed as soon as it is routed), each with the query spec its
 * handler declares through @JsonApiQuery, found in Nest's route metadata by
 * the operation id (src/openapi: `operationIdOf`).
 */
export async function apiOperations(app: TestApp): Promise<ApiOperation[]> {
  const document = (await (await fetch(`${app.baseUrl}/api/v1/docs/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const specs = querySpecsByOperationId(app);
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        operationId: operation.operationId ?? '',
        query: specs.get(operation.operationId ?? ''),
      })),
  );
}

function querySpecsByOperationId(app: TestApp): Map<string, QuerySpec> {
  const specs = new Map<string, QuerySpec>();
  for (const module of app.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, { data?: unknown }>;
        for (const arg of Object.values(args)) {
          const data = arg.data as QuerySpec | undefined;
          if (data && typeof data === 'object' && ('filters' in data || 'fields' in data || 'sorts' in data)) specs.set(operationIdOf(controller.name, name), data);
        }
      }
    }
  }
  return specs;
}
