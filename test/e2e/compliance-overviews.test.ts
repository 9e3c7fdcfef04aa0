import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { TenantDatabase } from '../../src/database/tenant-database';
import { frameworkName } from '../../src/findings/compliance/compliance-framework';
import { LocalAppModule } from '../../src/local-app.module';
import { TasksService } from '../../src/tasks/tasks.service';
import { adminClient } from '../support/database';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { startTestApp, TestApp } from '../support/test-app';
import { enqueue, fastQueueEnv, waitForTaskEnd } from '../support/tasks-fixture';
import { addMember, createRule, insertRole } from './rls-rules-fixtures';

interface Expected {
  compliance_id: string;
  framework: string;
  version: string;
  requirements: Map<string, 'PASS' | 'FAIL' | 'MANUAL'>;
}

/**
 * Compliance end to end: findings ingested through the real path, the
 * `scan-compliance` job run by the in-process workers, the figures read over
 * HTTP and checked against counts computed here from the findings themselves.
 */
describe('compliance overviews', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ ...fastQueueEnv('compliance'), WORKERS_IN_PROCESS: 'true' }, LocalAppModule);
    world = await buildFindingsWorld(app, admin, 'compliance', 300);
    api = world.owner.client;
    for (const [scan, provider] of [
      [world.scans.aws1First, world.providers.aws1],
      [world.scans.aws1Second, world.providers.aws1],
      [world.scans.aws2, world.providers.aws2],
      [world.scans.azure, world.providers.azure],
    ]) {
      const task = await enqueue(app, world.tenantId, { name: 'scan-compliance', args: { scanId: scan, providerId: provider } });
      const ended = await waitForTaskEnd(task.id, 30000);
      assert.equal(ended.state, 'completed', JSON.stringify(ended.result));
    }
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  /** Per compliance id, each requirement's status, computed from the findings of the given scans (and extra SQL over f). */
  async function expected(scanIds: string[], extra = '', params: unknown[] = []): Promise<Map<string, Expected>> {
    const { rows } = await admin.query(
      `SELECT p.provider, fw.key AS framework, req.id AS requirement,
              count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS fail,
              count(*) FILTER (WHERE f.status = 'PASS' AND NOT f.muted)::int AS pass
         FROM findings f JOIN providers p ON p.id = f.provider_id
        CROSS JOIN LATERAL jsonb_each(f.compliance) fw
        CROSS JOIN LATERAL jsonb_array_elements_text(fw.value) req(id)
        WHERE f.scan_id = ANY($1) ${extra}
        GROUP BY 1, 2, 3`,
      [scanIds, ...params],
    );
    const result = new Map<string, Expected>();
    for (const row of rows) {
      const name = frameworkName(row.framework, row.provider);
      const entry = result.get(name.complianceId) ?? { ...name, compliance_id: name.complianceId, requirements: new Map() };
      entry.requirements.set(row.requirement, row.fail > 0 ? 'FAIL' : row.pass > 0 ? 'PASS' : 'MANUAL');
      result.set(name.complianceId, entry);
    }
    return result;
  }

  function asOverviews(figures: Map<string, Expected>) {
    return [...figures.values()]
      .map((e) => {
        const statuses = [...e.requirements.values()];
        return {
          id: e.compliance_id,
          framework: e.framework,
          version: e.version,
          requirements_passed: statuses.filter((s) => s === 'PASS').length,
          requirements_failed: statuses.filter((s) => s === 'FAIL').length,
          requirements_manual: statuses.filter((s) => s === 'MANUAL').length,
          total_requirements: statuses.length,
        };
      })
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  const listed = (body: any) => body.data.map((d: any) => ({ id: d.id, ...d.attributes }));

  it('the job fills per-scan figures that the overview serves for a scan', async () => {
    const written = await admin.query(`SELECT count(*)::int AS n FROM compliance_requirement_summaries WHERE scan_id = $1`, [world.scans.aws2]);
    assert.ok(written.rows[0].n > 0);
    const response = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${world.scans.aws2}&page[size]=100`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.data[0].type, 'compliance-overviews');
    const overviews = asOverviews(await expected([world.scans.aws2]));
    assert.ok(overviews.length >= 6);
    assert.deepEqual(listed(response.body), overviews);
    assert.ok(overviews.some((o) => o.id === 'cis_2.0_aws' && o.framework === 'CIS' && o.version === '2.0'));
    assert.equal(response.body.meta.pagination.count, overviews.length);
  });

  it('provider filters read the latest completed scan of each provider', async () => {
    const response = await api.get('/api/v1/compliance-overviews?filter[provider_type]=aws&page[size]=100');
    assert.equal(response.status, 200);
    assert.deepEqual(listed(response.body), asOverviews(await expected([world.scans.aws1Second, world.scans.aws2])));
    const azure = await api.get(`/api/v1/compliance-overviews?filter[provider_id]=${world.providers.azure}&page[size]=100`);
    assert.ok(azure.body.data.length > 0);
    assert.ok(azure.body.data.every((d: any) => d.id.endsWith('_azure')));
  });

  it('filters by region, framework, version and compliance id, sorts and pages', async () => {
    const scan = world.scans.aws1Second;
    const inRegions = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&filter[region__in]=eu-west-1,us-east-1&page[size]=100`);
    assert.deepEqual(listed(inRegions.body), asOverviews(await expected([scan], `AND f.region IN ('eu-west-1', 'us-east-1')`)));

    const cis = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&filter[framework]=CIS`);
    assert.deepEqual(cis.body.data.map((d: any) => d.id), ['cis_2.0_aws', 'cis_3.0_aws']);
    const version = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&filter[version__icontains]=3.`);
    assert.deepEqual(version.body.data.map((d: any) => d.id).sort(), ['cis_3.0_aws', 'pci_3.2.1_aws']);
    const one = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&filter[compliance_id]=soc2_aws&fields[compliance-overviews]=total_requirements`);
    assert.equal(one.body.data.length, 1);
    assert.deepEqual(Object.keys(one.body.data[0].attributes), ['total_requirements']);

    const all = asOverviews(await expected([scan])).map((o) => o.id);
    const descending = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&sort=-compliance_id&page[size]=100`);
    assert.deepEqual(descending.body.data.map((d: any) => d.id), [...all].reverse());
    const second = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&page[size]=3&page[number]=2`);
    assert.deepEqual(second.body.data.map((d: any) => d.id), all.slice(3, 6));
    assert.deepEqual(second.body.meta.pagination, { page: 2, pages: Math.ceil(all.length / 3), count: all.length });
  });

  it('requirements of one framework carry their status across regions', async () => {
    const scan = world.scans.aws1Second;
    const response = await api.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${scan}&filter[compliance_id]=cis_2.0_aws`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const wanted = (await expected([scan])).get('cis_2.0_aws')!;
    assert.equal(response.body.data.length, wanted.requirements.size);
    for (const item of response.body.data) {
      assert.equal(item.type, 'compliance-requirements-details');
      assert.deepEqual(item.attributes, { framework: 'CIS', version: '2.0', description: '', status: wanted.requirements.get(item.id) });
    }
    assert.ok(response.body.data.some((d: any) => d.attributes.status === 'FAIL'));
    const regional = await api.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${scan}&filter[compliance_id]=cis_2.0_aws&filter[region]=eu-west-1`);
    const inRegion = (await expected([scan], `AND f.region = 'eu-west-1'`)).get('cis_2.0_aws')!;
    assert.deepEqual(
      Object.fromEntries(regional.body.data.map((d: any) => [d.id, d.attributes.status])),
      Object.fromEntries(inRegion.requirements),
    );
    const unknown = await api.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${scan}&filter[compliance_id]=nothing_aws`);
    assert.deepEqual(unknown.body.data, []);
  });

  it('bad input is 400, never 500', async () => {
    const scan = world.scans.aws2;
    for (const query of [
      '',
      'filter[scan_id]=not-a-uuid',
      `filter[scan_id]=${scan}&filter[colour]=red`,
      `filter[scan_id]=${scan}&sort=framework`,
      `filter[scan_id]=${scan}&page[size]=0`,
      `filter[scan_id]=${scan}&page[number]=x`,
      `filter[scan_id]=${scan}&filter[provider_type]=nimbus`,
      `filter[scan_id]=${scan}&filter[region__gte]=a`,
      `filter[scan_id]=${scan}&fields[compliance-overviews]=secret`,
    ]) {
      const response = await api.get(`/api/v1/compliance-overviews?${query}`);
      assert.equal(response.status, 400, `${query}: ${JSON.stringify(response.body)}`);
      assert.ok(response.body.errors[0].detail);
    }
    const noFramework = await api.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${scan}`);
    assert.equal(noFramework.status, 400);
    assert.equal(noFramework.body.errors[0].source.parameter, 'filter[compliance_id]');
  });

  it('a scan whose compliance job is pending answers 202 with the task; an invisible or unknown scan 404', async () => {
    const pending = await app.app.get(TenantDatabase).transaction(world.tenantId, () =>
      app.app.get(TasksService).enqueue({ name: 'scan-compliance', args: { scanId: world.scans.azure, providerId: world.providers.azure } }, { delayMs: 60_000 }),
    );
    const response = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${world.scans.azure}`);
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.equal(response.headers.get('content-location'), `/api/v1/tasks/${pending.id}`);
    assert.equal(response.body.data.type, 'tasks');
    await admin.query(`UPDATE tasks SET state = 'cancelled' WHERE id = $1`, [pending.id]);
    assert.equal((await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${world.scans.azure}`)).status, 200);

    const limited = await limitedMember(app, admin, world, world.providers.aws2);
    assert.equal((await limited.get(`/api/v1/compliance-overviews?filter[scan_id]=${world.scans.azure}`)).status, 404);
    assert.equal((await limited.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${world.scans.azure}&filter[compliance_id]=gdpr_azure`)).status, 404);
    assert.equal((await limited.get(`/api/v1/compliance-overviews?filter[scan_id]=${world.scans.aws2}`)).status, 200);
    const latest = await limited.get('/api/v1/compliance-overviews?filter[provider_type__in]=aws,azure&page[size]=100');
    assert.deepEqual(listed(latest.body), asOverviews(await expected([world.scans.aws2])));
    assert.equal((await api.get('/api/v1/compliance-overviews?filter[scan_id]=01890000-0000-7000-8000-000000000000')).status, 404);
  });

  it('metadata: the regions a scan’s compliance covers; a rule-filtered caller gets their own findings’ regions', async () => {
    const scan = world.scans.aws1Second;
    const truth = async (extra = ''): Promise<string[]> =>
      (
        await admin.query(
          `SELECT COALESCE(array_agg(DISTINCT f.region ORDER BY f.region) FILTER (WHERE f.region <> ''), '{}') AS regions
             FROM findings f
            CROSS JOIN LATERAL jsonb_each(f.compliance) fw
            CROSS JOIN LATERAL jsonb_array_elements_text(fw.value) req(id)
            WHERE f.scan_id = $1 ${extra}`,
          [scan],
        )
      ).rows[0].regions;
    const served = await api.get(`/api/v1/compliance-overviews/metadata?filter[scan_id]=${scan}`);
    assert.equal(served.status, 200, JSON.stringify(served.body));
    assert.equal(served.body.data.type, 'compliance-overviews-metadata');
    const all = await truth();
    assert.ok(all.length > 1);
    assert.deepEqual(served.body.data.attributes.regions, all);

    const region = all[0];
    const role = await insertRole(admin, world.tenantId, 'metadata-analyst', ['unlimited_visibility']);
    await createRule(api, { clause: `region = '${region}'`, roles: [role], tables: ['findings'] });
    const member = (await addMember(app.baseUrl, admin, world.tenantId, 'metadata-member', [role])).client;
    const limited = await member.get(`/api/v1/compliance-overviews/metadata?filter[scan_id]=${scan}`);
    assert.equal(limited.status, 200, JSON.stringify(limited.body));
    assert.deepEqual(limited.body.data.attributes.regions, [region]);

    const latest = await api.get(`/api/v1/compliance-overviews/metadata?filter[provider_id]=${world.providers.aws1}`);
    assert.deepEqual(latest.body.data.attributes.regions, all, "a provider filter reads that provider's latest completed scan");
    assert.equal((await api.get('/api/v1/compliance-overviews/metadata')).status, 400);
    assert.equal((await api.get('/api/v1/compliance-overviews/metadata?filter[scan_id]=nope')).status, 400);
    assert.equal((await api.get('/api/v1/compliance-overviews/metadata?filter[scan_id]=01890000-0000-7000-8000-000000000000')).status, 404);
  });

  it('a user with a findings rule gets compliance and overviews from the rows they may see; a user without gets the pre-aggregates', async () => {
    const analyst = await insertRole(admin, world.tenantId, 'compliance-analyst', ['unlimited_visibility']);
    await createRule(api, { clause: "region = 'eu-west-1' OR severity = 'critical'", roles: [analyst], tables: ['findings'] });
    const member = (await addMember(app.baseUrl, admin, world.tenantId, 'compliance-member', [analyst])).client;
    const scan = world.scans.aws1Second;
    const rule = `AND (f.region = 'eu-west-1' OR f.severity = 'critical')`;

    const compliance = await member.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&page[size]=100`);
    assert.equal(compliance.status, 200, JSON.stringify(compliance.body));
    assert.deepEqual(listed(compliance.body), asOverviews(await expected([scan], rule)));
    assert.notDeepEqual(listed(compliance.body), asOverviews(await expected([scan])));
    const requirements = await member.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${scan}&filter[compliance_id]=cis_2.0_aws`);
    const visibleRequirements = (await expected([scan], rule)).get('cis_2.0_aws')?.requirements ?? new Map();
    assert.equal(requirements.body.data.length, visibleRequirements.size);

    // The figures agree with what /findings lists for the same user.
    const listedFindings = await member.get(`/api/v1/findings?filter[scan]=${scan}&page[size]=1`);
    const severity = await member.get('/api/v1/overviews/findings_severity');
    const overview = await member.get('/api/v1/overviews/findings');
    assert.equal(overview.body.data.attributes.total, await visibleCount(member, 'latest'));
    const latestScans = [world.scans.aws1Second, world.scans.aws2, world.scans.azure];
    const truth = await admin.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE f.severity = 'critical' AND NOT f.muted)::int AS critical
         FROM findings f WHERE f.scan_id = ANY($1) ${rule}`,
      [latestScans],
    );
    assert.equal(overview.body.data.attributes.total, truth.rows[0].total);
    assert.equal(severity.body.data.attributes.critical, truth.rows[0].critical);
    const scanTruth = await admin.query(`SELECT count(*)::int AS n FROM findings f WHERE f.scan_id = $1 ${rule}`, [scan]);
    assert.equal(listedFindings.body.meta.pagination.count, scanTruth.rows[0].n);

    const services = await member.get('/api/v1/overviews/services');
    const serviceTotal = services.body.data.reduce((sum: number, d: any) => sum + d.attributes.total, 0);
    assert.equal(serviceTotal, truth.rows[0].total);
    const providers = await member.get('/api/v1/overviews/providers');
    const resources = await admin.query(
      `SELECT count(DISTINCT l.resource_id)::int AS n FROM findings f JOIN resource_finding_links l ON l.finding_id = f.id
        WHERE f.scan_id = ANY($1) ${rule}`,
      [latestScans],
    );
    const resourceTotal = providers.body.data.reduce((sum: number, d: any) => sum + d.attributes.resources.total, 0);
    assert.equal(resourceTotal, resources.rows[0].n);

    // The owner, whom no rule names, still reads the tenant-wide pre-aggregates.
    const owners = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scan}&page[size]=100`);
    assert.deepEqual(listed(owners.body), asOverviews(await expected([scan])));
    const ownerOverview = await api.get('/api/v1/overviews/findings');
    const allLatest = await admin.query(`SELECT count(*)::int AS n FROM findings WHERE scan_id = ANY($1)`, [latestScans]);
    assert.equal(ownerOverview.body.data.attributes.total, allLatest.rows[0].n);
  });
});

/** How many findings /findings/latest lists for a client, by walking its cursor pages. */
async function visibleCount(client: ApiClient, scope: 'latest'): Promise<number> {
  let count = 0;
  let next: string | null = `/api/v1/findings/${scope}?page[cursor]=&page[size]=500`;
  while (next) {
    const page: any = await client.get(next);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    count += page.body.data.length;
    next = page.body.links?.next ?? null;
  }
  return count;
}
