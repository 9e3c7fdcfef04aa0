import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestApp, TestApp } from '../support/test-app';
import { JSONAPI, SignedUpUser, signUp } from '../support/http-client';

/**
 * Property: whatever body and query string reach any documented operation,
 * the answer is not a 5xx, comes within 5 s, and is a JSON:API document.
 * Operations, their path parameters, query parameters (with their enums and
 * bounds) and request body schemas all come from the OpenAPI document the
 * app serves (src/openapi), so a new endpoint is fuzzed as soon as it is
 * documented. Values follow the schemas most of the time, one past their
 * bounds often, and are chosen to break things the rest of the time (lone
 * surrogates, NUL, overlong, wrong types, injections).
 */
interface Parameter {
  name: string;
  in: string;
  schema?: Schema;
}
interface OpenApiOperation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  $ref?: string;
  format?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}
interface Operation {
  method: string;
  path: string;
  query: Parameter[];
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
/** Query names no operation declares, which must be refused cleanly. */
const UNDECLARED_QUERY_NAMES = ['filter[nope]', 'filter[id__bogus]', 'page[whatever]', 'fields[nope]', 'tenant_id'];

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

/** A string that breaks a plausible one: a lone surrogate or NUL inserted somewhere. */
const corrupted = (base: string) =>
  fc.tuple(fc.constantFrom('\ud800', '\udc00', '\u0000'), fc.nat()).map(([breaker, at]) => {
    const position = at % (base.length + 1);
    return base.slice(0, position) + breaker + base.slice(position);
  });

/** A string the schema allows, or one just past it (maxLength + 1), or a broken one. */
function stringFor(schema: Schema): fc.Arbitrary<string> {
  const plausible =
    schema.format === 'uuid' ? fc.uuid()
    : schema.format === 'date-time' ? fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString())
    : schema.format === 'email' ? fc.emailAddress()
    : fc.string({ maxLength: Math.min(schema.maxLength ?? 40, 40) });
  return fc.oneof(
    { weight: 4, arbitrary: plausible },
    plausible.chain((text) => corrupted(text)),
    ...(schema.maxLength !== undefined ? [fc.constant('m'.repeat(schema.maxLength + 1))] : []),
    oddString,
  );
}

function fromSchema(schema: Schema | undefined, components: Record<string, Schema>, depth = 0): fc.Arbitrary<unknown> {
  const resolved = schema?.$ref ? components[schema.$ref.split('/').pop()!] : schema;
  if (!resolved || depth > 6) return oddValue;
  if (resolved.const !== undefined) return fc.oneof({ weight: 8, arbitrary: fc.constant(resolved.const) }, oddValue);
  if (resolved.enum) return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...resolved.enum) }, oddValue);
  if (resolved.anyOf) return fc.oneof(...resolved.anyOf.map((option) => fromSchema(option, components, depth + 1)));
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type];
  const type = types.find((t) => t !== 'null');
  const value = ((): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'object': {
        const required = new Set(resolved.required ?? []);
        const members = Object.entries(resolved.properties ?? {});
        return fc.oneof(
          {
            weight: 6,
            arbitrary: fc.record(Object.fromEntries(members.map(([key, value]) => [key, fromSchema(value, components, depth + 1)])), {
              requiredKeys: members.map(([key]) => key).filter((key) => required.has(key)),
            }),
          },
          fc.record(Object.fromEntries(members.map(([key, value]) => [key, fromSchema(value, components, depth + 1)])), { requiredKeys: [] }),
          oddValue,
        );
      }
      case 'array':
        return fc.oneof({ weight: 4, arbitrary: fc.array(fromSchema(resolved.items, components, depth + 1), { maxLength: 3 }) }, oddValue);
      case 'string':
        return fc.oneof({ weight: 6, arbitrary: stringFor(resolved) }, oddValue);
      case 'integer':
      case 'number': {
        const low = (resolved.minimum ?? -1000) - 1;
        const high = (resolved.maximum ?? 1000) + 1;
        return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: low, max: high }) }, oddValue);
      }
      case 'boolean':
        return fc.oneof({ weight: 4, arbitrary: fc.boolean() }, oddValue);
      default:
        return oddValue;
    }
  })();
  return types.includes('null') ? fc.oneof({ weight: 4, arbitrary: value }, fc.constant(null)) : value;
}

/** A query value for a declared parameter, as text: from its schema, or broken. */
function queryValue(parameter: Parameter, components: Record<string, Schema>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fromSchema(parameter.schema, components).map((value) => (typeof value === 'string' ? value : JSON.stringify(value) ?? '')) },
    oddString,
  );
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
          query: (operation.parameters ?? []).filter((p) => p.in === 'query'),
          body: Object.values(operation.requestBody?.content ?? {})[0]?.schema,
        })),
    );
  });
  after(async () => app.close());

  it('holds for generated bodies and query strings on every operation', async () => {
    assert.ok(operations.length > 50, `${operations.length} operations`);
    // The caller's own user: PATCH /users/{id} reaches its validators. Never its tenant: a DELETE would end the run's caller.
    const pathValue = fc.oneof({ weight: 3, arbitrary: fc.uuid() }, fc.constant(owner.userId), oddString.filter((s) => s.length > 0 && s.length < 5000));
    const requestFor = (operation: Operation) =>
      fc.array(pathValue, { minLength: 2, maxLength: 2 }).chain((pathValues) =>
        fc.record({
          method: fc.oneof({ weight: 19, arbitrary: fc.constant(operation.method) }, fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
          pathValues: fc.constant(pathValues),
          query: fc.array(
            fc.oneof(
              { weight: 6, arbitrary: operation.query.length ? fc.constantFrom(...operation.query).chain((p) => fc.tuple(fc.constant(p.name), queryValue(p, components))) : fc.tuple(oddString, oddString) },
              fc.tuple(fc.oneof(fc.constantFrom(...UNDECLARED_QUERY_NAMES), oddString), oddString),
            ),
            { maxLength: 4 },
          ),
          // A PATCH body names the path's id, so its attributes reach the validators.
          body: (operation.body ? fromSchema(operation.body, components) : oddValue).map((body) =>
            operation.method === 'PATCH' && isObject(body) && isObject(body.data) && body.data.id !== undefined ? { ...body, data: { ...body.data, id: pathValues[0] } } : body,
          ),
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
