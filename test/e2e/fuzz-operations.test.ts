import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestApp, TestApp } from '../support/test-app';
import { JSONAPI, SignedUpUser, signUp } from '../support/http-client';

/**
 * Property: whatever body and query string reach any documented operation,
 * the answer is not a 5xx, comes within 5 s, and is a JSON:API document.
 * Operations, their path parameters, query parameters and request body
 * schemas come from the OpenAPI document the app serves; where it gives no
 * body schema, a JSON:API resource body for the path's resource type is
 * generated, with attribute names the API uses and values chosen to break
 * things (lone surrogates, NUL, overlong, wrong types, injections).
 */
interface OpenApiOperation {
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  $ref?: string;
  format?: string;
}
interface Operation {
  method: string;
  path: string;
  query: string[];
  body?: Schema;
}

const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 6);
const ANSWER_WITHIN_MS = 5000;
const BREAKING_STRINGS = [
  '\ud800',
  'a\udfffb',
  'ada\ud83d@example.com',
  'nul\u0000byte',
  '',
  ' ',
  "' OR 1=1 --",
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '%00',
  '-1',
  '1e309',
  '2024-02-30T25:61:00Z',
  'x'.repeat(300),
];
const ATTRIBUTE_NAMES = [
  'name', 'email', 'password', 'company_name', 'provider', 'uid', 'alias', 'secret', 'secret_type', 'expires_at',
  'scanner_args', 'reason', 'finding_ids', 'provider_id', 'tables', 'clause', 'scope', 'manage_users', 'unlimited_visibility',
  'tenant_id', 'token', 'refresh', 'state', 'connection', 'inserted_at', 'trigger',
];
const QUERY_NAMES = [
  'filter[id]', 'filter[id__in]', 'filter[name]', 'filter[provider]', 'filter[provider__in]', 'filter[inserted_at__gte]',
  'filter[scan]', 'filter[status]', 'filter[severity__in]', 'filter[search]', 'sort', 'include', 'page[size]',
  'page[number]', 'page[cursor]', 'fields[providers]', 'fields[findings]', 'tenant_id',
];

const oddString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...BREAKING_STRINGS) },
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 4 }),
  fc.uuid(),
  fc.emailAddress(),
  fc.constant('y'.repeat(70000)),
);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: oddString },
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(oddString, { maxLength: 3 }),
  fc.dictionary(oddString, oddString, { maxKeys: 3 }),
);

/** A value of the kind an attribute of this name holds, with a character no column can hold inserted somewhere. */
const PLAUSIBLE: Record<string, string> = { email: 'ada@example.com', uid: '123456789012', provider: 'aws', expires_at: '2030-01-01T00:00:00Z', password: 'Correct-Horse-9-Battery' };
const corrupted = (name: string) =>
  fc.tuple(fc.constantFrom('\ud800', '\udc00', '\u0000'), fc.oneof(fc.constant(0), fc.nat())).map(([breaker, at]) => {
    const base = PLAUSIBLE[name] ?? 'value';
    const position = at % (base.length + 1);
    return base.slice(0, position) + breaker + base.slice(position);
  });
const attributeValue = (name: string) => fc.oneof({ weight: 3, arbitrary: corrupted(name) }, oddValue);

function fromSchema(schema: Schema | undefined, components: Record<string, Schema>, depth = 0): fc.Arbitrary<unknown> {
  const resolved = schema?.$ref ? components[schema.$ref.split('/').pop()!] : schema;
  if (!resolved || depth > 4) return oddValue;
  if (resolved.enum) return fc.oneof(fc.constantFrom(...resolved.enum), oddValue);
  switch (resolved.type) {
    case 'object':
      return fc.oneof(
        { weight: 4, arbitrary: fc.record(Object.fromEntries(Object.entries(resolved.properties ?? {}).map(([key, value]) => [key, fromSchema(value, components, depth + 1)])), { requiredKeys: [] }) },
        oddValue,
      );
    case 'array':
      return fc.oneof(fc.array(fromSchema(resolved.items, components, depth + 1), { maxLength: 3 }), oddValue);
    case 'string':
      return resolved.format === 'uuid' ? fc.oneof(fc.uuid(), oddString) : oddString;
    default:
      return oddValue;
  }
}

/** The resource type a path's body names: its last literal segment (e.g. `providers`, `invitations`). */
function resourceType(path: string): string {
  const literal = path.split('/').filter((segment) => segment && !segment.startsWith('{') && segment !== 'api' && segment !== 'v1');
  return literal.filter((segment) => segment !== 'relationships').pop() ?? 'resources';
}

