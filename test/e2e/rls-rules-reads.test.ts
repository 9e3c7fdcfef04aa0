import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from 'pg';
import { adminClient } from '../support/database';
import { buildFindingsWorld, FindingsWorld } from '../support/findings-world';
import { type ApiClient, type SignedUpUser, signUp } from '../support/http-client';
import type { TestApp } from '../support/test-app';
import { addMember, createRule, insertProviders, insertRole, startRulesApp } from './rls-rules-fixtures';

/*
 * Row filter rules on the API's own reads: the providers endpoints, and the
 * findings and resources endpoints through the port they declare. Lists,
 * counts, pages and details agree with each other, and a filtered-out row
 * answers 404 exactly like a missing one.
 */
describe('row filter rules on the API reads', () => {
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

  const ids = (result: { body: { data: Array<{ id: string }> } }) => result.body.data.map((row) => row.id).sort();

  describe('providers', () => {
    let owner: SignedUpUser;
    let analyst: SignedUpUser;
    let providers: Map<string, string>;
    let expected: string[];

    before(async () => {
      owner = await signUp(app.baseUrl, 'reads-providers');
      providers = await insertProviders(admin, owner.tenantId, [
        { uid: 'aws-prod', provider: 'aws', alias: 'prod' },
        { uid: 'aws-dev', provider: 'aws', alias: 'dev' },
        { uid: 'gcp-prod', provider: 'gcp', alias: 'prod' },
        { uid: 'azure-x', provider: 'azure', alias: null },
        { uid: 'k8s-prod', provider: 'kubernetes', alias: 'prod' },
      ]);
      const role = await insertRole(admin, owner.tenantId, 'analyst', ['unlimited_visibility']);
      analyst = await addMember(app.baseUrl, admin, owner.tenantId, 'reads-analyst', [role]);
      await createRule(owner.client, { clause: "alias = 'prod'", roles: [role] });
      expected = ['aws-prod', 'gcp-prod', 'k8s-prod'].map((uid) => providers.get(uid)!).sort();
    });

    it('lists, counts, pages and details agree with the rule; the rule’s role does not bind others', async () => {
      const list = await analyst.client.get('/api/v1/providers?page[size]=100');
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(ids(list), expected);
      assert.equal(list.body.meta.pagination.count, expected.length);

      const paged = [];
      for (let page = 1; page <= 2; page++) paged.push(...ids(await analyst.client.get(`/api/v1/providers?page[size]=2&page[number]=${page}&sort=uid`)));
      assert.deepEqual(paged.sort(), expected);
      assert.deepEqual(ids(await analyst.client.get('/api/v1/providers?page[disable]=true')), expected);
      assert.deepEqual(ids(await analyst.client.get('/api/v1/providers?filter[provider]=aws')), [providers.get('aws-prod')]);

      for (const [uid, id] of providers) {
        const detail = await analyst.client.get(`/api/v1/providers/${id}`);
        assert.equal(detail.status, expected.includes(id) ? 200 : 404, `detail of ${uid}`);
      }
      const patched = await analyst.client.patch(`/api/v1/providers/${providers.get('aws-dev')}`, {
        data: { type: 'providers', id: providers.get('aws-dev'), attributes: { alias: 'prod' } },
      });
      assert.equal(patched.status, 403, 'the analyst may not manage providers at all');

      assert.equal(ids(await owner.client.get('/api/v1/providers?page[size]=100')).length, providers.size);
    });

    it('a filtered-out provider cannot be named in a relationship either', async () => {
      const role = await insertRole(admin, owner.tenantId, 'linker', ['unlimited_visibility', 'manage_providers']);
      const linker = await addMember(app.baseUrl, admin, owner.tenantId, 'reads-linker', [role]);
      await createRule(owner.client, { clause: "provider = 'gcp'", roles: [role] });
      const body = (providerId: string) => ({
        data: { type: 'provider-groups', attributes: { name: `group-${providerId.slice(-6)}` }, relationships: { providers: { data: [{ type: 'providers', id: providerId }] } } },
      });
      assert.equal((await linker.client.post('/api/v1/provider-groups', body(providers.get('gcp-prod')!))).status, 201);
      const refused = await linker.client.post('/api/v1/provider-groups', body(providers.get('aws-prod')!));
      assert.equal(refused.status, 404, JSON.stringify(refused.body));
    });

    it('a filtered-out provider cannot be deleted, checked or scheduled either (404, nothing started)', async () => {
      const role = await insertRole(admin, owner.tenantId, 'operator', ['unlimited_visibility', 'manage_providers', 'manage_scans']);
      const operator = await addMember(app.baseUrl, admin, owner.tenantId, 'reads-operator', [role]);
      await createRule(owner.client, { clause: "provider = 'azure'", roles: [role] });
      const hidden = providers.get('k8s-prod')!;
      const schedule = (providerId: string) => operator.client.post('/api/v1/schedules/daily', { data: { type: 'daily-schedules', attributes: { provider_id: providerId } } });
      for (const [what, call] of [
        ['connection check', () => operator.client.post(`/api/v1/providers/${hidden}/connection`)],
        ['daily schedule', () => schedule(hidden)],
        ['deletion', () => operator.client.delete(`/api/v1/providers/${hidden}`)],
      ] as const) {
        const refused = await call();
        assert.equal(refused.status, 404, `${what}: ${JSON.stringify(refused.body)}`);
      }
      assert.equal((await owner.client.get(`/api/v1/providers/${hidden}`)).status, 200, 'still there');
      const tasksAbout = async (providerId: string) =>
        (await admin.query(`SELECT count(*)::int AS n FROM tasks WHERE tenant_id = $1 AND task_args::text LIKE $2`, [owner.tenantId, `%${providerId}%`])).rows[0].n;
      assert.equal(await tasksAbout(hidden), 0);
      const visible = providers.get('azure-x')!;
      assert.equal((await operator.client.post(`/api/v1/providers/${visible}/connection`)).status, 202);
      assert.equal(await tasksAbout(visible), 1);
    });
  });

  describe('findings and resources', () => {
    let world: FindingsWorld;
    let analyst: ApiClient;
    let analystRole: string;

    before(async () => {
      world = await buildFindingsWorld(app, admin, 'reads-findings', 60);
      const role = await insertRole(admin, world.tenantId, 'critical-only', ['unlimited_visibility']);
      analystRole = role;
      analyst = (await addMember(app.baseUrl, admin, world.tenantId, 'reads-findings-analyst', [role])).client;
      await createRule(world.owner.client, { clause: "severity = 'critical'", roles: [role], tables: ['findings'] });
      await createRule(world.owner.client, { clause: `provider_id = '${world.providers.aws2}'`, roles: [role], tables: ['resources'] });
    });

    async function count(client: ApiClient, path: string): Promise<number> {
      const result = await client.get(`${path}${path.includes('?') ? '&' : '?'}page[size]=1`);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      return result.body.meta.pagination.count;
    }

    it('findings: the list, its count and details hold only the rows the rule lets through', async () => {
      const critical = await count(world.owner.client, '/api/v1/findings?filter[severity]=critical');
      assert.ok(critical > 0 && critical < (await count(world.owner.client, '/api/v1/findings')), 'the world has critical and other findings');
      assert.equal(await count(analyst, '/api/v1/findings'), critical);
      assert.equal(await count(analyst, '/api/v1/findings?filter[severity]=high'), 0);

      const page = await analyst.get('/api/v1/findings?page[size]=50');
      assert.ok(page.body.data.length > 0);
      for (const finding of page.body.data) assert.equal(finding.attributes.severity, 'critical');

      const other = await world.owner.client.get('/api/v1/findings?filter[severity]=high&page[size]=1');
      const hidden = other.body.data[0].id;
      assert.equal((await world.owner.client.get(`/api/v1/findings/${hidden}`)).status, 200);
      assert.equal((await analyst.get(`/api/v1/findings/${hidden}`)).status, 404);
      assert.equal((await analyst.get(`/api/v1/findings/${page.body.data[0].id}`)).status, 200);
    });

    it('findings: latest views and metadata are computed from the same rows', async () => {
      assert.equal(await count(analyst, '/api/v1/findings/latest'), await count(world.owner.client, '/api/v1/findings/latest?filter[severity]=critical'));
      for (const path of ['/api/v1/findings/metadata', '/api/v1/findings/metadata/latest']) {
        const seen = await analyst.get(path);
        assert.equal(seen.status, 200, JSON.stringify(seen.body));
        assert.deepEqual(seen.body.data.attributes.severities, ['critical'], path);
        const owners = await world.owner.client.get(`${path}?filter[severity]=critical`);
        assert.deepEqual(seen.body.data.attributes.check_ids, owners.body.data.attributes.check_ids, path);
      }
    });

    it('resources: the list, its count and details hold only the rows the rule lets through', async () => {
      const own = await count(world.owner.client, `/api/v1/resources?filter[provider]=${world.providers.aws2}`);
      assert.ok(own > 0 && own < (await count(world.owner.client, '/api/v1/resources')));
      assert.equal(await count(analyst, '/api/v1/resources'), own);
      const elsewhere = await world.owner.client.get(`/api/v1/resources?filter[provider]=${world.providers.aws1}&page[size]=1`);
      assert.equal((await analyst.get(`/api/v1/resources/${elsewhere.body.data[0].id}`)).status, 404);
    });

    it('included resources and scans obey their own datasets\' rules, as their lists do', async () => {
      // Critical findings of every provider are visible; resources only of aws2 (the rule above); scans, from here on, only of aws2.
      await createRule(world.owner.client, { clause: `provider_id = '${world.providers.aws2}'`, roles: [analystRole], tables: ['scans'] });
      const page = await analyst.get('/api/v1/findings?include=resources,scan&page[size]=100');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const scansOfPage = new Set(page.body.data.map((f: { relationships: { scan: { data: { id: string } } } }) => f.relationships.scan.data.id));
      assert.ok(scansOfPage.size > 1, 'the page holds findings of several scans');
      const included = (type: string) => page.body.included.filter((r: { type: string }) => r.type === type).map((r: { id: string }) => r.id).sort();

      assert.ok(included('resources').length > 0);
      const readable = ids(await analyst.get('/api/v1/resources?page[size]=100'));
      for (const id of included('resources')) assert.ok(readable.includes(id), `resource ${id} is not in the analyst's resources list`);
      assert.deepEqual(included('scans'), ids(await analyst.get('/api/v1/scans?page[size]=100')).filter((id) => scansOfPage.has(id)));
      assert.deepEqual(included('scans'), [world.scans.aws2]);
    });
  });
});
