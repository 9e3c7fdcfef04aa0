import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';
import { inviteMember } from '../support/access-fixtures';

/**
 * Every documented operation, fed odd path ids, query strings and bodies by a
 * caller holding every permission (and the ids by a member with no role):
 * each answer is a 4xx JSON:API error (or a success), never a 500. The operations come from the OpenAPI document, so a
 * new endpoint is covered as soon as it is routed.
 */
const BAD_IDS = ['not-a-uuid', '12345', '00000000-0000-0000-0000-00000000000g', "'%20OR%201=1", '%00'];
const ODD_QUERIES = [
  'filter[nope]=1',
  'page[size]=abc',
  'page[number]=0',
  'page[number]=99999999999999999999',
  'sort=-',
  'include=nope',
  'fields[nope]=x',
  'filter[id]=not-a-uuid',
  'filter[inserted_at__gte]=yesterday',
  'filter[tenant_id]=00000000-0000-4000-8000-000000000000',
];
const ODD_BODIES = [
  '{"data": {',
  'null',
  '[]',
  '"text"',
  '{"data":null}',
  '{"data":{"type":"nope","attributes":{}}}',
  '{"data":{"type":"providers","attributes":{"provider":["aws"],"uid":{"$ne":1}}}}',
  '{"data":{"attributes":{"name":"' + 'x'.repeat(5000) + '"}}}',
  '{"data":{"id":"not-a-uuid","type":"roles","relationships":{"provider_groups":{"data":[{"type":"provider-groups","id":"not-a-uuid"}]}}}}',
  '{"data":[{"type":"roles","id":"not-a-uuid"},null,7]}',
  '{"__proto__":{"polluted":true},"data":{"type":"users","attributes":{"constructor":{"prototype":{"x":1}}}}}',
];

interface Operation {
  method: string;
  path: string;
}

describe('no input ends in a 500, on any documented endpoint', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let roleless: ApiClient;
  let operations: Operation[];

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'no-500');
    roleless = (await inviteMember(app.baseUrl, owner, [], 'no-500-roleless')).client;
    const document = (await (await fetch(`${app.baseUrl}/api/v1/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  after(async () => app.close());

  /** Runs the calls a few at a time and lists every 5xx answer with what caused it. */
  async function serverErrors(calls: Array<{ method: string; path: string; body?: string }>, client: ApiClient = owner.client): Promise<string[]> {
    const failures: string[] = [];
    for (let start = 0; start < calls.length; start += 8) {
      await Promise.all(
        calls.slice(start, start + 8).map(async (call) => {
          const result = await client.request(call.method, call.path, call.body);
          if (result.status >= 500) failures.push(`${call.method} ${call.path} ${call.body?.slice(0, 60) ?? ''} -> ${result.status} ${JSON.stringify(result.body).slice(0, 200)}`);
          else if (result.status >= 400 && call.path.startsWith('/api/v1')) {
            if (!Array.isArray(result.body?.errors)) failures.push(`${call.method} ${call.path} -> ${result.status} without a JSON:API error`);
          }
        }),
      );
    }
    return failures;
  }

  const withIds = (path: string, id: string) => path.replace(/\{[^}]+\}/g, id);

  it('covers the endpoints of every feature', () => {
    const paths = new Set(operations.map((o) => o.path));
    for (const expected of ['/api/v1/providers/{id}', '/api/v1/providers/secrets/{id}', '/api/v1/roles/{id}', '/api/v1/tasks/{id}', '/api/v1/rls-rules/{id}', '/api/v1/schedules/daily']) {
      assert.ok(paths.has(expected), `${expected} is documented`);
    }
    assert.ok(operations.length > 50, `${operations.length} operations`);
  });

  it('odd path ids answer 400 or 404', async () => {
    const calls = operations
      .filter((o) => o.path.includes('{'))
      .flatMap((o) => [...BAD_IDS, randomUUID()].map((id) => ({ method: o.method, path: withIds(o.path, id), body: o.method === 'GET' || o.method === 'DELETE' ? undefined : '{}' })));
    assert.deepEqual(await serverErrors(calls), []);
    assert.deepEqual(await serverErrors(calls, roleless), []);
    for (const o of operations.filter((x) => /\{id\}$/.test(x.path) && x.method === 'GET' && x.path.startsWith('/api/v1/'))) {
      const result = await owner.client.get(withIds(o.path, 'not-a-uuid'));
      assert.equal(result.status, 400, `${o.path} with a malformed id: ${result.status}`);
      const unknown = await owner.client.get(withIds(o.path, randomUUID()));
      assert.equal(unknown.status, 404, `${o.path} with an unknown id: ${unknown.status}`);
    }
  });

  it('odd query strings answer 400 or are served', async () => {
    const calls = operations
      .filter((o) => o.method === 'GET')
      .flatMap((o) => ODD_QUERIES.map((query) => ({ method: 'GET', path: `${withIds(o.path, randomUUID())}?${query}` })));
    assert.deepEqual(await serverErrors(calls), []);
  });

  it('odd bodies answer 4xx', async () => {
    const calls = operations
      .filter((o) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(o.method))
      .flatMap((o) => ODD_BODIES.map((body) => ({ method: o.method, path: withIds(o.path, randomUUID()), body })));
    assert.deepEqual(await serverErrors(calls), []);
    // The caller's own tenant still answers: none of it took effect.
    assert.equal((await owner.client.get(`/api/v1/tenants/${owner.tenantId}`)).status, 200);
  });
});
