import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { SignedUpUser, signUp } from '../support/http-client';
import { adminClient } from '../support/database';
import { createGroup, createProvider, randomAwsUid } from '../support/access-fixtures';

function providerBody(attributes: Record<string, unknown>) {
  return { data: { type: 'providers', attributes } };
}

describe('providers', () => {
  let app: TestApp;
  let admin: SignedUpUser;

  before(async () => {
    app = await startTestApp();
    admin = await signUp(app.baseUrl, 'providers');
  });
  after(async () => app.close());

  it('creates a provider and answers it in the contract’s shape', async () => {
    const uid = randomAwsUid();
    const created = await admin.client.post('/api/v1/providers', providerBody({ provider: 'aws', uid, alias: 'Production' }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const data = created.body.data;
    assert.equal(data.type, 'providers');
    assert.equal(data.attributes.provider, 'aws');
    assert.equal(data.attributes.uid, uid);
    assert.equal(data.attributes.alias, 'Production');
    assert.deepEqual(data.attributes.connection, { connected: null, last_checked_at: null });
    assert.ok(data.attributes.inserted_at && data.attributes.updated_at);
    // A to-one relationship with nothing at its end: rendered as data null, or left out by the serializer.
    assert.equal(data.relationships.secret?.data ?? null, null);
    assert.deepEqual(data.relationships.provider_groups.data, []);

    const read = await admin.client.get(`/api/v1/providers/${data.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.attributes.uid, uid);
  });

  it('updates the alias and the UID, checking the UID rule again', async () => {
    const id = await createProvider(admin.client, 'aws');
    const newUid = randomAwsUid();
    const renamed = await admin.client.patch(`/api/v1/providers/${id}`, { data: { type: 'providers', id, attributes: { alias: 'Renamed', uid: newUid } } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.equal(renamed.body.data.attributes.alias, 'Renamed');
    assert.equal(renamed.body.data.attributes.uid, newUid);

    const bad = await admin.client.patch(`/api/v1/providers/${id}`, { data: { type: 'providers', id, attributes: { uid: '12345' } } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].code, 'aws-uid');
    assert.equal(bad.body.errors[0].source.pointer, '/data/attributes/uid');

    const typeChange = await admin.client.patch(`/api/v1/providers/${id}`, { data: { type: 'providers', id, attributes: { provider: 'gcp' } } });
    assert.equal(typeChange.status, 400);
  });

  it('refuses a second live provider with the same type and UID (409), allows it once the first is deleted', async () => {
    const uid = randomAwsUid();
    const first = await createProvider(admin.client, 'aws', uid);
    const duplicate = await admin.client.post('/api/v1/providers', providerBody({ provider: 'aws', uid }));
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.errors[0].source.pointer, '/data/attributes/uid');
    // The same UID under another provider type is another provider.
    const otherType = await admin.client.post('/api/v1/providers', providerBody({ provider: 'kubernetes', uid }));
    assert.equal(otherType.status, 201);
    // Changing another provider's UID onto a taken one is the same conflict.
    const second = await createProvider(admin.client, 'aws');
    const collide = await admin.client.patch(`/api/v1/providers/${second}`, { data: { type: 'providers', id: second, attributes: { uid } } });
    assert.equal(collide.status, 409);

    const db = await adminClient();
    try {
      await db.query('UPDATE providers SET deleted_at = now() WHERE id = $1', [first]);
    } finally {
      await db.end();
    }
    assert.equal((await admin.client.get(`/api/v1/providers/${first}`)).status, 404);
    const list = await admin.client.get('/api/v1/providers?page[disable]=true');
    assert.ok(!list.body.data.some((p: { id: string }) => p.id === first), 'a deleted provider is not listed');
    const patchDeleted = await admin.client.patch(`/api/v1/providers/${first}`, { data: { type: 'providers', id: first, attributes: { alias: 'ghost' } } });
    assert.equal(patchDeleted.status, 404);
    const again = await admin.client.post('/api/v1/providers', providerBody({ provider: 'aws', uid }));
    assert.equal(again.status, 201);
  });

  it('checks UIDs per provider type on create, with the `<provider>-uid` code', async () => {
    const cases: Array<[string, string, boolean]> = [
      ['azure', '8e2a5f8c-1b7d-4c3e-9f6a-2d4b8c1e7a90', true],
      ['azure', '8E2A5F8C-1B7D-4C3E-9F6A-2D4B8C1E7A90', false],
      ['gcp', 'my-project-123', true],
      ['gcp', 'My_Project', false],
      ['m365', 'contoso.onmicrosoft.com', true],
      ['m365', '-contoso.com', false],
      ['github', 'prowler-cloud', true],
      ['github', '-leading-hyphen', false],
      ['iac', 'https://github.com/prowler-cloud/prowler.git', true],
      ['iac', 'ftp://example.com/repo.git', false],
      ['mongodbatlas', '507f1f77bcf86cd799439011', true],
      ['mongodbatlas', '507f1f77bcf86cd79943901', false],
      ['alibabacloud', '1234567890123456', true],
      ['cloudflare', 'ABCDEF0123456789abcdef0123456789', false],
      ['vercel', 'team_abcdefghij0123456789', true],
      ['googleworkspace', 'c01234abc', false],
    ];
    for (const [provider, uid, accepted] of cases) {
      const result = await admin.client.post('/api/v1/providers', providerBody({ provider, uid }));
      if (accepted) {
        assert.equal(result.status, 201, `${provider} ${uid}: ${JSON.stringify(result.body)}`);
      } else {
        assert.equal(result.status, 400, `${provider} ${uid} should be refused`);
        assert.equal(result.body.errors[0].code, `${provider}-uid`);
        assert.equal(result.body.errors[0].source.pointer, '/data/attributes/uid');
        assert.ok(!JSON.stringify(result.body).includes(uid), 'the refused UID is not echoed');
      }
    }
  });

  it('stores an Okta domain trimmed and lower-cased, so spelling variants are one provider', async () => {
    const created = await admin.client.post('/api/v1/providers', providerBody({ provider: 'okta', uid: '  Acme-Corp.OKTA.com ' }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.attributes.uid, 'acme-corp.okta.com');
    const variant = await admin.client.post('/api/v1/providers', providerBody({ provider: 'okta', uid: 'acme-corp.okta.com' }));
    assert.equal(variant.status, 409);
    const tooShort = await admin.client.post('/api/v1/providers', providerBody({ provider: 'kubernetes', uid: 'ab' }));
    assert.equal(tooShort.status, 400);
    assert.equal(tooShort.body.errors[0].code, 'kubernetes-uid');
  });

  it('lists with filters, sorting, paging, page[disable]=true and include=provider_groups', async () => {
    const other = await signUp(app.baseUrl, 'lister');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await createProvider(other.client, 'aws', randomAwsUid(), `alias-${String(i).padStart(2, '0')}`));
    const gcp = await createProvider(other.client, 'gcp', `project-${randomAwsUid()}`, 'gcp-one');
    const groupId = await createGroup(other.client, [ids[0], gcp]);

    const firstPage = await other.client.get('/api/v1/providers');
    assert.equal(firstPage.status, 200);
    assert.equal(firstPage.body.data.length, 10);
    assert.deepEqual(firstPage.body.meta.pagination, { page: 1, pages: 2, count: 13 });

    const all = await other.client.get('/api/v1/providers?page[disable]=true');
    assert.equal(all.body.data.length, 13);
    assert.deepEqual(all.body.meta.pagination, { count: 13 });

    const sorted = await other.client.get('/api/v1/providers?filter[provider]=aws&sort=-alias&page[size]=3');
    assert.deepEqual(sorted.body.data.map((p: any) => p.attributes.alias), ['alias-11', 'alias-10', 'alias-09']);

    const pastTheEnd = await other.client.get('/api/v1/providers?page[number]=9');
    assert.equal(pastTheEnd.status, 200);
    assert.deepEqual(pastTheEnd.body.data, []);
    assert.equal(pastTheEnd.body.meta.pagination.count, 13);

    const searched = await other.client.get('/api/v1/providers?filter[search]=gcp-');
    assert.deepEqual(searched.body.data.map((p: any) => p.id), [gcp]);
    const contains = await other.client.get('/api/v1/providers?filter[alias__icontains]=IAS-0&page[size]=100');
    assert.equal(contains.body.data.length, 10);
    const byType = await other.client.get('/api/v1/providers?filter[provider_type__in]=gcp,azure');
    assert.deepEqual(byType.body.data.map((p: any) => p.id), [gcp]);
    const byIds = await other.client.get(`/api/v1/providers?filter[id__in]=${ids[1]},${ids[2]}&sort=alias`);
    assert.deepEqual(byIds.body.data.map((p: any) => p.id), [ids[1], ids[2]]);
    const neverChecked = await other.client.get('/api/v1/providers?filter[connected]=true');
    assert.deepEqual(neverChecked.body.data, []);
    const today = new Date().toISOString().slice(0, 10);
    const addedToday = await other.client.get(`/api/v1/providers?filter[inserted_at]=${today}&page[disable]=true`);
    assert.equal(addedToday.body.data.length, 13);

    const inGroup = await other.client.get(`/api/v1/providers?filter[provider_groups]=${groupId}&include=provider_groups&sort=alias`);
    assert.deepEqual(inGroup.body.data.map((p: any) => p.id), [ids[0], gcp]);
    assert.deepEqual(inGroup.body.data[0].relationships.provider_groups.data, [{ type: 'provider-groups', id: groupId }]);
    assert.equal(inGroup.body.included.length, 1);
    assert.equal(inGroup.body.included[0].type, 'provider-groups');
    assert.equal(inGroup.body.included[0].id, groupId);

    const sparse = await other.client.get(`/api/v1/providers/${gcp}?fields[providers]=uid,provider`);
    assert.deepEqual(Object.keys(sparse.body.data.attributes).sort(), ['provider', 'uid']);
  });

  it('keeps each tenant’s providers to itself', async () => {
    const stranger = await signUp(app.baseUrl, 'stranger');
    const id = await createProvider(admin.client, 'aws');
    assert.equal((await stranger.client.get(`/api/v1/providers/${id}`)).status, 404);
    const patch = await stranger.client.patch(`/api/v1/providers/${id}`, { data: { type: 'providers', id, attributes: { alias: 'mine now' } } });
    assert.equal(patch.status, 404);
    const list = await stranger.client.get('/api/v1/providers');
    assert.deepEqual(list.body.data, []);
  });

  it('answers bad input with 400, 404 or 409, never 500', async () => {
    const id = await createProvider(admin.client, 'aws');
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', '/api/v1/providers', providerBody({ provider: 'nimbus', uid: '123456789012' }), 400],
      ['POST', '/api/v1/providers', providerBody({ provider: 'aws' }), 400],
      ['POST', '/api/v1/providers', providerBody({ provider: 'aws', uid: 123456789012 }), 400],
      ['POST', '/api/v1/providers', providerBody({ provider: 'aws', uid: randomAwsUid(), alias: 'ab' }), 400],
      ['POST', '/api/v1/providers', providerBody({ provider: 'aws', uid: randomAwsUid(), connection: { connected: true } }), 400],
      ['POST', '/api/v1/providers', { data: { type: 'scans', attributes: { provider: 'aws', uid: randomAwsUid() } } }, 409],
      ['POST', '/api/v1/providers', { data: [] }, 400],
      ['POST', '/api/v1/providers', providerBody({ provider: 'aws', uid: 'x'.repeat(5000) }), 400],
      ['POST', '/api/v1/providers', providerBody({ provider: 'aws', uid: '1234\u0000567890' }), 400],
      ['PATCH', `/api/v1/providers/${id}`, { data: { type: 'providers', id: '00000000-0000-4000-8000-000000000000', attributes: { alias: 'abc' } } }, 409],
      ['PATCH', `/api/v1/providers/${id}`, { data: { type: 'providers', id, attributes: { uid: null } } }, 400],
      ['PATCH', '/api/v1/providers/00000000-0000-4000-8000-000000000000', { data: { type: 'providers', id: '00000000-0000-4000-8000-000000000000', attributes: { alias: 'abc' } } }, 404],
      ['GET', '/api/v1/providers/not-a-uuid', undefined, 400],
      ['GET', '/api/v1/providers/00000000-0000-4000-8000-000000000000', undefined, 404],
      ['GET', '/api/v1/providers?filter[colour]=red', undefined, 400],
      ['GET', '/api/v1/providers?filter[provider]=nimbus', undefined, 400],
      ['GET', '/api/v1/providers?filter[provider_groups]=zzz', undefined, 400],
      ['GET', '/api/v1/providers?filter[inserted_at]=yesterday', undefined, 400],
      ['GET', '/api/v1/providers?sort=secret', undefined, 400],
      ['GET', '/api/v1/providers?include=secret', undefined, 400],
      ['GET', '/api/v1/providers?page[size]=1000', undefined, 400],
      ['GET', '/api/v1/providers?page[disable]=maybe', undefined, 400],
      ['GET', '/api/v1/providers?fields[providers]=password', undefined, 400],
    ];
    for (const [method, path, body, status] of cases) {
      const result = await admin.client.request(method, path, body);
      assert.equal(result.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 120)} answered ${result.status} ${JSON.stringify(result.body)}`);
      assert.ok(Array.isArray(result.body.errors), 'a JSON:API error document');
    }
  });
});
