import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Client as PgClient } from 'pg';
import { LocalAppModule } from '../../src/local-app.module';
import { createGroup, createRole, memberWith } from '../support/access-fixtures';
import { ApiClient, signIn, SignedUpUser, signUp } from '../support/http-client';
import { awsProvider, fixtureFindings, importAndWait, newSpoolDir } from '../support/scans-fixture';
import { fastQueueEnv } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

type Resource = { type: string; id: string; attributes: Record<string, any>; relationships?: Record<string, any>; links?: Record<string, string> };

/**
 * Requests Prowler's web UI (ui/actions, ui/app in prowler-cloud/prowler)
 * sends to endpoints served here, as it sends them, checking the members the
 * UI reads from each answer.
 */
describe('Prowler UI requests', () => {
  let app: TestApp;
  let owner: SignedUpUser;
  let providerId: string;
  let importTask: Record<string, any>;
  const spoolDir = newSpoolDir('ui-requests');

  before(async () => {
    app = await startTestApp({ ...fastQueueEnv('ui-requests'), WORKERS_IN_PROCESS: 'true', SCAN_SPOOL_DIR: spoolDir }, LocalAppModule);
    owner = await signUp(app.baseUrl, 'ui');
    const provider = await awsProvider(owner.client, 'ui account');
    providerId = provider.id;
    importTask = await importAndWait(owner.client, providerId, JSON.stringify(fixtureFindings(provider.uid)));
    assert.equal(importTask.attributes.state, 'completed', JSON.stringify(importTask));
  });
  after(async () => {
    await app.close();
    rmSync(spoolDir, { recursive: true, force: true });
  });

  async function ok(path: string): Promise<any> {
    const answer = await owner.client.get(path);
    assert.equal(answer.status, 200, `${path}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  const onlyOnce = (included: Resource[]) => assert.equal(new Set(included.map((r) => `${r.type}:${r.id}`)).size, included.length);

  it('providers page: every provider has a secret relationship (null before one is added) and counted groups', async () => {
    const body = await ok('/api/v1/providers?include=provider_groups&page[number]=1&page[size]=10');
    const provider = (body.data as Resource[]).find((p) => p.id === providerId)!;
    assert.deepEqual(provider.relationships!.secret, { data: null });
    assert.deepEqual(provider.relationships!.provider_groups, { data: [], meta: { count: 0 } });
    assert.equal(provider.links!.self, `/api/v1/providers/${providerId}`);
    assert.equal(provider.attributes.connection.connected, null);
  });

  it('roles page: users and invitations carry meta.count', async () => {
    const groupId = await createGroup(owner.client, [providerId], 'ui group');
    await createRole(owner.client, { manage_scans: true }, 'ui role', [groupId]);
    const body = await ok('/api/v1/roles?page[number]=1&page[size]=10');
    for (const role of body.data as Resource[]) {
      assert.equal(typeof role.relationships!.users.meta.count, 'number');
      assert.equal(role.relationships!.users.meta.count, role.relationships!.users.data.length);
      assert.equal(typeof role.relationships!.invitations.meta.count, 'number');
      assert.equal(typeof role.relationships!.provider_groups.meta.count, 'number');
    }
    const admin = (body.data as Resource[]).find((r) => r.relationships!.users.meta.count === 1)!;
    assert.ok(admin, 'the sign-up role holds its user');

    // Provider groups page: providers and roles counted.
    const groups = await ok('/api/v1/provider-groups?page[number]=1&page[size]=10');
    const group = (groups.data as Resource[]).find((g) => g.id === groupId)!;
    assert.equal(group.relationships!.providers.meta.count, 1);
    assert.equal(group.relationships!.roles.meta.count, 1);
    assert.equal(group.links!.self, `/api/v1/provider-groups/${groupId}`);
  });

  it('profile and tenant switcher: /users/me?include=roles,memberships,memberships.tenant', async () => {
    const body = await ok('/api/v1/users/me?include=roles,memberships,memberships.tenant');
    const included = body.included as Resource[];
    onlyOnce(included);
    const membershipIds = body.data.relationships.memberships.data.map((m: { id: string }) => m.id);
    assert.equal(body.data.relationships.memberships.meta.count, membershipIds.length);
    const memberships = included.filter((r) => r.type === 'memberships');
    assert.deepEqual(memberships.map((m) => m.id).sort(), [...membershipIds].sort());
    const tenant = included.find((r) => r.type === 'tenants' && r.id === owner.tenantId)!;
    assert.ok(tenant, 'the membership’s tenant is included');
    assert.equal(typeof tenant.attributes.name, 'string');
    assert.equal(memberships[0].relationships!.tenant.data.id, owner.tenantId);
    assert.ok(included.some((r) => r.type === 'roles'));
  });

  it('overview: /findings/latest?include=resources,scan.provider with the UI’s filters and sort', async () => {
    const body = await ok(
      '/api/v1/findings/latest?include=resources,scan.provider&filter[status]=FAIL&filter[delta]=new&filter[muted]=false&sort=severity,-inserted_at&page[size]=10',
    );
    const findings = body.data as Resource[];
    assert.ok(findings.length > 0);
    const included = body.included as Resource[];
    onlyOnce(included);
    const byKey = new Map(included.map((r) => [`${r.type}:${r.id}`, r]));
    for (const finding of findings) {
      const scan = byKey.get(`scans:${finding.relationships!.scan.data.id}`)!;
      assert.ok(scan, 'the finding’s scan is included');
      assert.ok(byKey.get(`providers:${scan.relationships!.provider.data.id}`), 'the scan’s provider is included');
      for (const resource of finding.relationships!.resources.data) assert.ok(byKey.get(`resources:${resource.id}`));
      assert.equal(finding.relationships!.resources.meta.count, finding.relationships!.resources.data.length);
    }
    assert.equal(byKey.get(`providers:${providerId}`)!.attributes.uid.length, 12);
  });

  it('findings page: the UI’s include on /findings and on one finding', async () => {
    const list = await ok('/api/v1/findings?include=resources,scan.provider&filter[provider_type__in]=aws&page[number]=1&page[size]=10&sort=severity');
    onlyOnce(list.included);
    const one = await ok(`/api/v1/findings/${list.data[0].id}?include=resources,scan.provider`);
    assert.ok((one.included as Resource[]).some((r) => r.type === 'providers' && r.id === providerId));
  });

  it('resources page: include=provider with the UI’s sparse fieldset, and partition, details and metadata from the file', async () => {
    const fields = 'name,failed_findings_count,region,service,type,groups,provider,inserted_at,updated_at,uid,partition,details,metadata';
    const body = await ok(`/api/v1/resources/latest?include=provider&fields[resources]=${fields}&page[number]=1&page[size]=10`);
    const resources = body.data as Resource[];
    assert.ok(resources.length > 0);
    const analyzer = resources.find((r) => r.attributes.uid.includes(':accessanalyzer/') || r.attributes.uid.includes(':accessanalyzer:'));
    if (analyzer) assert.equal(JSON.parse(analyzer.attributes.metadata).arn, analyzer.attributes.uid);
    for (const resource of resources) {
      assert.equal(resource.attributes.partition, 'aws');
      assert.equal(typeof resource.attributes.metadata, 'string');
      assert.equal(typeof JSON.parse(resource.attributes.metadata), 'object');
      assert.equal(resource.relationships!.provider.data.id, providerId);
      assert.equal(resource.relationships!.findings, undefined, 'not among the requested fields');
    }
    assert.deepEqual((body.included as Resource[]).map((r) => `${r.type}:${r.id}`), [`providers:${providerId}`]);

    const detail = await ok(`/api/v1/resources/${resources[0].id}?include=provider,findings`);
    const findingIds = detail.data.relationships.findings.data.map((f: { id: string }) => f.id);
    assert.ok(findingIds.length > 0);
    assert.equal(detail.data.relationships.findings.meta.count, findingIds.length);
    const includedFindings = (detail.included as Resource[]).filter((r) => r.type === 'findings');
    assert.deepEqual(includedFindings.map((f) => f.id).sort(), [...findingIds].sort());
    const all = await ok(`/api/v1/resources?include=findings&page[size]=5`);
    onlyOnce(all.included);
  });

  it('scans page: include=provider, trigger within the contract, the task in snake_case and dated', async () => {
    const body = await ok('/api/v1/scans?include=provider&page[number]=1&page[size]=10&sort=-inserted_at');
    const scan = (body.data as Resource[])[0];
    assert.equal(scan.attributes.trigger, 'manual');
    assert.equal(scan.attributes.origin, 'imported');
    assert.deepEqual(scan.relationships!.processor, { data: null });
    assert.equal((body.included as Resource[])[0].id, providerId);
    const task = await ok(`/api/v1/tasks/${scan.relationships!.task.data.id}`);
    assert.equal(task.data.attributes.task_args.scan_id, scan.id);
    assert.equal(task.data.attributes.task_args.provider_id, providerId);
    assert.ok(!Object.keys(task.data.attributes.task_args).some((key) => /[A-Z]/.test(key)));
    assert.ok(task.data.attributes.completed_at);
  });

  it('tenants and memberships: the tenant lists its memberships', async () => {
    const tenants = await ok('/api/v1/tenants');
    const tenant = (tenants.data as Resource[]).find((t) => t.id === owner.tenantId)!;
    assert.equal(tenant.relationships!.memberships.meta.count, 1);
    const memberships = await ok(`/api/v1/tenants/${owner.tenantId}/memberships`);
    assert.equal(memberships.data[0].relationships.user.data.id, owner.userId);
    assert.equal(memberships.data[0].relationships.tenant.data.id, owner.tenantId);
  });

  it('GET /users/{user_pk}/memberships/{id}: your own membership; a stranger’s is 404', async () => {
    const me = await ok('/api/v1/users/me');
    const membershipId = me.data.relationships.memberships.data[0].id;
    const one = await ok(`/api/v1/users/${owner.userId}/memberships/${membershipId}`);
    assert.equal(one.data.id, membershipId);
    assert.equal(one.data.relationships.tenant.data.id, owner.tenantId);
    const stranger = await signUp(app.baseUrl, 'ui-stranger');
    assert.equal((await stranger.client.get(`/api/v1/users/${owner.userId}/memberships/${membershipId}`)).status, 404);
    const strangerMe = await stranger.client.get('/api/v1/users/me');
    const theirs = strangerMe.body.data.relationships.memberships.data[0].id;
    assert.equal((await owner.client.get(`/api/v1/users/${owner.userId}/memberships/${theirs}`)).status, 404);
  });

  it('GET /findings/findings_services_regions and /resources/metadata/latest answer the contract’s metadata', async () => {
    const regions = await ok('/api/v1/findings/findings_services_regions?filter[provider_type]=aws');
    assert.equal(regions.data.type, 'finding-dynamic-filters');
    const metadata = await ok('/api/v1/findings/metadata?filter[provider_type]=aws');
    assert.deepEqual(regions.data.attributes, { services: metadata.data.attributes.services, regions: metadata.data.attributes.regions });
    assert.ok(regions.data.attributes.regions.length > 0);

    const latest = await ok('/api/v1/resources/metadata/latest');
    assert.equal(latest.data.type, 'resources-metadata');
    const all = await ok('/api/v1/resources/metadata');
    assert.deepEqual(latest.data.attributes, all.data.attributes, 'one scan: the latest saw every resource');
    assert.ok(latest.data.attributes.services.length > 0);
  });

  it('DELETE /users/{id}: yourself only, never the last owner of a tenant; your sessions end', async () => {
    const member = await memberWith(app.baseUrl, owner, { manage_users: true }, 'leaver');
    assert.equal((await member.client.delete(`/api/v1/users/${owner.userId}`)).status, 403, 'not another user');
    const refused = await member.client.delete(`/api/v1/users/${member.userId}`);
    assert.equal(refused.status, 409, 'still the only owner of the tenant made at sign-up');
    assert.equal(refused.body.errors[0].code, 'last_owner');

    const ownTenant = ((await member.client.get('/api/v1/tenants')).body.data as Resource[]).find((t) => t.id !== owner.tenantId)!;
    const inOwnTenant = new ApiClient(app.baseUrl, (await signIn(app.baseUrl, member.email, member.password, ownTenant.id)).access);
    assert.equal((await inOwnTenant.delete(`/api/v1/tenants/${ownTenant.id}`)).status, 204);

    const fresh = new ApiClient(app.baseUrl, (await signIn(app.baseUrl, member.email, member.password, owner.tenantId)).access);
    assert.equal((await fresh.delete(`/api/v1/users/${member.userId}`)).status, 204);
    assert.equal((await fresh.get('/api/v1/users/me')).status, 401);
    const members = await ok(`/api/v1/tenants/${owner.tenantId}/memberships`);
    assert.ok(!(members.data as Resource[]).some((m) => m.relationships!.user.data.id === member.userId));
    const withoutPermission = await memberWith(app.baseUrl, owner, { manage_scans: true }, 'stayer');
    assert.equal((await withoutPermission.client.delete(`/api/v1/users/${withoutPermission.userId}`)).status, 403);
  });

  it('refuses an include path that does not exist, naming it', async () => {
    for (const path of ['/api/v1/findings?include=scan.nothing', '/api/v1/users/me?include=memberships.user.secrets', '/api/v1/resources?include=provider.secret']) {
      const answer = await owner.client.get(path);
      assert.equal(answer.status, 400, path);
      assert.equal(answer.body.errors[0].source.parameter, 'include');
      assert.match(answer.body.errors[0].detail, /Cannot include '[a-z_.]+'/);
    }
  });

  it('costs one statement per included type, however many findings the page holds', async () => {
    const statements: string[] = [];
    const original = PgClient.prototype.query;
    PgClient.prototype.query = function (this: PgClient, config: unknown, ...rest: unknown[]) {
      const text = typeof config === 'string' ? config : (config as { text?: string })?.text;
      if (text) statements.push(text);
      return (original as (...args: unknown[]) => unknown).call(this, config, ...rest);
    } as typeof original;
    const includeLoads = async (size: number) => {
      statements.length = 0;
      await ok(`/api/v1/findings/latest?include=resources,scan.provider&page[size]=${size}`);
      return {
        scans: statements.filter((sql) => /s\.id = ANY\(/.test(sql)).length,
        resources: statements.filter((sql) => /FROM resources r/.test(sql) && /r\.id = ANY\(/.test(sql)).length,
        providers: statements.filter((sql) => /FROM providers p/.test(sql) && /p\.id = ANY\(/.test(sql)).length,
      };
    };
    try {
      assert.deepEqual(await includeLoads(1), { scans: 1, resources: 1, providers: 1 });
      assert.deepEqual(await includeLoads(5), { scans: 1, resources: 1, providers: 1 });
    } finally {
      PgClient.prototype.query = original;
    }
  });
});