function genericBody(operation: Operation, types: string[], pathId: string): fc.Arbitrary<unknown> {
  const identifier = fc.record({ type: fc.oneof(fc.constantFrom(...types), oddString), id: fc.oneof(fc.uuid(), oddString) });
  // Most bodies get past the type and id checks, so their attributes reach the validators.
  const resource = fc.record(
    {
      type: fc.oneof({ weight: 8, arbitrary: fc.constant(resourceType(operation.path)) }, fc.constantFrom(...types), oddString),
      attributes: fc.oneof(
        { weight: 8, arbitrary: fc.subarray(ATTRIBUTE_NAMES).chain((names) => fc.record(Object.fromEntries(names.map((name) => [name, attributeValue(name)])))) },
        fc.dictionary(oddString, oddValue, { maxKeys: 3 }),
        oddValue,
      ),
      relationships: fc.dictionary(fc.oneof(fc.constantFrom('roles', 'provider_groups', 'providers', 'tables', 'provider'), oddString), fc.record({ data: fc.oneof(fc.array(identifier, { maxLength: 3 }), identifier, fc.constant(null)) }), { maxKeys: 2 }),
    },
    { requiredKeys: ['type', 'attributes'] },
  );
  // Only a PATCH names its resource's id; elsewhere an id is refused before the attributes are looked at.
  const withId =
    operation.method === 'PATCH'
      ? resource.chain((data) => fc.oneof({ weight: 4, arbitrary: fc.constant(pathId) }, fc.uuid(), oddString).map((id) => ({ ...data, id })))
      : resource;
  return fc.oneof({ weight: 8, arbitrary: fc.record({ data: withId }) }, fc.record({ data: fc.array(identifier, { maxLength: 3 }) }), oddValue);
}

/** Percent-encodes any string, lone surrogates included (as the CESU-8 bytes a careless client would send). */
function encode(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (char.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      out += [0xed, 0xa0 | ((code >> 6) & 0x0f), 0x80 | (code & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join('');
    } else out += encodeURIComponent(char);
  }
  return out;
}

describe('property: no documented operation answers a 5xx, hangs, or leaves JSON:API', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let operations: Operation[];
  let components: Record<string, Schema>;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'fuzz');
    const document = (await (await fetch(`${app.baseUrl}/api/v1/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, OpenApiOperation>>;
      components?: { schemas?: Record<string, Schema> };
    };
    components = document.components?.schemas ?? {};
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, operation]) => ({
          method: method.toUpperCase(),
          path,
          query: (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
          body: Object.values(operation.requestBody?.content ?? {})[0]?.schema,
        })),
    );
  });
  after(async () => app.close());

  it('holds for generated bodies and query strings on every operation', async () => {
    assert.ok(operations.length > 50, `${operations.length} operations`);
    const types = [...new Set(operations.map((o) => resourceType(o.path)))];
    // The caller's own user: PATCH /users/{id} reaches its validators. Never its tenant: a DELETE would end the run's caller.
    const pathValue = fc.oneof({ weight: 3, arbitrary: fc.uuid() }, fc.constant(owner.userId), oddString.filter((s) => s.length > 0 && s.length < 5000));
    const requestFor = (operation: Operation) =>
      fc.array(pathValue, { minLength: 2, maxLength: 2 }).chain((pathValues) =>
        fc.record({
          method: fc.oneof({ weight: 19, arbitrary: fc.constant(operation.method) }, fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
          pathValues: fc.constant(pathValues),
          query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...operation.query, ...QUERY_NAMES), oddString), oddString), { maxLength: 4 }),
          body: operation.body ? fromSchema(operation.body, components) : genericBody(operation, types, pathValues[0]),
          contentType: fc.oneof({ weight: 19, arbitrary: fc.constant(JSONAPI) }, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded')),
        }),
      );

    // Each operation gets its own runs, so a rarely reached one is not left to chance.
    for (const operation of operations) {
      await fc.assert(
        fc.asyncProperty(requestFor(operation), async ({ method, pathValues, query, body, contentType }) => {
          let index = 0;
          const path = operation.path.replace(/\{[^}]+\}/g, () => encode(pathValues[index++ % 2]));
          const queryString = query.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
          const url = `${app.baseUrl}${path}${queryString ? `?${queryString}` : ''}`;
          const sendsBody = method !== 'GET';
          const label = `${method} ${url.slice(0, 200)} ${sendsBody ? JSON.stringify(body)?.slice(0, 200) : ''}`;
          const startedAt = Date.now();
          const response = await fetch(url, {
            method,
            headers: { accept: JSONAPI, authorization: `Bearer ${owner.access}`, ...(sendsBody ? { 'content-type': contentType } : {}) },
            body: sendsBody ? JSON.stringify(body) ?? 'null' : undefined,
            signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
          }).catch((error: Error) => assert.fail(`${label}: no answer within ${ANSWER_WITHIN_MS} ms (${error.name})`));
          const text = await response.text();
          assert.ok(Date.now() - startedAt < ANSWER_WITHIN_MS, `${label}: answered after ${Date.now() - startedAt} ms`);
          assert.ok(response.status < 500, `${label}: ${response.status} ${text.slice(0, 300)}`);
          if (response.status === 204 || response.headers.get('content-type') === 'application/zip') return;
          assert.equal(response.headers.get('content-type'), JSONAPI, `${label}: ${response.status} ${text.slice(0, 200)}`);
          const document = JSON.parse(text);
          if (response.status >= 400) {
            assert.ok(Array.isArray(document.errors) && document.errors.length > 0, `${label}: no errors array`);
            for (const error of document.errors) {
              assert.equal(error.status, String(response.status), label);
              assert.equal(typeof error.code, 'string', label);
            }
          } else {
            assert.ok('data' in document || 'meta' in document, `${label}: a success without data or meta`);
          }
        }),
        { numRuns: RUNS_PER_OPERATION },
      );
    }
  });
});
