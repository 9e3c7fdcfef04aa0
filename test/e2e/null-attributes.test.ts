import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp, uniqueEmail } from '../support/test-app';
import { SignedUpUser, signUp } from '../support/http-client';
import { createProvider, createRole, invite } from '../support/access-fixtures';
import { ruleBody } from './rls-rules-fixtures';

/**
 * Every attribute of every documented request body, sent as null on its own:
 * where the OpenAPI document says the attribute may be null the answer is not
 * a 5xx (it reaches the handler, with a real resource behind the path), and
 * where it may not, the answer is a 400 pointing at that attribute, before
 * anything is written. Prowler's serializers answer the same ("This field may
 * not be null"). The operations and their schemas come from the document, so
 * a new body attribute is covered as soon as it is declared.
 */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  examples?: unknown[];
  anyOf?: Schema[];
  items?: Schema;
}
interface BodyOperation {
  method: string;
  path: string;
  data: Schema;
}

const mayBeNull = (schema: Schema) => (Array.isArray(schema.type) ? schema.type.includes('null') : false);

describe('null body attributes: a 400 where the document forbids null, never a 5xx', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let operations: BodyOperation[];
  /** An id of each resource type the fixtures created, for relationships. */
  const idsByType: Record<string, string> = {};

  before(async () => {
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'null-attributes');
    const client = owner.client;
    idsByType.providers = await createProvider(client);
    const secret = await client.post('/api/v1/providers/secrets', {
      data: {
        type: 'provider-secrets',
        attributes: { name: 'read-only keys', secret_type: 'static', secret: { aws_access_key_id: 'AKIAIOSFODNN7EXAMPLE', aws_secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } },
        relationships: { provider: { data: { type: 'providers', id: idsByType.providers } } },
      },
    });
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    const scan = await client.post('/api/v1/scans', { data: { type: 'scans', attributes: { name: 'before nulls' }, relationships: { provider: { data: { type: 'providers', id: idsByType.providers } } } } });
    assert.equal(scan.status, 202, JSON.stringify(scan.body));
    const apiKey = await client.post('/api/v1/api-keys', { data: { type: 'api-keys', attributes: { name: 'null-attributes key' } } });
    assert.equal(apiKey.status, 201, JSON.stringify(apiKey.body));
    const processor = await client.post('/api/v1/processors', { data: { type: 'processors', attributes: { processor_type: 'mutelist', configuration: { Mutelist: { Accounts: {} } } } } });
    assert.equal(processor.status, 201, JSON.stringify(processor.body));
    idsByType.roles = await createRole(client, {}, 'null-attributes');
    await invite(client, uniqueEmail('null-attributes-invitee'), [idsByType.roles]);
    idsByType['rls-tables'] = 'providers';
    const rule = await client.post('/api/v1/rls-rules', ruleBody({ description: 'EU accounts', group_key: 'region', clause: "alias LIKE 'eu-%'", roles: [idsByType.roles], tables: ['providers'] }));
    assert.equal(rule.status, 201, JSON.stringify(rule.body));

    const document = (await (await fetch(`${app.baseUrl}/api/v1/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).flatMap(([method, operation]) => {
        const schema = Object.values(operation.requestBody?.content ?? {})[0]?.schema;
        const data = schema?.properties?.data;
        return data?.properties?.attributes?.properties ? [{ method: method.toUpperCase(), path, data }] : [];
      }),
    );
  });
  after(async () => app.close());

  /** The path with a stored resource's id (the first its collection lists), or with unknown ids (`stored` false) when there is none. */
  async function concretePath(path: string): Promise<{ path: string; stored: boolean }> {
    const collection = path.match(/^(.*)\/\{id\}/)?.[1];
    if (collection && !collection.includes('{')) {
      const listed = await owner.client.get(collection);
      if (listed.status === 200 && Array.isArray(listed.body.data) && listed.body.data.length > 0) return { path: path.replace('{id}', listed.body.data[0].id), stored: true };
    }
    return { path: path.replace(/\{[^}]+\}/g, () => randomUUID()), stored: !path.includes('{') };
  }

  /** The body a client would send, every required attribute at its example, with `name` null. */
  function bodyWithNull(operation: BodyOperation, name: string, id: string | undefined): unknown {
    const attributes = operation.data.properties!.attributes;
    const base: Record<string, unknown> = {};
    if (operation.method !== 'PATCH') {
      for (const required of attributes.required ?? []) base[required] = attributes.properties![required].examples?.[0];
    }
    const relationships: Record<string, unknown> = {};
    for (const [relation, spec] of Object.entries(operation.data.properties?.relationships?.properties ?? {})) {
      const identifier = spec.properties?.data?.anyOf?.[0] ?? spec.properties?.data?.items;
      const type = identifier?.properties?.type?.enum?.[0] as string | undefined;
      if (type && idsByType[type]) {
        relationships[relation] = { data: spec.properties?.data?.items ? [{ type, id: idsByType[type] }] : { type, id: idsByType[type] } };
      }
    }
    return {
      data: {
        type: operation.data.properties?.type?.enum?.[0],
        ...(id !== undefined ? { id } : {}),
        attributes: { ...base, [name]: null },
        ...(Object.keys(relationships).length ? { relationships } : {}),
      },
    };
  }

  it('covers the bodies of every feature', () => {
    const covered = new Set(operations.map((o) => `${o.method} ${o.path}`));
    for (const expected of ['PATCH /api/v1/users/{id}', 'POST /api/v1/roles', 'PATCH /api/v1/providers/{id}', 'PATCH /api/v1/integrations/{id}', 'PUT /api/v1/rls-rules/{id}']) {
      assert.ok(covered.has(expected), `${expected} has a documented body`);
    }
  });

  it('answers each null as its schema says', async () => {
    const failures: string[] = [];
    let nullable = 0;
    let cleared = 0;
    for (const operation of operations) {
      const { path, stored } = await concretePath(operation.path);
      const id = operation.method === 'POST' ? undefined : path.match(/\/([0-9a-f-]{36})$/)?.[1];
      for (const [name, schema] of Object.entries(operation.data.properties!.attributes.properties!)) {
        const answer = await owner.client.request(operation.method, path, bodyWithNull(operation, name, id));
        const what = `${operation.method} ${operation.path} ${name}: null -> ${answer.status} ${JSON.stringify(answer.body).slice(0, 240)}`;
        if (answer.status >= 500) failures.push(what);
        else if (!stored && answer.status === 404) continue; // no such resource to change here (mute rules need findings, SAML an IdP)
        else if (mayBeNull(schema)) {
          nullable++;
          // On a stored resource, a null the document allows clears the attribute.
          if (operation.method === 'PATCH' && answer.status === 200) {
            if (answer.body.data.attributes[name] === null) cleared++;
            else failures.push(`${what} (not cleared)`);
          }
        } else {
          const pointers = (answer.body?.errors ?? []).map((error: { source?: { pointer?: string } }) => error.source?.pointer);
          if (answer.status !== 400 || !pointers.includes(`/data/attributes/${name}`)) failures.push(what);
          else if (!operation.data.properties!.attributes.required?.includes(name) && answer.body.errors.some((error: { code: string }) => error.code !== 'null')) {
            // An attribute the body may leave out is refused for its null alone, with Prowler's code for it.
            failures.push(what);
          }
        }
      }
    }
    assert.deepEqual(failures, []);
    // The attributes Prowler lets clear (a provider's alias, a secret's or a scan's name) and our rules' optional texts.
    assert.ok(nullable >= 8, `${nullable} nullable attributes were sent`);
    // A provider's alias, a secret's and a scan's name, a rule's description and group key, each on a stored resource.
    assert.ok(cleared >= 5, `${cleared} attributes cleared by PATCH`);
    // The owner still signs in and reads their tenant: no null reached a stored row.
    assert.equal((await owner.client.get(`/api/v1/tenants/${owner.tenantId}`)).status, 200);
    assert.equal((await owner.client.get('/api/v1/users/me')).body.data.attributes.email, owner.email);
  });
});
