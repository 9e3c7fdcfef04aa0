import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'pg';
import { adminClient } from '../support/database';
import { signUp, type SignedUpUser } from '../support/http-client';
import type { TestApp } from '../support/test-app';
import { createRule, insertProviders, insertRole, principal, ruleBody, startRulesApp, visibleProviderUids } from './rls-rules-fixtures';

/*
 * Clauses are untrusted input: every kind of refusal answers 400 through the
 * API with a detail naming the offending part, and no clause, refused or
 * accepted, reaches another tenant's rows.
 */
const REFUSED: Array<[kind: string, clause: string, detail: RegExp]> = [
  ['a subquery', 'id IN (SELECT id FROM providers)', /subquer/],
  ['EXISTS', 'EXISTS (SELECT 1 FROM tenants)', /subquer/],
  ['a settings function', "current_setting('api.tenant_id') = 'x'", /current_setting/],
  ['set_config', "set_config('api.tenant_id', 'x', true) = 'x'", /set_config/],
  ['pg_sleep', 'pg_sleep(10) IS NULL', /pg_sleep/],
  ['a system column', 'ctid IS NOT NULL', /system column ctid/],
  ['a system column, qualified', 'providers.xmin IS NOT NULL', /system column xmin/],
  ['another table', "tenants.name = 'x'", /tenants\.name/],
  ['another schema', "public.providers.uid = 'x'", /public\.providers\.uid/],
  ['several statements', "uid = 'a'; DELETE FROM providers", /statement separators/],
  ['a block comment', "uid = 'a' /* OR TRUE */", /comments are not allowed: \/\* OR TRUE \*\//],
  ['a line comment', "uid = 'a' -- OR TRUE", /comments are not allowed: -- OR TRUE/],
  ['an unterminated comment', "uid = 'a' /* OR TRUE", /comment/],
  ['a cast to regclass', "CAST('providers' AS regclass) IS NOT NULL", /regclass/],
  ['a cast to regrole', "'postgres'::regrole IS NOT NULL", /regrole/],
  ['the tenant column', 'tenant_id = {{ current_tenant_id }}', /unknown column tenant_id/],
  ['an unknown column', "secret = 'x'", /unknown column secret/],
  ['an unknown template', 'alias = {{ password }}', /\{\{ password \}\}/],
  ['a bare parameter', 'uid = $1', /\$1/],
  ['a template inside quotes', "alias = '{{ current_user_email }}'", /must stand where a value is expected/],
  ['a non-boolean clause', 'uid', /boolean expression, not uid/],
  ['a clause that escapes its parentheses', "uid = 'a') OR (uid = 'b'", /parentheses/],
  ['an empty clause', '   ', /empty/],
  ['a type PostgreSQL cannot infer', '{{ current_user_email }} IS NULL', /PostgreSQL cannot evaluate the clause on the providers dataset: .*\{\{ current_user_email \}\}/],
  ['a constant PostgreSQL cannot convert', "CAST('abc' AS integer) = 1", /PostgreSQL cannot evaluate.*invalid input syntax for type integer/],
  ['a column missing from one of the datasets', "provider = 'aws'", /unknown column provider for the findings dataset/],
];

describe('row filter clauses through the API', () => {
  let app: TestApp;
  let admin: Client;
  let owner: SignedUpUser;
  let analyst: string;

  before(async () => {
    app = await startRulesApp();
    admin = await adminClient();
    owner = await signUp(app.baseUrl, 'clauses');
    analyst = await insertRole(admin, owner.tenantId, 'analyst');
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  for (const [kind, clause, detail] of REFUSED) {
    it(`refuses ${kind} with 400 naming it`, async () => {
      const tables = kind.includes('one of the datasets') ? ['providers', 'findings'] : ['providers'];
      const result = await owner.client.post('/api/v1/rls-rules', ruleBody({ clause, roles: [analyst], tables }));
      assert.equal(result.status, 400, JSON.stringify(result.body));
      const [error] = result.body.errors;
      assert.equal(error.code, 'invalid_clause');
      assert.equal(error.source.pointer, '/data/attributes/clause');
      assert.match(error.detail, detail);
    });
  }

  it('a refused clause in PATCH or PUT leaves the rule as it was', async () => {
    const id = await createRule(owner.client, { clause: "uid = 'a'", roles: [analyst] });
    const patched = await owner.client.patch(`/api/v1/rls-rules/${id}`, { data: { type: 'rls-rules', id, attributes: { clause: 'pg_sleep(1) IS NULL' } } });
    assert.equal(patched.status, 400);
    const put = await owner.client.request('PUT', `/api/v1/rls-rules/${id}`, ruleBody({ clause: 'ctid IS NULL', roles: [analyst] }, id));
    assert.equal(put.status, 400);
    assert.equal((await owner.client.get(`/api/v1/rls-rules/${id}`)).body.data.attributes.clause, "uid = 'a'");
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM rls_rules WHERE tenant_id = $1 AND clause LIKE '%pg_sleep%'`, [owner.tenantId]);
    assert.equal(rows[0].n, 0);
  });

  it('a valid clause never widens a read beyond the tenant: RLS still applies under it', async () => {
    const victim = await signUp(app.baseUrl, 'clauses-victim');
    const victimIds = await insertProviders(admin, victim.tenantId, [{ uid: 'victim-prod', alias: 'prod' }, { uid: 'victim-dev', alias: 'dev' }]);
    const attacker = await signUp(app.baseUrl, 'clauses-attacker');
    const role = await insertRole(admin, attacker.tenantId, 'curious');
    await insertProviders(admin, attacker.tenantId, [{ uid: 'own-prod', alias: 'prod' }]);
    const deleted = await insertProviders(admin, attacker.tenantId, [{ uid: 'own-deleted', alias: 'prod' }]);
    await admin.query(`UPDATE providers SET deleted_at = now() WHERE id = $1`, [deleted.get('own-deleted')]);

    // Accepted clauses that try to name or match everything.
    await createRule(attacker.client, { clause: `uid = 'victim-prod' OR TRUE`, roles: [role], group_key: 'wide' });
    await createRule(attacker.client, { clause: `id = '${victimIds.get('victim-dev')}' OR id IS NOT NULL`, roles: [role], group_key: 'wide' });
    await createRule(attacker.client, { clause: 'alias = CAST({{ current_tenant_id }} AS text) OR 1 = 1', roles: [role] });
    const curious = principal(attacker.tenantId, [role]);
    assert.deepEqual(await visibleProviderUids(app, curious), ['own-prod'], 'neither the other tenant’s rows nor the soft-deleted one');

    // The other tenant's ids in the clause, as an attacker would guess them, match nothing.
    await createRule(attacker.client, { clause: `id IN ('${victimIds.get('victim-prod')}', '${victimIds.get('victim-dev')}')`, roles: [role] });
    assert.deepEqual(await visibleProviderUids(app, curious), []);
    assert.deepEqual(await visibleProviderUids(app, principal(victim.tenantId, [])), ['victim-dev', 'victim-prod']);
  });
});
