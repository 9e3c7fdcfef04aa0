import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { newId } from '../../src/database/uuid';
import { LocalAppModule } from '../../src/local-app.module';
import { adminClient } from '../support/database';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { ApiClient, signUp } from '../support/http-client';
import { checksOf, frameworksFor, PROWLER_COMPLIANCE_DIR, TestFramework, withRealChecks } from '../support/prowler-compliance';
import { enqueue, fastQueueEnv, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';
import { addMember, createRule, insertRole } from './rls-rules-fixtures';

type Status = 'PASS' | 'FAIL' | 'MANUAL';

/**
 * Compliance from Prowler's framework definitions, end to end: findings with
 * real check ids ingested through the real path, the `scan-compliance` job
 * run by in-process workers, figures read over HTTP and checked against
 * numbers computed here from the framework files and the findings.
 */
describe('compliance from framework definitions, and ThreatScore', () => {
  let admin: Client;
  let app: TestApp;
  let api: ApiClient;
  let tenantId: string;
  const aws = frameworksFor('aws');
  const azure = frameworksFor('azure');
  const providers = { aws: '', azure: '' };
  const scans = { awsFirst: '', awsSecond: '', azure: '' };

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ ...fastQueueEnv('compliance-fw'), WORKERS_IN_PROCESS: 'true', PROWLER_COMPLIANCE_DIR }, LocalAppModule);
    const owner = await signUp(app.baseUrl, 'frameworks');
    tenantId = owner.tenantId;
    api = owner.client;
    providers.aws = await insertProvider(admin, tenantId, 'aws', '333333333333');
    providers.azure = await insertProvider(admin, tenantId, 'azure', newId());
    const hour = 3600_000;
    const started = { awsFirst: new Date(Date.now() - 3 * hour), awsSecond: new Date(Date.now() - 2 * hour), azure: new Date(Date.now() - hour) };
    scans.awsFirst = await insertScan(admin, tenantId, providers.aws, started.awsFirst);
    scans.awsSecond = await insertScan(admin, tenantId, providers.aws, started.awsSecond);
    scans.azure = await insertScan(admin, tenantId, providers.azure, started.azure);
    const awsChecks = checksOf(aws);
    const plan = [
      ['awsFirst', 'aws', withRealChecks(generateRecords({ providerKey: 'fw-aws', count: 400 }), awsChecks)],
      ['awsSecond', 'aws', withRealChecks(generateRecords({ providerKey: 'fw-aws', count: 400, scanIndex: 1, changeRate: 0.3 }), awsChecks)],
      ['azure', 'azure', withRealChecks(generateRecords({ providerKey: 'fw-azure', count: 200 }), checksOf(azure))],
    ] as const;
    for (const [scan, provider, records] of plan) {
      await ingestScan(app, { tenantId, scanId: scans[scan], providerId: providers[provider], scanStartedAt: started[scan] }, records);
      const task = await enqueue(app, tenantId, { name: 'scan-compliance', args: { scanId: scans[scan], providerId: providers[provider] } });
      const ended = await waitForTaskEnd(task.id, 60000);
      assert.equal(ended.state, 'completed', JSON.stringify(ended.result));
    }
  });
  after(async () => {
    await admin?.end();
    await app?.close();
  });

  /** Per check of the scans, whether an unmuted finding failed, and its unmuted pass and fail counts (with extra SQL over f). */
  async function checkTruth(scanIds: string[], extra = ''): Promise<Map<string, { pass: number; fail: number }>> {
    const { rows } = await admin.query(
      `SELECT f.check_id, count(*) FILTER (WHERE f.status = 'PASS' AND NOT f.muted)::int AS pass,
              count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS fail
         FROM findings f WHERE f.scan_id = ANY($1) ${extra} GROUP BY f.check_id`,
      [scanIds],
    );
    return new Map(rows.map((r) => [r.check_id, { pass: r.pass, fail: r.fail }]));
  }

  function statusOf(checks: string[], truth: Map<string, { pass: number; fail: number }>): Status {
    if (checks.length === 0) return 'MANUAL';
    return checks.some((c) => (truth.get(c)?.fail ?? 0) > 0) ? 'FAIL' : 'PASS';
  }

  function overviewsOf(frameworks: TestFramework[], truth: Map<string, { pass: number; fail: number }>) {
    return frameworks.map((f) => {
      const statuses = f.requirements.map((r) => statusOf(r.checks, truth));
      return {
        id: f.id,
        framework: f.framework,
        version: f.version,
        requirements_passed: statuses.filter((s) => s === 'PASS').length,
        requirements_failed: statuses.filter((s) => s === 'FAIL').length,
        requirements_manual: statuses.filter((s) => s === 'MANUAL').length,
        total_requirements: new Set(f.requirements.map((r) => r.id)).size,
      };
    });
  }

  const listed = (body: any) => body.data.map((d: any) => ({ id: d.id, ...d.attributes }));

  it('every framework of the provider type is listed with every requirement counted', async () => {
    const response = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scans.awsSecond}&page[size]=100`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.meta.compliance_source, 'framework_definitions');
    const expected = overviewsOf(aws, await checkTruth([scans.awsSecond]));
    assert.ok(expected.length > 40, `${expected.length} frameworks`);
    assert.deepEqual(listed(response.body), expected);
    const cis = expected.find((o) => o.id === 'cis_3.0_aws')!;
    assert.ok(cis.requirements_failed > 0 && cis.requirements_passed > 0 && cis.requirements_manual > 0, JSON.stringify(cis));
  });

  it('requirements carry their framework text and status, including those no finding mentioned', async () => {
    const response = await api.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${scans.awsSecond}&filter[compliance_id]=cis_2.0_aws`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const framework = aws.find((f) => f.id === 'cis_2.0_aws')!;
    const truth = await checkTruth([scans.awsSecond]);
    assert.equal(response.body.data.length, framework.requirements.length);
    for (const requirement of framework.requirements) {
      const item = response.body.data.find((d: any) => d.id === requirement.id);
      assert.deepEqual(item.attributes, { framework: 'CIS', version: '2.0', description: requirement.description, status: statusOf(requirement.checks, truth) }, requirement.id);
    }
    const unmentioned = framework.requirements.filter((r) => r.checks.length > 0 && r.checks.every((c) => !truth.has(c)));
    assert.ok(unmentioned.length > 0);
    for (const r of unmentioned) assert.equal(response.body.data.find((d: any) => d.id === r.id).attributes.status, 'PASS');

    const unknown = await api.get(`/api/v1/compliance-overviews/requirements?filter[scan_id]=${scans.awsSecond}&filter[compliance_id]=nothing_aws`);
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
  });

  it('a universal framework is read per provider type; the attributes list its requirements with the checks of the scan’s provider', async () => {
    const azureOverview = await api.get(`/api/v1/compliance-overviews?filter[scan_id]=${scans.azure}&filter[compliance_id]=csa_ccm_4.0`);
    assert.deepEqual(listed(azureOverview.body), overviewsOf(azure.filter((f) => f.id === 'csa_ccm_4.0'), await checkTruth([scans.azure])));

    const attributes = await api.get(`/api/v1/compliance-overviews/attributes?filter[compliance_id]=csa_ccm_4.0&filter[scan_id]=${scans.azure}`);
    assert.equal(attributes.status, 200, JSON.stringify(attributes.body));
    const csa = azure.find((f) => f.id === 'csa_ccm_4.0')!;
    assert.equal(attributes.body.data.length, csa.requirements.length);
    const first = attributes.body.data[0];
    assert.equal(first.type, 'compliance-requirements-attributes');
    assert.equal(first.id, csa.requirements[0].id);
    assert.deepEqual(first.attributes, {
      compliance_name: csa.name,
      framework_description: csa.description,
      name: csa.requirements[0].name,
      framework: csa.framework,
      version: csa.version,
      description: csa.requirements[0].description,
      attributes: { metadata: csa.requirements[0].attributes, check_ids: csa.requirements[0].checks },
    });
    const cis = await api.get('/api/v1/compliance-overviews/attributes?filter[compliance_id]=cis_2.0_aws');
    assert.equal(cis.status, 200);
    assert.deepEqual(cis.body.data[0].attributes.attributes.check_ids, aws.find((f) => f.id === 'cis_2.0_aws')!.requirements[0].checks);
    assert.ok(!('technique_details' in cis.body.data[0].attributes.attributes), 'only MITRE ATT&CK requirements are techniques');
    // MITRE ATT&CK requirements carry their technique, read here straight from the file.
    const mitre = await api.get('/api/v1/compliance-overviews/attributes?filter[compliance_id]=mitre_attack_aws');
    assert.equal(mitre.status, 200, JSON.stringify(mitre.body));
    const techniques = JSON.parse(readFileSync(join(PROWLER_COMPLIANCE_DIR, 'aws', 'mitre_attack_aws.json'), 'utf8')).Requirements as any[];
    assert.equal(mitre.body.data.length, techniques.length);
    for (const technique of techniques) {
      assert.deepEqual(mitre.body.data.find((d: any) => d.id === technique.Id).attributes.attributes.technique_details, {
        tactics: technique.Tactics, subtechniques: technique.SubTechniques, platforms: technique.Platforms, technique_url: technique.TechniqueURL,
      }, technique.Id);
    }

    assert.equal((await api.get('/api/v1/compliance-overviews/attributes?filter[compliance_id]=nothing_aws')).status, 404);
    assert.equal((await api.get(`/api/v1/compliance-overviews/attributes?filter[compliance_id]=cis_2.0_aws&filter[scan_id]=${scans.azure}`)).status, 404);
    assert.equal((await api.get('/api/v1/compliance-overviews/attributes')).status, 400);
    assert.equal((await api.get('/api/v1/compliance-overviews/attributes?filter[compliance_id]=cis_2.0_aws&filter[scan_id]=x')).status, 400);
  });

  /** Prowler's ThreatScore, computed here from the framework file and the findings. */
  function threatScore(truth: Map<string, { pass: number; fail: number }>) {
    const framework = aws.find((f) => f.id === 'prowler_threatscore_aws')!;
    let numerator = 0;
    let denominator = 0;
    let found = false;
    const sections: Record<string, [number, number]> = {};
    const counts = { passed: 0, failed: 0, manual: 0, findings: 0, passedFindings: 0 };
    for (const r of framework.requirements) {
      const pass = r.checks.reduce((s, c) => s + (truth.get(c)?.pass ?? 0), 0);
      const total = r.checks.reduce((s, c) => s + (truth.get(c)?.pass ?? 0) + (truth.get(c)?.fail ?? 0), 0);
      const status = r.checks.length === 0 ? 'MANUAL' : total > 0 && pass < total ? 'FAIL' : 'PASS';
      counts[status === 'PASS' ? 'passed' : status === 'FAIL' ? 'failed' : 'manual']++;
      counts.findings += total;
      counts.passedFindings += pass;
      if (total === 0) continue;
      found = true;
      const a = r.attributes[0];
      const w = total * a.Weight * (1 + 0.25 * a.LevelOfRisk);
      numerator += (pass / total) * w;
      denominator += w;
      sections[a.Section] = [(sections[a.Section]?.[0] ?? 0) + (pass / total) * w, (sections[a.Section]?.[1] ?? 0) + w];
    }
    const score = found ? Math.round((numerator / denominator) * 10000) / 100 : 100;
    const sectionScores = Object.fromEntries(Object.entries(sections).map(([s, [n, d]]) => [s, Math.round((n / d) * 10000) / 100]));
    return { score, sectionScores, counts, total: framework.requirements.length };
  }

  it('ThreatScore: the latest snapshot per provider, its delta against the scan before, a snapshot by id, and includes', async () => {
    const first = threatScore(await checkTruth([scans.awsFirst]));
    const second = threatScore(await checkTruth([scans.awsSecond]));
    const response = await api.get(`/api/v1/overviews/threatscore?filter[provider_id]=${providers.aws}&include=provider,scan`);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.data.length, 1);
    const snapshot = response.body.data[0];
    assert.equal(snapshot.type, 'threatscore-snapshots');
    assert.equal(snapshot.attributes.compliance_id, 'prowler_threatscore_aws');
    assert.equal(snapshot.attributes.overall_score, second.score.toFixed(2));
    assert.equal(snapshot.attributes.score_delta, (Math.round((second.score - first.score) * 100) / 100).toFixed(2));
    assert.deepEqual(snapshot.attributes.section_scores, second.sectionScores);
    assert.equal(snapshot.attributes.total_requirements, second.total);
    assert.equal(snapshot.attributes.passed_requirements, second.counts.passed);
    assert.equal(snapshot.attributes.failed_requirements, second.counts.failed);
    assert.equal(snapshot.attributes.manual_requirements, second.counts.manual);
    assert.equal(snapshot.attributes.total_findings, second.counts.findings);
    assert.equal(snapshot.attributes.passed_findings, second.counts.passedFindings);
    assert.ok(snapshot.attributes.critical_requirements.every((r: any) => r.risk_level >= 4));
    assert.equal(snapshot.relationships.scan.data.id, scans.awsSecond);
    assert.deepEqual(response.body.included.map((i: any) => i.type).sort(), ['providers', 'scans']);

    const stored = await admin.query(`SELECT id FROM threatscore_snapshots WHERE scan_id = $1`, [scans.awsFirst]);
    const byId = await api.get(`/api/v1/overviews/threatscore?snapshot_id=${stored.rows[0].id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.data[0].attributes.overall_score, first.score.toFixed(2));
    assert.equal(byId.body.data[0].attributes.score_delta, null, "a provider's first snapshot has no delta");
    assert.equal((await api.get(`/api/v1/overviews/threatscore?snapshot_id=${newId()}`)).status, 404);
    assert.equal((await api.get('/api/v1/overviews/threatscore?snapshot_id=nope')).status, 400);

    // Re-running the job keeps the snapshot's id, and its delta against the scan before.
    const rerun = await enqueue(app, tenantId, { name: 'scan-compliance', args: { scanId: scans.awsSecond, providerId: providers.aws } });
    assert.equal((await waitForTaskEnd(rerun.id, 60000)).state, 'completed');
    const again = await api.get(`/api/v1/overviews/threatscore?filter[provider_id]=${providers.aws}`);
    assert.equal(again.body.data[0].id, snapshot.id);
    assert.equal(again.body.data[0].attributes.score_delta, snapshot.attributes.score_delta);
  });

  it('ThreatScore over several providers is one combined snapshot, weighted by findings', async () => {
    const rows = (await admin.query(`SELECT DISTINCT ON (provider_id) overall_score::float8 AS score, total_findings FROM threatscore_snapshots ORDER BY provider_id, inserted_at DESC`)).rows;
    assert.equal(rows.length, 2);
    const response = await api.get('/api/v1/overviews/threatscore');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.data.length, 1);
    const combined = response.body.data[0];
    assert.equal(combined.attributes.compliance_id, 'prowler_threatscore_overview');
    const weight = rows.reduce((s, r) => s + r.total_findings, 0);
    const expected = rows.reduce((s, r) => s + r.score * r.total_findings, 0) / weight;
    assert.equal(combined.attributes.overall_score, (Math.round(expected * 100) / 100).toFixed(2));
    assert.deepEqual(combined.relationships.provider, { data: null });
    // Prowler documents these filters as text: a value naming nothing selects nothing.
    for (const filter of ['filter[provider_id]=x', 'filter[provider_groups__in]=x,y', 'filter[provider_type]=nimbus']) {
      const none = await api.get(`/api/v1/overviews/threatscore?${filter}`);
      assert.equal(none.status, 200, filter);
      assert.deepEqual(none.body.data, [], filter);
    }
    const azureOnly = await api.get('/api/v1/overviews/threatscore?filter[provider_type]=azure');
    assert.equal(azureOnly.body.data[0].attributes.compliance_id, 'prowler_threatscore_azure');
  });

  it('a caller with a findings rule gets compliance and ThreatScore from the rows they may see; a limited role sees only its providers', async () => {
    const region = (await admin.query(`SELECT region FROM findings WHERE scan_id = $1 GROUP BY region ORDER BY count(*) DESC LIMIT 1`, [scans.awsSecond])).rows[0].region;
    const analyst = await insertRole(admin, tenantId, 'fw-analyst', ['unlimited_visibility']);
    await createRule(api, { clause: `region = '${region}'`, roles: [analyst], tables: ['findings'] });
    const member = (await addMember(app.baseUrl, admin, tenantId, 'fw-member', [analyst])).client;
    const rule = `AND f.region = '${region}'`;
    const compliance = await member.get(`/api/v1/compliance-overviews?filter[scan_id]=${scans.awsSecond}&page[size]=100`);
    assert.equal(compliance.status, 200, JSON.stringify(compliance.body));
    const visible = overviewsOf(aws, await checkTruth([scans.awsSecond], rule));
    assert.deepEqual(listed(compliance.body), visible);
    assert.notDeepEqual(visible, overviewsOf(aws, await checkTruth([scans.awsSecond])));

    const score = await member.get(`/api/v1/overviews/threatscore?filter[provider_id]=${providers.aws}`);
    const mine = threatScore(await checkTruth([scans.awsSecond], rule));
    const before = threatScore(await checkTruth([scans.awsFirst], rule));
    assert.equal(score.body.data[0].attributes.overall_score, mine.score.toFixed(2));
    assert.equal(score.body.data[0].attributes.total_findings, mine.counts.findings);
    assert.equal(score.body.data[0].attributes.score_delta, (Math.round((mine.score - before.score) * 100) / 100).toFixed(2));

    const azureRole = await insertRole(admin, tenantId, 'fw-azure-only');
    const groupId = newId();
    await admin.query(`INSERT INTO provider_groups (id, tenant_id, name) VALUES ($1, $2, 'fw-azure')`, [groupId, tenantId]);
    await admin.query(`INSERT INTO provider_group_memberships (id, tenant_id, provider_group_id, provider_id) VALUES ($1, $2, $3, $4)`, [newId(), tenantId, groupId, providers.azure]);
    await admin.query(`INSERT INTO role_provider_groups (id, tenant_id, role_id, provider_group_id) VALUES ($1, $2, $3, $4)`, [newId(), tenantId, azureRole, groupId]);
    const limited = (await addMember(app.baseUrl, admin, tenantId, 'fw-limited', [azureRole])).client;
    const limitedScore = await limited.get('/api/v1/overviews/threatscore');
    assert.deepEqual(limitedScore.body.data.map((d: any) => d.attributes.compliance_id), ['prowler_threatscore_azure']);
    const awsSnapshot = await admin.query(`SELECT id FROM threatscore_snapshots WHERE provider_id = $1 LIMIT 1`, [providers.aws]);
    assert.equal((await limited.get(`/api/v1/overviews/threatscore?snapshot_id=${awsSnapshot.rows[0].id}`)).status, 404);
    assert.equal((await limited.get(`/api/v1/compliance-overviews/attributes?filter[compliance_id]=cis_2.0_aws&filter[scan_id]=${scans.awsSecond}`)).status, 404);
  });
});
