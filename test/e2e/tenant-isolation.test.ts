import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient, SignedUpUser, signUp } from '../support/http-client';

describe('two tenants cannot reach each other', () => {
  let app: TestApp;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let bobMembershipId: string;

  before(async () => {
    app = await startTestApp();
    alice = await signUp(app.baseUrl, 'alice');
    bob = await signUp(app.baseUrl, 'bob');
    const memberships = await bob.client.get(`/api/v1/tenants/${bob.tenantId}/memberships`);
    bobMembershipId = memberships.body.data[0].id;
  });
  after(async () => app.close());

  it('lists show only the caller’s own tenant', async () => {
    const tenants = await alice.client.get('/api/v1/tenants');
    assert.equal(tenants.status, 200);
    assert.deepEqual(tenants.body.data.map((t: { id: string }) => t.id), [alice.tenantId]);
    const memberships = await alice.client.get(`/api/v1/tenants/${alice.tenantId}/memberships`);
    assert.equal(memberships.body.data.length, 1);
    assert.equal(memberships.body.data[0].relationships.user.data.id, alice.userId);
  });

  it('reading the other tenant’s rows by guessed id answers 404', async () => {
    for (const path of [
      `/api/v1/tenants/${bob.tenantId}`,
      `/api/v1/tenants/${bob.tenantId}/memberships`,
      `/api/v1/users/${bob.userId}`,
    ]) {
      const result = await alice.client.get(path);
      assert.equal(result.status, 404, `${path} answered ${result.status}`);
      assert.equal(result.body.errors[0].status, '404');
    }
  });

  it('updating or deleting the other tenant’s rows answers 404 and changes nothing', async () => {
    const rename = await alice.client.patch(`/api/v1/tenants/${bob.tenantId}`, { data: { type: 'tenants', id: bob.tenantId, attributes: { name: 'taken over' } } });
    assert.equal(rename.status, 404);
    const patchUser = await alice.client.patch(`/api/v1/users/${bob.userId}`, { data: { type: 'users', id: bob.userId, attributes: { name: 'taken over' } } });
    assert.equal(patchUser.status, 404);
    const remove = await alice.client.delete(`/api/v1/tenants/${bob.tenantId}`);
    assert.equal(remove.status, 404);
    const bobsView = await bob.client.get(`/api/v1/tenants/${bob.tenantId}`);
    assert.equal(bobsView.status, 200);
    assert.notEqual(bobsView.body.data.attributes.name, 'taken over');
    const bobUser = await bob.client.get('/api/v1/users/me');
    assert.notEqual(bobUser.body.data.attributes.name, 'taken over');
    assert.ok(bobMembershipId);
  });

  it('a tenant_id in the body or the query string is ignored: the token decides', async () => {
    const query = await alice.client.get(`/api/v1/tenants/${alice.tenantId}/memberships?tenant_id=${bob.tenantId}`);
    assert.equal(query.status, 200);
    assert.equal(query.body.data[0].relationships.tenant.data.id, alice.tenantId);
    const renamed = await alice.client.patch(`/api/v1/tenants/${alice.tenantId}`, {
      data: { type: 'tenants', id: alice.tenantId, attributes: { name: 'alice renamed', tenant_id: bob.tenantId } },
    });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.data.id, alice.tenantId);
    const bobsView = await bob.client.get(`/api/v1/tenants/${bob.tenantId}`);
    assert.notEqual(bobsView.body.data.attributes.name, 'alice renamed');
  });

  it('a user in two tenants switches between them and sees each one’s data only', async () => {
    const created = await alice.client.post('/api/v1/tenants', { data: { type: 'tenants', attributes: { name: 'alice second' } } });
    assert.equal(created.status, 201);
    const second = created.body.data.id as string;
    const listed = await alice.client.get('/api/v1/tenants?sort=name');
    assert.deepEqual(listed.body.data.map((t: { id: string }) => t.id).sort(), [alice.tenantId, second].sort());

    const switched = await alice.client.post('/api/v1/tokens/switch', { data: { type: 'tokens-switch-tenant', attributes: { tenant_id: second } } });
    assert.equal(switched.status, 200, JSON.stringify(switched.body));
    const inSecond = alice.client.withToken(switched.body.data.attributes.access);
    const members = await inSecond.get(`/api/v1/tenants/${second}/memberships`);
    assert.equal(members.status, 200);
    assert.equal(members.body.data[0].relationships.tenant.data.id, second);
    const firstFromSecond = await inSecond.get(`/api/v1/tenants/${alice.tenantId}/memberships`);
    assert.equal(firstFromSecond.status, 404);

    // Prowler marks, among your memberships, the one of the tenant your token is for.
    const activeTenants = async (client: ApiClient) => {
      const me = await client.get('/api/v1/users/me?include=memberships');
      assert.equal(me.status, 200, JSON.stringify(me.body));
      const tenantOf = new Map(me.body.included.map((m: any) => [m.id, m.relationships.tenant.data.id]));
      return me.body.data.relationships.memberships.data.map((m: any) => [tenantOf.get(m.id), m.meta.active]).sort();
    };
    assert.deepEqual(await activeTenants(inSecond), [[alice.tenantId, false], [second, true]].sort());
    assert.deepEqual(await activeTenants(alice.client), [[alice.tenantId, true], [second, false]].sort());

    const intoBob = await alice.client.post('/api/v1/tokens/switch', { data: { type: 'tokens-switch-tenant', attributes: { tenant_id: bob.tenantId } } });
    assert.equal(intoBob.status, 400);
  });
});
