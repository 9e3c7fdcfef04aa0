import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { appendFileSync } from 'node:fs';
import { AppModule } from '../../src/app.module';
import { API_PREFIX, UNPREFIXED_ROUTES } from '../../src/common/http/route-prefix';
import { buildOpenApiDocument, OpenApiDocument } from '../../src/openapi/openapi-document';

/**
 * This API's own OpenAPI document (src/openapi) as a checker of its answers:
 * the status must be one the operation documents, and the body must match
 * that status's schema. Used by the suites' HTTP client, so an answer that
 * drifts from the document fails the test whose request caused it.
 */
export interface DocumentedOperation {
  method: string;
  /** The document's path template, e.g. `/api/v1/providers/{id}`. */
  path: string;
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>;
}

export interface OpenApiMismatch {
  operation: string;
  status: number;
  problems: string[];
}

let loaded: { document: OpenApiDocument; operations: DocumentedOperation[]; ajv: Ajv2020; validators: Map<string, ValidateFunction> } | null = null;

export function openApiDocument(): OpenApiDocument {
  return state().document;
}

function state() {
  if (loaded) return loaded;
  const document = buildOpenApiDocument(AppModule, { prefix: API_PREFIX, unprefixed: UNPREFIXED_ROUTES });
  const operations: DocumentedOperation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) operations.push({ method: method.toUpperCase(), path, responses: operation.responses as DocumentedOperation['responses'] });
  }
  // Literal segments win over templates: /users/me before /users/{id}.
  operations.sort((a, b) => literalSegments(b.path) - literalSegments(a.path));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('binary', true);
  ajv.addSchema({ $id: 'openapi', components: document.components });
  loaded = { document, operations, ajv, validators: new Map() };
  return loaded;
}

function literalSegments(template: string): number {
  return template.split('/').filter((s) => s && !s.startsWith('{')).length;
}

/** The documented operation a concrete request falls under, if any. */
export function documentedOperation(method: string, url: string): DocumentedOperation | undefined {
  const segments = url.split('?')[0].replace(/\/+$/, '').split('/');
  return state().operations.find((operation) => {
    if (operation.method !== method.toUpperCase()) return false;
    const template = operation.path.split('/');
    return template.length === segments.length && template.every((part, i) => (part.startsWith('{') ? segments[i] !== '' : part === segments[i]));
  });
}

/** Schema references point into the `openapi` schema added above. */
function rebased(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebased);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, key === '$ref' && typeof value === 'string' ? `openapi${value}` : rebased(value)]));
}

function resolveResponse(response: DocumentedOperation['responses'][string]): DocumentedOperation['responses'][string] {
  if (!response.$ref) return response;
  const name = response.$ref.split('/').pop()!;
  return state().document.components.responses[name] as DocumentedOperation['responses'][string];
}

function describe(error: ErrorObject): string {
  return `${error.instancePath || '/'} ${error.message ?? error.keyword}${error.params && 'additionalProperty' in error.params ? ` (${String(error.params.additionalProperty)})` : ''}`;
}

/** null when the answer matches the document (or the request is to no documented operation: unknown routes, Swagger UI). */
export function checkOpenApiAnswer(method: string, url: string, status: number, body: unknown): OpenApiMismatch | null {
  const operation = documentedOperation(method, url);
  if (!operation) return null;
  const name = `${operation.method} ${operation.path}`;
  const documented = operation.responses[String(status)];
  if (!documented) return { operation: name, status, problems: [`status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`] };
  const response = resolveResponse(documented);
  const content = response.content ? Object.entries(response.content)[0] : undefined;
  if (!content) return body === undefined || body === '' ? null : { operation: name, status, problems: ['the document says no body, but one came'] };
  const [mediaType, { schema }] = content;
  if (!mediaType.includes('json') || schema === undefined) return null;
  const key = `${name} ${status}`;
  const { ajv, validators } = state();
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(rebased(schema) as object);
    validators.set(key, validate);
  }
  if (validate(body)) return null;
  return { operation: name, status, problems: (validate.errors ?? []).slice(0, 10).map(describe) };
}

/** What is wrong with `value` under a schema of the document (its $refs resolved in it), as `/pointer message` lines; empty when it matches. */
export function schemaProblems(schema: object, value: unknown): string[] {
  const validate = state().ajv.compile(rebased(schema) as object);
  return validate(value) ? [] : (validate.errors ?? []).slice(0, 10).map(describe);
}

/**
 * Records that a suite called an operation (one line per call) in
 * OPENAPI_CALLS_FILE, which `npm test` reads after the run to list the
 * operations no suite called.
 */
export function recordCall(method: string, url: string): void {
  const file = process.env.OPENAPI_CALLS_FILE;
  const operation = file ? documentedOperation(method, url) : undefined;
  if (file && operation) appendFileSync(file, `${operation.method} ${operation.path}\n`);
}

/** The operations of the document that no line of `calls` names, as `METHOD path (operationId)`. */
export function uncalledOperations(document: OpenApiDocument, calls: readonly string[]): string[] {
  const called = new Set(calls.map((line) => line.trim()).filter(Boolean));
  const missing: string[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!called.has(`${method.toUpperCase()} ${path}`)) missing.push(`${method.toUpperCase()} ${path} (${operation.operationId})`);
    }
  }
  return missing.sort();
}
