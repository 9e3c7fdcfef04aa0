import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { categoriesOf, generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { addMember, createRule, insertRole } from './rls-rules-fixtures';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { TenantDatabase } from '../../src/database/tenant-database';
import { aggregateScanCompliance } from '../../src/findings/compliance/compliance-aggregation';

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Checks that name an attack surface, given to generated findings of these providers (renamed from ordinary ones). */
const RENAMED: Record<string, string> = {
  iam_check_00: 'iam_policy_allows_privilege_escalation',
  iam_check_01: 'iam_inline_policy_allows_privilege_escalation',
  ec2_check_00: 'ec2_instance_imdsv2_enabled',
  ec2_check_01: 'ec2_instance_account_imdsv2_enabled',
};
/** The categories the generator gave a check (a renamed one keeps those of the check it was renamed from). */
const ORIGINAL_OF = Object.fromEntries(Object.entries(RENAMED).map(([from, to]) => [to, from]));
const categoriesOfCheck = (checkId: string) => categoriesOf(ORIGINAL_OF[checkId] ?? checkId);
/** The attack surfaces that are check categories, for every provider type. */
const CATEGORY_SURFACES = ['internet-exposed', 'secrets'];
const SURFACE_OF: Record<string, string> = {
  iam_policy_allows_privilege_escalation: 'privilege-escalation',
  iam_inline_policy_allows_privilege_escalation: 'privilege-escalation',
  ec2_instance_imdsv2_enabled: 'ec2-imdsv1',
  ec2_instance_account_imdsv2_enabled: 'ec2-imdsv1',
};

/**
 * The overview page's widgets against figures computed here from the
 * findings of the scans each one covers: attack surfaces (with the provider
 * types each surface applies to), the severity time series with days
 * filled forward, the compliance watchlist, visibility and rules, and bad input.
 */
describe('overview widgets', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;
  let awsExtra: string;
  let azureExtra: string;
  const now = Date.now();

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    world = await buildFindingsWorld(app, admin, 'widgets', 300);
    api = world.owner.client;
    awsExtra = await insertProvider(admin, world.tenantId, 'aws', '333333333333');
    azureExtra = await insertProvider(admin, world.tenantId, 'azure');
    for (const [providerId, key] of [[awsExtra, 'aws3'], [azureExtra, 'azure3']]) {
      const startedAt = new Date(now - 30 * 60_000);
      const scanId = await insertScan(admin, world.tenantId, providerId, startedAt);
      const records = [...generateRecords({ providerKey: key, count: 400 })].map((r) => ({ ...r, checkId: RENAMED[r.checkId] ?? r.checkId }));
      await ingestScan(app, { tenantId: world.tenantId, scanId, providerId, scanStartedAt: startedAt }, records);
    }
    // An older scan of aws2, three days ago: the time series shows it until aws2's next scan.
    const old = new Date(now - 3 * DAY_MS);
    const oldScan = await insertScan(admin, world.tenantId, world.providers.aws2, old);
    await ingestScan(app, { tenantId: world.tenantId, scanId: oldScan, providerId: world.providers.aws2, scanStartedAt: old }, generateRecords({ providerKey: 'aws2', count: 120 }));
    // The compliance follow-up job's work, for the scans the watchlist reads.
    const database = app.app.get(TenantDatabase);
    for (const scanId of await latestScans()) await rlsTransaction(database.app, world.tenantId, (m) => aggregateScanCompliance(m, scanId));
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  /** The latest completed scan of each live provider (of `providers` when given). */
  async function latestScans(providers?: string[]): Promise<string[]> {
    const { rows } = await admin.query(
      `SELECT DISTINCT ON (provider_id) id FROM scans WHERE tenant_id = $1 AND state = 'completed' AND ($2::uuid[] IS NULL OR provider_id = ANY($2))
        ORDER BY provider_id, completed_at DESC`,
      [world.tenantId, providers ?? null],
    );
    return rows.map((r) => r.id);
  }

  async function expectedSurfaces(scans: string[], extra = ''): Promise<Record<string, unknown>> {
    const { rows } = await admin.query(
      `SELECT f.check_id, p.provider, count(*)::int AS total, count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS failed,
              count(*) FILTER (WHERE f.status = 'FAIL' AND f.muted)::int AS muted_failed
         FROM findings f JOIN providers p ON p.id = f.provider_id
        WHERE f.scan_id = ANY($1) ${extra} GROUP BY f.check_id, p.provider`,
      [scans],
    );
    const result: Record<string, { total_findings: number; failed_findings: number; muted_failed_findings: number }> = {};
    for (const type of ['internet-exposed', 'secrets', 'privilege-escalation', 'ec2-imdsv1']) result[type] = { total_findings: 0, failed_findings: 0, muted_failed_findings: 0 };
    const add = (type: string, row: { total: number; failed: number; muted_failed: number }) => {
      result[type].total_findings += row.total;
      result[type].failed_findings += row.failed;
      result[type].muted_failed_findings += row.muted_failed;
    };
    for (const row of rows) {
      for (const category of categoriesOfCheck(row.check_id)) if (CATEGORY_SURFACES.includes(category)) add(category, row);
      const type = SURFACE_OF[row.check_id];
      if (!type) continue;
      // Privilege escalation applies to AWS and Kubernetes, IMDSv1 to AWS only.
      if (row.provider !== 'aws' && !(type === 'privilege-escalation' && row.provider === 'kubernetes')) continue;
      add(type, row);
    }
    return result;
  }

  const surfacesOf = (body: any) => Object.fromEntries(body.data.map((d: any) => [d.id, d.attributes]));

  it('attack surfaces count the latest findings of their checks, for the provider types each applies to', async () => {
    const expected = await expectedSurfaces(await latestScans());
    for (const type of ['ec2-imdsv1', ...CATEGORY_SURFACES]) assert.ok((expected[type] as any).total_findings > 0, type);
    const answer = await api.get('/api/v1/overviews/attack-surfaces');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(surfacesOf(answer.body), expected);
    const azureOnly = await api.get('/api/v1/overviews/attack-surfaces?filter[provider_type]=azure');
    // Only the category surfaces apply to Azure.
    const azure: Record<string, any> = surfacesOf(azureOnly.body);
    assert.deepEqual([azure['privilege-escalation'].total_findings, azure['ec2-imdsv1'].total_findings], [0, 0]);
    const azureExpected = await expectedSurfaces(await latestScans([world.providers.azure, azureExtra]));
    assert.ok(azure['internet-exposed'].total_findings + azure.secrets.total_findings > 0);
    assert.deepEqual(azure, azureExpected);
    const sorted = await api.get('/api/v1/overviews/attack-surfaces?sort=-total_findings');
    const totals = sorted.body.data.map((d: any) => d.attributes.total_findings);
    assert.deepEqual(totals, [...totals].sort((a, b) => b - a));
  });

  it('a limited role and row filter rules see surfaces and severities of their own rows only', async () => {
    const limited = await limitedMember(app, admin, world, awsExtra);
    assert.deepEqual(surfacesOf((await limited.get('/api/v1/overviews/attack-surfaces')).body), await expectedSurfaces(await latestScans([awsExtra])));

    const role = await insertRole(admin, world.tenantId, 'widgets-analyst', ['unlimited_visibility']);
    const analyst = await addMember(app.baseUrl, admin, world.tenantId, 'widgets-analyst', [role]);
    await createRule(api, { clause: "status = 'PASS'", roles: [role], tables: ['findings'] });
    const ruled = await analyst.client.get('/api/v1/overviews/attack-surfaces');
    assert.deepEqual(surfacesOf(ruled.body), await expectedSurfaces(await latestScans(), `AND f.status = 'PASS'`));
    const series = await analyst.client.get(`/api/v1/overviews/findings_severity/timeseries?filter[date_from]=${day(now - 4 * DAY_MS)}`);
    assert.equal(series.status, 200, JSON.stringify(series.body));
    assert.ok(series.body.data.every((d: any) => d.attributes.critical + d.attributes.high + d.attributes.medium + d.attributes.low + d.attributes.informational === 0));
  });

  it('the severity time series has one point per day, each provider counted with its latest scan up to that day', async () => {
    const from = now - 5 * DAY_MS;
    const answer = await api.get(`/api/v1/overviews/findings_severity/timeseries?filter[date_from]=${day(from)}&filter[date_to]=${day(now)}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const { rows } = await admin.query(
      `SELECT d::date::text AS id,
              count(*) FILTER (WHERE f.severity = 'critical' AND f.status = 'FAIL' AND NOT f.muted)::int AS critical,
              count(*) FILTER (WHERE f.severity = 'high' AND f.status = 'FAIL' AND NOT f.muted)::int AS high,
              count(*) FILTER (WHERE f.severity = 'medium' AND f.status = 'FAIL' AND NOT f.muted)::int AS medium,
              count(*) FILTER (WHERE f.severity = 'low' AND f.status = 'FAIL' AND NOT f.muted)::int AS low,
              count(*) FILTER (WHERE f.severity = 'informational' AND f.status = 'FAIL' AND NOT f.muted)::int AS informational,
              count(*) FILTER (WHERE f.muted)::int AS muted,
              COALESCE(array_agg(DISTINCT latest.id::text) FILTER (WHERE latest.id IS NOT NULL), '{}') AS scan_ids
         FROM generate_series($2::date, $3::date, interval '1 day') d
         LEFT JOIN LATERAL (
           SELECT DISTINCT ON (s.provider_id) s.id FROM scans s
            WHERE s.tenant_id = $1 AND s.state = 'completed' AND (s.completed_at AT TIME ZONE 'UTC')::date <= d::date
            ORDER BY s.provider_id, s.completed_at DESC) latest ON true
         LEFT JOIN findings f ON f.scan_id = latest.id
        GROUP BY d ORDER BY d`,
      [world.tenantId, day(from), day(now)],
    );
    assert.equal(answer.body.data.length, 6);
    assert.deepEqual(
      answer.body.data.map((d: any) => ({ id: d.id, ...d.attributes, scan_ids: [...d.attributes.scan_ids].sort() })),
      rows.map((r) => ({ ...r, scan_ids: [...r.scan_ids].sort() })),
    );
    assert.deepEqual(answer.body.data[0].attributes.scan_ids, [], 'no scan before the first one');
    assert.ok(answer.body.data[3].attributes.scan_ids.length >= 1, 'the old aws2 scan is carried forward');
  });

  it('the compliance watchlist merges every provider in scope, as the compliance overviews of all of them', async () => {
    const providers = [world.providers.aws1, world.providers.aws2, world.providers.azure, awsExtra, azureExtra];
    const all = await api.get(`/api/v1/compliance-overviews?filter[provider_id__in]=${providers.join(',')}&page[size]=100`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    const watchlist = await api.get('/api/v1/overviews/compliance-watchlist');
    assert.equal(watchlist.status, 200, JSON.stringify(watchlist.body));
    assert.ok(watchlist.body.data.length > 0);
    assert.deepEqual(
      watchlist.body.data.map((d: any) => d.attributes).sort((a: any, b: any) => a.compliance_id.localeCompare(b.compliance_id)),
      all.body.data
        .map((d: any) => ({
          compliance_id: d.id,
          requirements_passed: d.attributes.requirements_passed,
          requirements_failed: d.attributes.requirements_failed,
          requirements_manual: d.attributes.requirements_manual,
          total_requirements: d.attributes.total_requirements,
        }))
        .sort((a: any, b: any) => a.compliance_id.localeCompare(b.compliance_id)),
    );
    for (const row of watchlist.body.data) {
      const a = row.attributes;
      assert.equal(a.requirements_passed + a.requirements_failed + a.requirements_manual, a.total_requirements);
    }
  });

  it('categories count the latest findings of the checks in each, as Prowler does; resource groups are an empty list', async () => {
    /** Per category from the findings themselves: total unmuted, failed and new failed unmuted, failed per severity. */
    const expectedCategories = async (scans: string[], only?: string[], extra = '') => {
      const { rows } = await admin.query(
        `SELECT f.check_id, f.severity, count(*) FILTER (WHERE NOT f.muted)::int AS total,
                count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS failed,
                count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted AND f.delta = 'new')::int AS new_failed
           FROM findings f WHERE f.scan_id = ANY($1) ${extra} GROUP BY f.check_id, f.severity`,
        [scans],
      );
      const result: Record<string, any> = {};
      for (const row of rows) {
        for (const category of categoriesOfCheck(row.check_id)) {
          if (only && !only.includes(category)) continue;
          const entry = (result[category] ??= {
            total_findings: 0, failed_findings: 0, new_failed_findings: 0, severity: { critical: 0, high: 0, medium: 0, low: 0, informational: 0 },
          });
          entry.total_findings += row.total;
          entry.failed_findings += row.failed;
          entry.new_failed_findings += row.new_failed;
          entry.severity[row.severity] += row.failed;
        }
      }
      return result;
    };
    const answer = await api.get('/api/v1/overviews/categories');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const expected = await expectedCategories(await latestScans());
    assert.ok(Object.keys(expected).length >= 4, JSON.stringify(Object.keys(expected)));
    assert.deepEqual(surfacesOf(answer.body), expected);
    assert.deepEqual(answer.body.data.map((d: any) => d.type), answer.body.data.map(() => 'category-overviews'));
    // The documented sorts apply; a severity key keeps the order the others gave.
    const sorted = await api.get('/api/v1/overviews/categories?sort=-failed_findings,severity,id');
    assert.equal(sorted.status, 200, JSON.stringify(sorted.body));
    const byFailed = Object.entries(expected)
      .sort(([a, x], [b, y]) => y.failed_findings - x.failed_findings || (a < b ? -1 : 1))
      .map(([name]) => name);
    assert.deepEqual(sorted.body.data.map((d: any) => d.id), byFailed);

    const some = await api.get('/api/v1/overviews/categories?filter[category__in]=encryption,SECRETS');
    assert.deepEqual(surfacesOf(some.body), await expectedCategories(await latestScans(), ['encryption', 'secrets']));
    const oneProvider = await api.get(`/api/v1/overviews/categories?filter[provider_id]=${awsExtra}`);
    assert.deepEqual(surfacesOf(oneProvider.body), await expectedCategories(await latestScans([awsExtra])));

    // Row filter rules: figures from the findings the caller may see.
    const role = await insertRole(admin, world.tenantId, 'categories-analyst', ['unlimited_visibility']);
    const analyst = await addMember(app.baseUrl, admin, world.tenantId, 'categories-analyst', [role]);
    await createRule(api, { clause: "severity = 'high'", roles: [role], tables: ['findings'] });
    const ruled = await analyst.client.get('/api/v1/overviews/categories');
    assert.equal(ruled.status, 200, JSON.stringify(ruled.body));
    const ruledExpected = await expectedCategories(await latestScans(), undefined, `AND f.severity = 'high'`);
    assert.ok(Object.keys(ruledExpected).length > 0);
    assert.notDeepEqual(ruledExpected, expected);
    assert.deepEqual(surfacesOf(ruled.body), ruledExpected);

    const groups = await api.get('/api/v1/overviews/resource-groups?filter[resource_group]=database');
    assert.equal(groups.status, 200);
    assert.deepEqual(groups.body.data, []);
  });

  it('refuses dates out of range with 400 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['', 'filter[date_from]'],
      [`filter[date_from]=${day(now - 400 * DAY_MS)}`, 'filter[date_from]'],
      [`filter[date_from]=${day(now + 2 * DAY_MS)}`, 'filter[date_from]'],
      [`filter[date_from]=${day(now - 2 * DAY_MS)}&filter[date_to]=${day(now - 4 * DAY_MS)}`, 'filter[date_to]'],
      ['filter[date_from]=not-a-date', 'filter[date_from]'],
    ];
    for (const [query, parameter] of cases) {
      const answer = await api.get(`/api/v1/overviews/findings_severity/timeseries?${query}`);
      assert.equal(answer.status, 400, query);
      assert.equal(answer.body.errors[0].source.parameter, parameter, query);
    }
  });
});
