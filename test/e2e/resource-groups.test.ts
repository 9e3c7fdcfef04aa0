import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { writeCheckDefinitions } from '../support/check-definitions';
import { adminClient } from '../support/database';
import { CHECKS_PER_SERVICE, generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { SignedUpUser, signUp } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';
import { addMember, createRule, insertRole } from './rls-rules-fixtures';

/** The resource group the check definitions written below give each service's checks. */
const GROUP_OF_SERVICE: Record<string, string> = { ec2: 'compute', s3: 'storage' };
/** A check whose findings carry no categories: the definition's are used. */
const UNCATEGORISED = 'iam_check_00';

/**
 * Resource groups come from the check definitions of a Prowler installation
 * (PROWLER_CHECKS_DIR): written here in Prowler's layout, then a scan is
 * ingested through the real path, and the groups overview, the findings'
 * `resource_groups` and the filters are compared with figures computed here
 * from the stored findings.
 */
describe('resource groups from check definitions', () => {
  let admin: Client;
  let app: TestApp;
  let owner: SignedUpUser;
  let scanId: string;
  const checks = writeCheckDefinitions([
    ...Object.entries(GROUP_OF_SERVICE).flatMap(([service, group]) =>
      Array.from({ length: CHECKS_PER_SERVICE }, (_, n) => ({ provider: 'aws', checkId: `${service}_check_${String(n).padStart(2, '0')}`, resourceGroup: group })),
    ),
    { provider: 'aws', checkId: UNCATEGORISED, categories: ['Identity-Access'] },
  ]);

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ PROWLER_CHECKS_DIR: checks.dir });
    owner = await signUp(app.baseUrl, 'groups-owner');
    const providerId = await insertProvider(admin, owner.tenantId);
    const startedAt = new Date(Date.now() - 600_000);
    scanId = await insertScan(admin, owner.tenantId, providerId, startedAt);
    const records = [...generateRecords({ providerKey: 'groups', count: 600 })].map((r) => (r.checkId === UNCATEGORISED ? { ...r, categories: [] } : r));
    await ingestScan(app, { tenantId: owner.tenantId, scanId, providerId, scanStartedAt: startedAt }, records);
  });
  after(async () => {
    await admin.end();
    await app.close();
    checks.remove();
  });

  /** Per group from the stored findings: Prowler's counts, and the distinct resources of the group's findings. */
  async function expectedGroups(extra = ''): Promise<Record<string, unknown>> {
    const { rows } = await admin.query(
      `SELECT f.service, f.severity, count(*) FILTER (WHERE NOT f.muted)::int AS total,
              count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS failed,
              count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted AND f.delta = 'new')::int AS new_failed
         FROM findings f WHERE f.scan_id = $1 AND f.service = ANY($2) ${extra} GROUP BY f.service, f.severity`,
      [scanId, Object.keys(GROUP_OF_SERVICE)],
    );
    const { rows: resources } = await admin.query(
      `SELECT f.service, count(DISTINCT l.resource_id)::int AS n FROM findings f JOIN resource_finding_links l ON l.finding_id = f.id
        WHERE f.scan_id = $1 AND f.service = ANY($2) ${extra} GROUP BY f.service`,
      [scanId, Object.keys(GROUP_OF_SERVICE)],
    );
    const result: Record<string, any> = {};
    for (const row of rows) {
      const entry = (result[GROUP_OF_SERVICE[row.service]] ??= {
        total_findings: 0, failed_findings: 0, new_failed_findings: 0, resources_count: 0,
        severity: { critical: 0, high: 0, medium: 0, low: 0, informational: 0 },
      });
      entry.total_findings += row.total;
      entry.failed_findings += row.failed;
      entry.new_failed_findings += row.new_failed;
      entry.severity[row.severity] += row.failed;
    }
    for (const row of resources) result[GROUP_OF_SERVICE[row.service]].resources_count = row.n;
    return result;
  }

  const byId = (body: any) => Object.fromEntries(body.data.map((d: any) => [d.id, d.attributes]));

  it('the overview counts each group of the latest scans, with the distinct resources its findings name', async () => {
    const answer = await owner.client.get('/api/v1/overviews/resource-groups');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const expected = await expectedGroups();
    assert.deepEqual(Object.keys(expected).sort(), ['compute', 'storage']);
    assert.deepEqual(byId(answer.body), expected);
    const storage = await owner.client.get('/api/v1/overviews/resource-groups?filter[resource_group]=storage');
    assert.deepEqual(byId(storage.body), { storage: expected.storage });
  });

  it('findings show their check\'s group and the definition\'s categories where the file gave none; filters and pickers use them', async () => {
    const count = async (path: string) => (await owner.client.get(`${path}&page[size]=1`)).body.meta.pagination.count;
    const direct = async (where: string) =>
      (await admin.query(`SELECT count(*)::int AS n FROM findings f WHERE f.scan_id = $1 AND ${where}`, [scanId])).rows[0].n;
    assert.equal(await count('/api/v1/findings/latest?filter[resource_groups]=compute'), await direct(`f.service = 'ec2'`));
    assert.equal(await count('/api/v1/findings/latest?filter[resource_groups__in]=compute,storage'), await direct(`f.service IN ('ec2', 's3')`));
    const ec2 = await owner.client.get('/api/v1/findings/latest?filter[service]=ec2&page[size]=1');
    assert.equal(ec2.body.data[0].attributes.resource_groups, 'compute');
    const iam = await owner.client.get(`/api/v1/findings/latest?filter[check_id]=${UNCATEGORISED}&page[size]=1`);
    assert.deepEqual(iam.body.data[0].attributes.categories, ['identity-access']);
    // A finding group's resources carry their check's group, as Prowler's do; a check without one answers ''.
    const ec2Check = ec2.body.data[0].attributes.check_id;
    const grouped = await owner.client.get(`/api/v1/finding-groups/latest/${ec2Check}/resources?page[size]=2`);
    assert.equal(grouped.status, 200, JSON.stringify(grouped.body));
    assert.ok(grouped.body.data.length > 0);
    for (const row of grouped.body.data) assert.equal(row.attributes.resource.resource_group, 'compute');
    const ungrouped = await owner.client.get(`/api/v1/finding-groups/latest/${UNCATEGORISED}/resources?page[size]=1`);
    assert.equal(ungrouped.body.data[0].attributes.resource.resource_group, '');
    const metadata = await owner.client.get('/api/v1/findings/metadata/latest');
    assert.deepEqual(metadata.body.data.attributes.groups, ['compute', 'storage']);
  });

  it('a caller with row filter rules gets groups and resources of the findings they may see', async () => {
    const role = await insertRole(admin, owner.tenantId, 'groups-analyst', ['unlimited_visibility']);
    const analyst = await addMember(app.baseUrl, admin, owner.tenantId, 'groups-analyst', [role]);
    await createRule(owner.client, { clause: "status = 'PASS'", roles: [role], tables: ['findings'] });
    const answer = await analyst.client.get('/api/v1/overviews/resource-groups');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const expected = await expectedGroups(`AND f.status = 'PASS'`);
    assert.deepEqual(byId(answer.body), expected);
    assert.notDeepEqual(expected, await expectedGroups());
  });
});
