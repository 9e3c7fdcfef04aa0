import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'pg';
import { tenantManager } from '../../src/database/tenant-context';
import { adminClient } from '../support/database';
import { signUp, type SignedUpUser } from '../support/http-client';
import type { TestApp } from '../support/test-app';
import {
  addMember,
  asPrincipal,
  createRule,
  insertProviders,
  insertRole,
  predicateFor,
  principal,
  startRulesApp,
  visibleProviderUids,
} from './rls-rules-fixtures';

/*
 * Which rules apply and how they combine, checked end to end: rules created
 * through the API, the predicate from RowFilterService, and a real query on
 * providers rows under PostgreSQL's row-level security.
 */

const ALL = ['aws-dev', 'aws-prod', 'azure-x', 'gcp-prod', 'k8s-prod'];

interface Tenant {
  owner: SignedUpUser;
  analyst: string;
  auditor: string;
  exempt: string;
  providerIds: Map<string, string>;
}

describe('row filter rules: which apply and how they combine', () => {
  let app: TestApp;
  let admin: Client;

  before(async () => {
    app = await startRulesApp();
    admin = await adminClient();
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  /** A tenant of its own per test, with three roles and five providers. */
  async function freshTenant(label: string): Promise<Tenant> {
    const owner = await signUp(app.baseUrl, label);
    const providerIds = await insertProviders(admin, owner.tenantId, [
      { uid: 'aws-prod', provider: 'aws', alias: 'prod', connected: true },
      { uid: 'aws-dev', provider: 'aws', alias: 'dev', connected: false },
      { uid: 'gcp-prod', provider: 'gcp', alias: 'prod', connected: true },
      { uid: 'azure-x', provider: 'azure', alias: null, connected: null },
      { uid: 'k8s-prod', provider: 'kubernetes', alias: 'prod', connected: false },
    ]);
    return {
      owner,
      analyst: await insertRole(admin, owner.tenantId, 'analyst'),
      auditor: await insertRole(admin, owner.tenantId, 'auditor'),
      exempt: await insertRole(admin, owner.tenantId, 'exempt'),
      providerIds,
    };
  }

  const sees = (tenant: Tenant, roleIds: string[]) => visibleProviderUids(app, principal(tenant.owner.tenantId, roleIds));

  it('without rules everyone sees every row', async () => {
    const t = await freshTenant('sem-none');
    assert.deepEqual(await sees(t, []), ALL);
    assert.deepEqual(await sees(t, [t.analyst]), ALL);
    assert.equal(await predicateFor(app, principal(t.owner.tenantId, [t.analyst])), null);
  });

  it('a Regular rule filters the users holding one of its roles, and nobody else', async () => {
    const t = await freshTenant('sem-regular');
    await createRule(t.owner.client, { clause: "provider = 'aws'", roles: [t.analyst, t.exempt] });
    assert.deepEqual(await sees(t, [t.analyst]), ['aws-dev', 'aws-prod']);
    assert.deepEqual(await sees(t, [t.exempt]), ['aws-dev', 'aws-prod']);
    assert.deepEqual(await sees(t, [t.auditor, t.analyst]), ['aws-dev', 'aws-prod'], 'one of several roles is enough');
    assert.deepEqual(await sees(t, [t.auditor]), ALL);
    assert.deepEqual(await sees(t, []), ALL);
  });

  it('a Base rule filters everyone holding none of its roles; without roles it filters everyone', async () => {
    const t = await freshTenant('sem-base');
    const base = await createRule(t.owner.client, { filter_type: 'Base', clause: 'connected', roles: [t.exempt] });
    assert.deepEqual(await sees(t, []), ['aws-prod', 'gcp-prod']);
    assert.deepEqual(await sees(t, [t.analyst]), ['aws-prod', 'gcp-prod']);
    assert.deepEqual(await sees(t, [t.exempt]), ALL);
    assert.deepEqual(await sees(t, [t.analyst, t.exempt]), ALL, 'holding one exempt role among several exempts');

    const patched = await t.owner.client.patch(`/api/v1/rls-rules/${base}`, {
      data: { type: 'rls-rules', id: base, relationships: { roles: { data: [] } } },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(await sees(t, [t.exempt]), ['aws-prod', 'gcp-prod']);
  });

  it('rules sharing a group key are ORed; distinct groups and ungrouped rules are ANDed', async () => {
    const t = await freshTenant('sem-groups');
    await createRule(t.owner.client, { clause: "provider = 'aws'", roles: [t.analyst], group_key: 'cloud' });
    await createRule(t.owner.client, { clause: "provider = 'gcp'", roles: [t.auditor], group_key: 'cloud' });
    assert.deepEqual(await sees(t, [t.analyst]), ['aws-dev', 'aws-prod']);
    assert.deepEqual(await sees(t, [t.auditor]), ['gcp-prod']);
    assert.deepEqual(await sees(t, [t.analyst, t.auditor]), ['aws-dev', 'aws-prod', 'gcp-prod']);

    await createRule(t.owner.client, { clause: "alias = 'prod'", roles: [t.analyst], group_key: 'env' });
    assert.deepEqual(await sees(t, [t.analyst]), ['aws-prod'], 'cloud AND env');
    assert.deepEqual(await sees(t, [t.analyst, t.auditor]), ['aws-prod', 'gcp-prod']);

    // A Base rule in the cloud group widens that group for everyone it applies to.
    await createRule(t.owner.client, { filter_type: 'Base', clause: "provider = 'kubernetes'", roles: [t.exempt], group_key: 'cloud' });
    assert.deepEqual(await sees(t, [t.analyst]), ['aws-prod', 'k8s-prod']);
    assert.deepEqual(await sees(t, [t.analyst, t.exempt]), ['aws-prod']);

    await createRule(t.owner.client, { clause: 'connected', roles: [t.analyst, t.auditor] });
    assert.deepEqual(await sees(t, [t.analyst]), ['aws-prod'], 'ungrouped rules AND with the groups');
    assert.deepEqual(await sees(t, [t.auditor]), ['gcp-prod']);
    assert.deepEqual(await sees(t, []), ['k8s-prod'], 'only the Base rule applies to a user without roles');
  });

  it('a rule on another dataset has no effect on this one', async () => {
    const t = await freshTenant('sem-dataset');
    const findingsRule = await createRule(t.owner.client, { clause: "status = 'FAIL'", roles: [t.analyst], tables: ['findings'] });
    assert.deepEqual(await sees(t, [t.analyst]), ALL);
    const onFindings = await predicateFor(app, principal(t.owner.tenantId, [t.analyst]), 'findings');
    assert.deepEqual(onFindings?.ruleIds, [findingsRule]);
    assert.equal(onFindings?.sql, `("p"."status" = 'FAIL')`);
  });

  it('rules of another tenant have no effect', async () => {
    const mine = await freshTenant('sem-mine');
    const theirs = await freshTenant('sem-theirs');
    // Everyone in the other tenant, whatever their roles, is filtered down to nothing.
    await createRule(theirs.owner.client, { filter_type: 'Base', clause: "uid = 'no such provider'" });
    await createRule(theirs.owner.client, { clause: "uid = 'no such provider'", roles: [theirs.analyst] });
    assert.deepEqual(await sees(theirs, [theirs.analyst]), []);
    assert.deepEqual(await sees(mine, []), ALL);
    assert.deepEqual(await sees(mine, [mine.analyst]), ALL);
    // Even holding the other tenant's role id (which RLS would never let a user hold) changes nothing here.
    assert.deepEqual(await sees(mine, [theirs.analyst]), ALL);
  });

  it('template values are bound per user as parameters', async () => {
    const t = await freshTenant('sem-templates');
    await insertProviders(admin, t.owner.tenantId, [
      { uid: 'mailbox', provider: 'aws', alias: 'someone@example.com' },
      { uid: 'tenant-tagged', provider: 'aws', alias: t.owner.tenantId },
    ]);
    await createRule(t.owner.client, { clause: 'alias = {{ current_user_email }}', roles: [t.analyst], group_key: 'mine' });
    await createRule(t.owner.client, { clause: 'alias = CAST({{ current_tenant_id }} AS text)', roles: [t.analyst], group_key: 'mine' });
    const analyst = principal(t.owner.tenantId, [t.analyst]);
    assert.deepEqual(await visibleProviderUids(app, analyst), ['mailbox', 'tenant-tagged']);
    assert.deepEqual(await visibleProviderUids(app, { ...analyst, verifiedEmail: 'other@example.com' }), ['tenant-tagged']);
    const predicate = await predicateFor(app, analyst);
    assert.doesNotMatch(predicate!.sql, /example\.com|[0-9a-f]{8}-/, 'no value is spliced into the SQL text');
    assert.deepEqual(new Set(predicate!.params), new Set(['someone@example.com', t.owner.tenantId]));
  });

  it('lists, pages, counts and details agree with each other under rules', async () => {
    const t = await freshTenant('sem-agree');
    await createRule(t.owner.client, { clause: "provider IN ('aws', 'gcp', 'kubernetes')", roles: [t.analyst] });
    await createRule(t.owner.client, { clause: "alias <> 'dev'", roles: [t.analyst, t.auditor] });
    const analyst = principal(t.owner.tenantId, [t.analyst]);
    const expected = ['aws-prod', 'gcp-prod', 'k8s-prod'];
    assert.deepEqual(await visibleProviderUids(app, analyst), expected);

    await asPrincipal(app, analyst, async (rowFilter) => {
      // Each query binds the predicate after its own parameters, as a reader would.
      const page = async (size: number, offset: number) => {
        const filter = await rowFilter.predicateFor('providers', 'p', 2);
        const rows: Array<{ uid: string }> = await tenantManager().query(
          `SELECT p.uid FROM providers p WHERE p.deleted_at IS NULL AND ${filter!.sql} ORDER BY p.uid LIMIT $1 OFFSET $2`,
          [size, offset, ...filter!.params],
        );
        return rows.map((row) => row.uid);
      };
      assert.deepEqual([...(await page(2, 0)), ...(await page(2, 2))], expected);

      const countFilter = await rowFilter.predicateFor('providers', 'p', 0);
      const [{ count }] = await tenantManager().query(
        `SELECT count(*)::int AS count FROM providers p WHERE p.deleted_at IS NULL AND ${countFilter!.sql}`,
        countFilter!.params,
      );
      assert.equal(count, expected.length);

      for (const uid of ALL) {
        const detailFilter = await rowFilter.predicateFor('providers', 'p', 1);
        const found = await tenantManager().query(`SELECT p.uid FROM providers p WHERE p.id = $1 AND ${detailFilter!.sql}`, [
          t.providerIds.get(uid),
          ...detailFilter!.params,
        ]);
        assert.equal(found.length, expected.includes(uid) ? 1 : 0, `detail of ${uid} (a filtered-out row is a 404)`);
      }
    });
  });

  it('the effective endpoint shows the predicate and the rules that RowFilterService applies', async () => {
    const t = await freshTenant('sem-effective');
    const cloud = await createRule(t.owner.client, { clause: "provider = 'aws'", roles: [t.analyst], group_key: 'cloud' });
    const env = await createRule(t.owner.client, { clause: "alias = 'prod' OR alias IS NULL", roles: [t.analyst], group_key: 'env' });
    const base = await createRule(t.owner.client, { filter_type: 'Base', clause: 'connected IS NOT NULL', roles: [t.exempt] });
    await createRule(t.owner.client, { clause: "provider = 'gcp'", roles: [t.auditor] });
    const member = await addMember(app.baseUrl, admin, t.owner.tenantId, 'sem-effective-member', [t.analyst]);

    const effective = await t.owner.client.get(`/api/v1/rls-rules/effective?filter[table]=providers&filter[user]=${member.userId}&include=rules`);
    assert.equal(effective.status, 200, JSON.stringify(effective.body));
    const { data } = effective.body;
    assert.equal(data.type, 'rls-effective-filters');
    assert.equal(data.attributes.table, 'providers');
    assert.equal(data.attributes.filtered, true);
    assert.equal(data.attributes.clause, "((connected IS NOT NULL) AND (provider = 'aws') AND ((alias = 'prod') OR (alias IS NULL)))");
    const ruleIds = data.relationships.rules.data.map((rule: { id: string }) => rule.id);
    assert.deepEqual(ruleIds, [base, cloud, env]);
    assert.deepEqual(data.relationships.user.data, { type: 'users', id: member.userId });
    assert.deepEqual(effective.body.included.map((rule: { id: string }) => rule.id), ruleIds);

    const applied = await predicateFor(app, principal(t.owner.tenantId, [t.analyst], { userId: member.userId }));
    assert.deepEqual(applied?.ruleIds, ruleIds);
    assert.deepEqual(await sees(t, [t.analyst]), ['aws-prod']);

    const ownView = await t.owner.client.get('/api/v1/rls-rules/effective?filter[table]=findings');
    assert.equal(ownView.body.data.attributes.clause, null);
    assert.equal(ownView.body.data.attributes.filtered, false);
    assert.deepEqual(ownView.body.data.relationships.rules.data, []);
  });
});
