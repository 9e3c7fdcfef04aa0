import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'pg';
import { adminClient } from '../support/database';
import { ApiClient, signUp, type SignedUpUser } from '../support/http-client';
import type { TestApp } from '../support/test-app';
import { startApiProcess } from '../support/api-process';
import { addMember, createRule, grantRole, insertProviders, insertRole, predicateFor, principal, startRulesApp, visibleProviderUids } from './rls-rules-fixtures';

/*
 * Two applications, each with its own rule cache, stand for two API
 * processes behind a load balancer: a change made through one holds on the
 * very next request served by the other, with each cache warm beforehand.
 */
describe('row filter rules across API processes', () => {
  let first: TestApp;
  let second: TestApp;
  let admin: Client;
  let owner: SignedUpUser;
  let analyst: string;

  before(async () => {
    [first, second] = await Promise.all([startRulesApp(), startRulesApp()]);
    admin = await adminClient();
    owner = await signUp(first.baseUrl, 'consistency');
    analyst = await insertRole(admin, owner.tenantId, 'analyst');
    await insertProviders(admin, owner.tenantId, [
      { uid: 'aws-1', provider: 'aws' },
      { uid: 'gcp-1', provider: 'gcp' },
    ]);
  });
  after(async () => {
    await admin.end();
    await Promise.all([first.close(), second.close()]);
  });

  /** The effective clause on providers for a user, as served by one application. */
  async function clauseOn(app: TestApp, userId: string): Promise<string | null> {
    const served = await new ApiClient(app.baseUrl, owner.access).get(`/api/v1/rls-rules/effective?filter[table]=providers&filter[user]=${userId}`);
    assert.equal(served.status, 200, JSON.stringify(served.body));
    return served.body.data.attributes.clause;
  }

  it('creating, changing and deleting a rule through one process holds at once in the other', async () => {
    const member = await addMember(first.baseUrl, admin, owner.tenantId, 'consistency-member', [analyst]);
    const who = principal(owner.tenantId, [analyst]);
    assert.equal(await clauseOn(second, member.userId), null);
    assert.deepEqual(await visibleProviderUids(second, who), ['aws-1', 'gcp-1']);

    const id = await createRule(owner.client, { clause: "provider = 'aws'", roles: [analyst] });
    assert.equal(await clauseOn(second, member.userId), "(provider = 'aws')");
    assert.deepEqual(await visibleProviderUids(second, who), ['aws-1']);

    const patched = await owner.client.patch(`/api/v1/rls-rules/${id}`, { data: { type: 'rls-rules', id, attributes: { clause: "provider = 'gcp'" } } });
    assert.equal(patched.status, 200);
    assert.equal(await clauseOn(second, member.userId), "(provider = 'gcp')");
    assert.deepEqual(await visibleProviderUids(second, who), ['gcp-1']);

    const unlinked = await owner.client.patch(`/api/v1/rls-rules/${id}`, {
      data: { type: 'rls-rules', id, attributes: { filter_type: 'Base' }, relationships: { roles: { data: [{ type: 'roles', id: analyst }] } } },
    });
    assert.equal(unlinked.status, 200);
    assert.equal(await clauseOn(second, member.userId), null, 'a Base rule exempts the roles it names');
    assert.deepEqual(await visibleProviderUids(second, principal(owner.tenantId, [])), ['gcp-1']);

    assert.equal((await owner.client.delete(`/api/v1/rls-rules/${id}`)).status, 204);
    assert.equal(await clauseOn(second, member.userId), null);
    assert.deepEqual(await visibleProviderUids(second, principal(owner.tenantId, [])), ['aws-1', 'gcp-1']);
  });

  it('holds at once in a separate API process (dist/src/main.js) whose cache is warm', async () => {
    const other = await startApiProcess({ LOG_LEVEL: 'silent' });
    try {
      const tenant = await signUp(first.baseUrl, 'consistency-process');
      await insertProviders(admin, tenant.tenantId, [
        { uid: 'aws-p', provider: 'aws' },
        { uid: 'gcp-p', provider: 'gcp' },
      ]);
      const role = await insertRole(admin, tenant.tenantId, 'process-analyst', ['unlimited_visibility']);
      const member = await addMember(first.baseUrl, admin, tenant.tenantId, 'consistency-process-member', [role]);
      const remote = new ApiClient(other.baseUrl, member.access);
      const uids = async () => {
        const listed = await remote.get('/api/v1/providers?sort=uid');
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        return listed.body.data.map((provider: { attributes: { uid: string } }) => provider.attributes.uid);
      };
      assert.deepEqual(await uids(), ['aws-p', 'gcp-p']);

      const id = await createRule(tenant.client, { clause: "provider = 'gcp'", roles: [role] });
      assert.deepEqual(await uids(), ['gcp-p']);
      assert.equal((await tenant.client.patch(`/api/v1/rls-rules/${id}`, { data: { type: 'rls-rules', id, attributes: { clause: "provider = 'aws'" } } })).status, 200);
      assert.deepEqual(await uids(), ['aws-p']);
      assert.equal((await tenant.client.delete(`/api/v1/rls-rules/${id}`)).status, 204);
      assert.deepEqual(await uids(), ['aws-p', 'gcp-p']);
    } finally {
      await other.stop();
    }
  });

  it('a change to a user’s roles holds on the next request', async () => {
    const auditor = await insertRole(admin, owner.tenantId, 'auditor');
    await createRule(owner.client, { clause: "provider = 'aws'", roles: [auditor] });
    const member = await addMember(first.baseUrl, admin, owner.tenantId, 'consistency-roles', []);
    assert.equal(await clauseOn(second, member.userId), null);
    await grantRole(admin, owner.tenantId, member.userId, auditor);
    assert.equal(await clauseOn(second, member.userId), "(provider = 'aws')");
    await admin.query(`DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2`, [member.userId, auditor]);
    assert.equal(await clauseOn(second, member.userId), null);
  });

  it('deleting a role, which removes its rule links by cascade, also invalidates every cache', async () => {
    const doomed = await insertRole(admin, owner.tenantId, 'doomed');
    const rule = await createRule(owner.client, { clause: "provider = 'gcp'", roles: [doomed] });
    const holder = principal(owner.tenantId, [doomed]);
    assert.deepEqual((await predicateFor(second, holder))?.ruleIds, [rule]);
    const before = await admin.query(`SELECT version FROM rls_rule_versions WHERE tenant_id = $1`, [owner.tenantId]);

    await admin.query(`DELETE FROM roles WHERE id = $1`, [doomed]);
    const after = await admin.query(`SELECT version FROM rls_rule_versions WHERE tenant_id = $1`, [owner.tenantId]);
    assert.ok(BigInt(after.rows[0].version) > BigInt(before.rows[0].version));
    // A principal still carrying the deleted role id (as a request started just before would) gets fresh rules.
    assert.equal(await predicateFor(second, holder), null);
    const shown = await owner.client.get(`/api/v1/rls-rules/${rule}`);
    assert.deepEqual(shown.body.data.relationships.roles.data, []);
  });

  it('a rolled-back change bumps nothing that another process could see', async () => {
    const before = await admin.query(`SELECT version FROM rls_rule_versions WHERE tenant_id = $1`, [owner.tenantId]);
    const refused = await owner.client.post('/api/v1/rls-rules', {
      data: {
        type: 'rls-rules',
        attributes: { name: 'broken', filter_type: 'Base', clause: '{{ current_user_email }} IS NULL' },
        relationships: { tables: { data: [{ type: 'rls-tables', id: 'providers' }] } },
      },
    });
    assert.equal(refused.status, 400);
    const after = await admin.query(`SELECT version FROM rls_rule_versions WHERE tenant_id = $1`, [owner.tenantId]);
    assert.equal(after.rows[0].version, before.rows[0].version);
  });
});
