import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { JsonSchema } from '../common/jsonapi/attribute-schema';
import { API_KEY_SECURITY, BEARER_SECURITY, ENDPOINT_OPTIONS, EndpointOptions } from '../common/http/endpoint.decorator';
import { readJsonApiQuery, UuidPipe } from '../common/http/request-params';
import { JSONAPI_MEDIA_TYPE } from '../common/jsonapi/media-type';
import { IdentifiersBodyOptions, readIdentifiersBody } from '../common/jsonapi/identifiers-body.decorator';
import { readResourceBody, ResourceBodyOptions } from '../common/jsonapi/resource-body.decorator';
import type { QuerySpec } from '../common/jsonapi/query-spec';
import type { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { taskResource } from '../tasks/task.resource';
import { resourceBodyExample } from './body-example';
import { identifiersBodySchema, resourceBodySchema } from './body-schema';
import { ERROR_DESCRIPTIONS, errorStatuses } from './error-answers';
import { queryParameters } from './query-parameters';
import { ANY_RESOURCE, documentSchema, ERROR_DOCUMENT, includedSchema, ref, resourceObjectSchema, schemaName } from './resource-schemas';
import { DiscoveredRoute, discoverRoutes } from './route-discovery';

export type OpenApiDocument = {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown>; responses: Record<string, unknown> };
  tags: Array<{ name: string }>;
};

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  parameters: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
  security: Array<Record<string, string[]>>;
  /** Who may call it: `public`, `authenticated`, `tenant owner` or the permissions it needs. */
  'x-access': string;
  /** What the generator could not document for this operation (missing declarations), for the coverage test. */
  'x-undocumented'?: string[];
}

export interface DocumentOptions {
  /** The global prefix, e.g. `api/v1`. */
  prefix: string;
  /** Routes that are served without the prefix (health). */
  unprefixed: readonly string[];
}

const JSON_API_CONTENT = (schema: JsonSchema) => ({ [JSONAPI_MEDIA_TYPE]: { schema } });

/**
 * The OpenAPI 3.1 document of every route reachable from `rootModule`,
 * generated from what the handlers declare and the code enforces: @Endpoint's
 * options (auth, permissions, status, resource, body), the QuerySpec given to
 * @JsonApiQuery, the options given to @ResourceBody and @IdentifiersBody, the
 * class-validator classes of bodies, and the resource definitions' attribute
 * schemas. A new endpoint that follows these patterns
 * is documented without anything else to write.
 */
