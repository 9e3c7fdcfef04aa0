import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, signUp, SignedUpUser } from '../support/http-client';
import { FINDING_LIST } from '../../src/findings/finding-list-spec';
import { MAX_PAGE_SIZE } from '../../src/common/jsonapi/query-parser';
import { checkOpenApiAnswer, documentedOperation, openApiDocument, uncalledOperations } from '../support/openapi-check';

type Operation = { operationId: string; parameters: any[]; requestBody?: any; responses: Record<string, any>; security: unknown[]; 'x-undocumented'?: string[] };

function operations(document: any): Array<{ method: string; path: string; operation: Operation }> {
  return Object.entries<any>(document.paths).flatMap(([path, methods]) => Object.entries<Operation>(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })));
}

describe('The OpenAPI document', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let served: any;

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'openapi');
    served = await (await fetch(`${app.baseUrl}/api/v1/docs/openapi.json`)).json();
  });
  after(async () => app.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    assert.equal(served.openapi, '3.1.0');
    const result = await new Validator().validate(served);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 4000));
  });

  it('is the document the suites check answers against, and Swagger UI shows it', async () => {
    assert.deepEqual(served, JSON.parse(JSON.stringify(openApiDocument())));
    const ui = await fetch(`${app.baseUrl}/api/v1/docs`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /swagger-ui/i);
  });

  it('documents every operation: success answer, request body, errors and security', () => {
    const gaps = operations(served)
      .filter(({ operation }) => operation['x-undocumented'])
      .map(({ method, path, operation }) => `${method} ${path}: ${operation['x-undocumented']!.join(', ')}`);
    assert.deepEqual(gaps, [], `operations whose handler declares too little (add resource/list, answer or body to @Endpoint, or read the body with @ResourceBody):\n  ${gaps.join('\n  ')}`);
    for (const { method, path, operation } of operations(served)) {
      const statuses = Object.keys(operation.responses);
      assert.ok(statuses.some((status) => /^[23]/.test(status)), `${method} ${path} documents a success answer`);
      assert.ok(statuses.includes('400') && statuses.includes('503'), `${method} ${path} documents its error answers`);
      for (const status of statuses.filter((s) => /^[45]/.test(s))) {
        assert.equal(operation.responses[status].$ref, `#/components/responses/Error${status}`, `${method} ${path} ${status} is the one error schema`);
      }
      const isPublic = operation.security.length === 0;
      assert.equal(statuses.includes('401'), !isPublic || statuses.includes('401'), `${method} ${path}`);
      if (!isPublic) assert.deepEqual(operation.security, [{ bearer: [] }, { 'api-key': [] }], `${method} ${path} takes a bearer token or an API key`);
    }
  });

  it('documents parameters from the query specs, bodies from the body classes and answers from the resource schemas', () => {
    const findings = served.paths['/api/v1/findings'].get as Operation;
    const names = findings.parameters.map((p: any) => p.name);
    for (const name of ['filter[severity]', 'filter[severity__in]', 'filter[inserted_at__gte]', 'sort', 'include', 'fields[findings]', 'page[size]', 'page[cursor]']) {
      assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    }
    assert.deepEqual(findings.parameters.find((p: any) => p.name === 'filter[severity]').schema.enum, ['critical', 'high', 'medium', 'low', 'informational']);
    assert.equal(findings.parameters.find((p: any) => p.name === 'page[size]').schema.maximum, FINDING_LIST.pageSizeMax ?? MAX_PAGE_SIZE);

    const create = served.paths['/api/v1/providers'].post as Operation;
    const body = create.requestBody.content['application/vnd.api+json'].schema.properties.data;
    assert.deepEqual(body.properties.type.enum, ['providers']);
    assert.deepEqual(body.properties.attributes.required, ['provider', 'uid']);
    assert.equal(body.properties.attributes.properties.alias.maxLength, 100);
    assert.ok(body.properties.attributes.properties.provider.enum.includes('aws'));

    const secret = served.paths['/api/v1/providers/secrets'].post.requestBody.content['application/vnd.api+json'].schema.properties.data;
    assert.deepEqual(secret.properties.relationships.required, ['provider']);
    const rule = served.paths['/api/v1/rls-rules'].post.requestBody.content['application/vnd.api+json'].schema.properties.data;
    assert.deepEqual(rule.properties.relationships.properties.tables.properties.data.items.properties.type.enum, ['rls-tables']);
    const upload = served.paths['/api/v1/scans/imports'].post.requestBody.content['multipart/form-data'].schema;
    assert.equal(upload.properties.file.format, 'binary');

    const accepted = served.paths['/api/v1/scans/imports'].post.responses['202'];
    assert.ok(accepted.headers['Content-Location']);
    assert.equal(accepted.content['application/vnd.api+json'].schema.properties.data.$ref, '#/components/schemas/Tasks');
    assert.equal(served.components.schemas.Providers.properties.attributes.properties.uid.type, 'string');
    assert.equal(served.paths['/api/v1/providers/secrets/{id}'].delete.responses['204'].content, undefined);
  });

  it('refuses answers that do not match it', () => {
    const id = randomUUID();
    const provider = { type: 'providers', id, attributes: { provider: 'aws', uid: '123456789012', alias: null }, relationships: { secret: { data: null } } };
    assert.equal(checkOpenApiAnswer('GET', `/api/v1/providers/${id}`, 200, { data: provider }), null);
    assert.match(checkOpenApiAnswer('POST', '/api/v1/providers', 200, { data: provider })?.problems.join() ?? '', /status 200 is not documented/);
    assert.match(checkOpenApiAnswer('GET', `/api/v1/providers/${id}`, 200, { data: { ...provider, attributes: { uid: 7 } } })?.problems.join() ?? '', /\/data\/attributes\/uid must be string/);
    assert.match(checkOpenApiAnswer('GET', `/api/v1/providers/${id}`, 200, { data: { ...provider, attributes: { secret_word: 'x' } } })?.problems.join() ?? '', /additional properties \(secret_word\)/);
    assert.match(checkOpenApiAnswer('GET', `/api/v1/providers/${id}`, 404, { message: 'nope' })?.problems.join() ?? '', /must have required property 'errors'/);
    assert.match(checkOpenApiAnswer('GET', '/api/v1/providers', 500, { errors: [] })?.problems.join() ?? '', /status 500 is not documented/);
    assert.equal(documentedOperation('GET', '/api/v1/users/me')?.path, '/api/v1/users/me');
    assert.equal(documentedOperation('GET', `/api/v1/users/${id}`)?.path, '/api/v1/users/{id}');
    assert.equal(documentedOperation('GET', '/api/v1/no-such-thing'), undefined);
  });

  it('lists the operations no call reached', () => {
    const document = openApiDocument();
    const all = uncalledOperations(document, []);
    assert.equal(all.length, operations(document).length);
    const rest = uncalledOperations(document, ['GET /api/v1/providers', 'GET /api/v1/users/me']);
    assert.equal(rest.length, all.length - 2);
    assert.ok(rest.some((line) => line.startsWith('POST /api/v1/providers (')), rest.join('\n'));
  });

  describe('declared limits are the enforced ones', () => {
    it('a query parameter one past its maxLength, and page[size] one past its maximum, are 400', async () => {
      const checked: string[] = [];
      for (const { method, path, operation } of operations(served)) {
        if (method !== 'GET' || path.includes('{')) continue;
        const sized = operation.parameters.find((p: any) => p.in === 'query' && p.name === 'page[size]');
        const long = operation.parameters.find((p: any) => p.in === 'query' && typeof p.schema.maxLength === 'number' && !p.schema.enum);
        for (const [parameter, value] of [
          [sized, sized && String(sized.schema.maximum + 1)],
          [long, long && 'x'.repeat(long.schema.maxLength + 1)],
        ] as Array<[any, string]>) {
          if (!parameter) continue;
          const answer = await owner.client.get(`${path}?${encodeURIComponent(parameter.name)}=${value}`);
          assert.equal(answer.status, 400, `${path} ${parameter.name}: ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.errors[0].source.parameter, parameter.name, `${path} ${parameter.name}`);
          checked.push(`${path} ${parameter.name}`);
        }
        const fine = sized && (await owner.client.get(`${path}?page[size]=${sized.schema.maximum}`));
        // At the maximum the size is taken (an endpoint may still want a filter it requires).
        if (fine) assert.ok(fine.status < 400 || !fine.body.errors.some((e: any) => e.source?.parameter === 'page[size]'), `${path} at its page[size] maximum: ${fine.status} ${JSON.stringify(fine.body)}`);
      }
      assert.ok(checked.length > 20, checked.join('\n'));
    });

    it('a body attribute one past its maxLength is 400 pointing at it', async () => {
      const checked: string[] = [];
      for (const { method, path, operation } of operations(served)) {
        if (method !== 'POST' || path.includes('{')) continue;
        const schema = operation.requestBody?.content?.['application/vnd.api+json']?.schema;
        const data = schema?.properties?.data;
        if (!data?.properties?.attributes) continue;
        for (const [name, attribute] of Object.entries<any>(data.properties.attributes.properties ?? {})) {
          if (typeof attribute.maxLength !== 'number') continue;
          // Required relationships are sent, so the attributes are what the body is refused for.
          const relationships = Object.fromEntries(
            (data.properties.relationships?.required ?? []).map((relationship: string) => {
              const spec = data.properties.relationships.properties[relationship].properties.data;
              const type = (spec.items ?? spec.anyOf[0]).properties.type.enum[0];
              return [relationship, { data: spec.items ? [{ type, id: randomUUID() }] : { type, id: randomUUID() } }];
            }),
          );
          const body = { data: { type: data.properties.type.enum[0], attributes: { [name]: 'a'.repeat(attribute.maxLength + 1) }, relationships } };
          const client = operation.security.length === 0 ? new ApiClient(app.baseUrl) : owner.client;
          const answer = await client.post(path, body);
          assert.equal(answer.status, 400, `${path} ${name}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
          const pointers = (answer.body.errors as any[]).map((e) => e.source?.pointer);
          assert.ok(pointers.includes(`/data/attributes/${name}`), `${path} ${name}: ${pointers.join(', ')}`);
          checked.push(`${path} ${name}`);
        }
      }
      assert.ok(checked.length >= 8, checked.join('\n'));
    });

    it('a body one byte past the body limit is 413', async () => {
      const limit = app.config.http.bodyLimitBytes;
      const padding = 'a'.repeat(limit);
      const answer = await owner.client.request('POST', '/api/v1/providers', `{"data":{"type":"providers","attributes":{"alias":"${padding}"}}}`.slice(0, limit + 1));
      assert.equal(answer.status, 413);
      assert.ok(served.paths['/api/v1/providers'].post.responses['413']);
      const under = await owner.client.request('POST', '/api/v1/providers', JSON.stringify({ data: { type: 'providers', attributes: { provider: 'aws', uid: '123456789012', alias: 'x'.repeat(100) } } }));
      assert.equal(under.status, 201, JSON.stringify(under.body));
    });
  });
});