export function buildOpenApiDocument(rootModule: Function, options: DocumentOptions): OpenApiDocument {
  const routes = discoverRoutes(rootModule);
  const definitions = new Map<string, ResourceDefinition<unknown>[]>();
  const addDefinition = (definition: ResourceDefinition<unknown>) => {
    const known = definitions.get(definition.type) ?? [];
    if (!known.includes(definition)) definitions.set(definition.type, [...known, definition]);
  };
  addDefinition(taskResource as ResourceDefinition<unknown>);

  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();
  const operationIds = new Set<string>();
  for (const route of routes) {
    const endpoint = Reflect.getMetadata(ENDPOINT_OPTIONS, route.handler) as EndpointOptions | undefined;
    if (endpoint?.resource) addDefinition(endpoint.resource);
    const path = openApiPath(route.path, options);
    const operation = describeOperation(route, endpoint, operationIds);
    route.tags.forEach((tag) => tags.add(tag));
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }

  const schemas: Record<string, JsonSchema> = { ErrorDocument: ERROR_DOCUMENT, AnyResource: ANY_RESOURCE, GenericDocument: { type: 'object' } };
  for (const [type, list] of definitions) schemas[schemaName(type)] = resourceObjectSchema(list);
  schemas.IncludedResource = includedSchema([...definitions.keys()]);
  const responses: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(ERROR_DESCRIPTIONS)) {
    responses[`Error${status}`] = { description, content: JSON_API_CONTENT(ref('ErrorDocument')) };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Cloud security posture API',
      version: '1',
      description:
        'Multi-tenant JSON:API for providers, scans, findings, roles and row filter rules, compatible with the Prowler App API. ' +
        'Sign up (POST /users), take a token (POST /tokens), then Authorize with the access token.',
    },
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas,
      responses,
      securitySchemes: {
        [BEARER_SECURITY]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Use `Bearer <token>` for JWT (the access token from POST /tokens) or `Api-Key <key>` for API keys.' },
        [API_KEY_SECURITY]: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Api-Key <key>`: type the word Api-Key, a space, then the key.' },
      },
    },
  };
}

/** `providers/:id` → `/api/v1/providers/{id}` (health routes stay unprefixed). */
export function openApiPath(path: string, options: DocumentOptions): string {
  const templated = path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return options.unprefixed.includes(path) ? `/${templated}` : `/${options.prefix}/${templated}`;
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
}

/** `ProviderSecretsController.create` → `provider_secrets_create` (a method repeated on one path gets its method appended). */
export function operationIdOf(controllerName: string, handlerName: string): string {
  return `${snake(controllerName.replace(/Controller$/, ''))}_${snake(handlerName)}`;
}

function describeOperation(route: DiscoveredRoute, endpoint: EndpointOptions | undefined, operationIds: Set<string>): OpenApiOperation {
  const undocumented: string[] = [];
  let operationId = operationIdOf(route.controller.name, route.handlerName);
  while (operationIds.has(operationId)) operationId = `${operationId}_${route.method.toLowerCase()}`;
  operationIds.add(operationId);
  if (!endpoint) undocumented.push('no @Endpoint');
  const options: EndpointOptions = endpoint ?? { summary: route.handlerName };

  const pathNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1]);
  const parameters: unknown[] = pathNames.map((name) => {
    const arg = route.args.find((a) => a.kind === RouteParamtypes.PARAM && a.data === name);
    const isUuid = arg?.pipes.some((pipe) => pipe === UuidPipe || pipe instanceof UuidPipe);
    return { name, in: 'path', required: true, schema: isUuid ? { type: 'string', format: 'uuid' } : { type: 'string', maxLength: 255 } };
  });
  const query = route.args.find((a) => a.kind === readJsonApiQuery);
  if (query) parameters.push(...queryParameters(query.data as QuerySpec));

  const resourceBody = route.args.find((a) => a.kind === readResourceBody);
  const identifiersBody = route.args.find((a) => a.kind === readIdentifiersBody);
  const hasBody = Boolean(options.body || resourceBody || identifiersBody);
  let requestBody: unknown;
  /** A resource body's schema with an example document built from its attributes' examples. */
  const resourceContent = (body: ResourceBodyOptions<object>) => {
    const mode = bodyMode(route.method);
    return { [JSONAPI_MEDIA_TYPE]: { schema: resourceBodySchema(body, mode), example: resourceBodyExample(body, mode) } };
  };
  if (resourceBody) {
    requestBody = { required: true, content: resourceContent(resourceBody.data as ResourceBodyOptions<object>) };
  } else if (options.body && 'resource' in options.body) {
    requestBody = { required: true, content: resourceContent(options.body.resource) };
  } else if (identifiersBody) {
    const { type, optional } = identifiersBody.data as IdentifiersBodyOptions;
    requestBody = { required: !optional, content: JSON_API_CONTENT(identifiersBodySchema(type)) };
  } else if (options.body && 'multipart' in options.body) {
    requestBody = { required: true, content: { 'multipart/form-data': { schema: options.body.multipart } } };
  } else if (options.body && 'form' in options.body) {
    requestBody = { required: true, content: { 'application/x-www-form-urlencoded': { schema: options.body.form } } };
  } else if (route.args.some((a) => a.kind === RouteParamtypes.BODY)) {
    // The handler reads a body the document cannot describe.
    undocumented.push('request body');
  }

  const responses: Record<string, unknown> = {};
  const status = options.status ?? 200;
  if (status === 204) responses['204'] = { description: 'Done; no content.' };
  else if (status >= 300 && status < 400) responses[String(status)] = redirect();
  else if (status === 202 && !options.resource) responses['202'] = taskAccepted();
  else if (options.produces) responses[String(status)] = { description: 'The file.', content: { [options.produces]: { schema: { type: 'string', format: 'binary' } } } };
  else if (options.answer) responses[String(status)] = { description: 'JSON:API document.', content: JSON_API_CONTENT(options.answer) };
  else if (options.resource) responses[String(status)] = { description: options.list ? `A page of ${options.resource.type}.` : `One ${options.resource.type} resource.`, content: JSON_API_CONTENT(documentSchema(options.resource.type, Boolean(options.list))) };
  else {
    responses[String(status)] = { description: 'JSON:API document.', content: JSON_API_CONTENT(ref('GenericDocument')) };
    undocumented.push('success answer');
  }
  if (options.mayAccept) responses['202'] = taskAccepted();
  if (options.redirects) responses['302'] = redirect();
  if (status === 202 && options.resource) (responses['202'] as { headers?: unknown }).headers = CONTENT_LOCATION;
  for (const error of errorStatuses(options, route.method, hasBody, pathNames.length > 0)) responses[String(error)] = { $ref: `#/components/responses/Error${error}` };

  const permissionNote = options.permissions?.length ? ` Needs: ${options.permissions.join(', ')}.` : '';
  const ownerNote = options.ownerOnly ? ' Tenant owners only.' : '';
  return {
    operationId,
    summary: options.summary,
    description: `${options.summary}.${permissionNote}${ownerNote}${options.public ? ' No token needed.' : ''}`,
    tags: route.tags,
    parameters,
    ...(requestBody ? { requestBody } : {}),
    responses,
    security: options.public ? [] : [{ [BEARER_SECURITY]: [] }, { [API_KEY_SECURITY]: [] }],
    'x-access': options.public ? 'public' : options.ownerOnly ? 'tenant owner' : options.permissions?.length ? options.permissions.join(', ') : 'authenticated',
    ...(undocumented.length ? { 'x-undocumented': undocumented } : {}),
  };
}

function bodyMode(method: string): 'create' | 'update' | 'replace' {
  return method === 'PATCH' ? 'update' : method === 'PUT' ? 'replace' : 'create';
}

const CONTENT_LOCATION = { 'Content-Location': { description: 'Where to follow the work: /api/v1/tasks/{id} for a Task.', schema: { type: 'string' } } };

function redirect() {
  return { description: 'Redirect.', headers: { Location: { schema: { type: 'string' } } } };
}

function taskAccepted() {
  return {
    description: 'Accepted: the work runs in the background; the Task tracks it.',
    headers: CONTENT_LOCATION,
    content: JSON_API_CONTENT(documentSchema(taskResource.type, false)),
  };
}
