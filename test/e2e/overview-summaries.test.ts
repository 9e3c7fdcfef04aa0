import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld } from '../support/findings-world';

/**
 * The overviews read scan_overview_summaries, scan_summaries without
 * check_id and resource_type: its rows must add up to the same figures as
 * the finer summaries and the findings, and the reads that filter on those
 * two columns must keep working from the finer summaries.
 */
describe('scan overview summaries', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;
  let latestScans: string[];

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    world = await buildFindingsWorld(app, admin, 'overview-summaries');
    api = world.owner.client;
    latestScans = [world.scans.aws1Second, world.scans.aws2, world.scans.azure];
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  const DIMENSIONS = 'scan_id, provider_id, service, region, severity, status, muted, delta';

  it('holds, per scan, the scan summaries and the findings summed over check_id and resource_type', async () => {
    const scans = Object.values(world.scans);
    const coarse = await admin.query(
      `SELECT ${DIMENSIONS}, findings::int FROM scan_overview_summaries WHERE scan_id = ANY($1) ORDER BY ${DIMENSIONS}`,
      [scans],
    );
    const fromSummaries = await admin.query(
      `SELECT ${DIMENSIONS}, sum(findings)::int AS findings FROM scan_summaries WHERE scan_id = ANY($1)
        GROUP BY ${DIMENSIONS} ORDER BY ${DIMENSIONS}`,
      [scans],
    );
    const fromFindings = await admin.query(
      `SELECT scan_id, provider_id, service, region, severity, status, muted, COALESCE(delta, '') AS delta, count(*)::int AS findings
         FROM findings WHERE scan_id = ANY($1)
        GROUP BY scan_id, provider_id, service, region, severity, status, muted, COALESCE(delta, '') ORDER BY ${DIMENSIONS}`,
      [scans],
    );
    assert.ok(coarse.rowCount! > 0);
    assert.deepEqual(coarse.rows, fromSummaries.rows);
    assert.deepEqual(coarse.rows, fromFindings.rows);
    // Fewer rows than the finer summaries: that is what it is for.
    const finer = await admin.query(`SELECT count(*)::int AS n FROM scan_summaries WHERE scan_id = ANY($1)`, [scans]);
    assert.ok(coarse.rowCount! < finer.rows[0].n, `${coarse.rowCount} coarse rows, ${finer.rows[0].n} finer`);
  });

  it('overview figures equal those summed from scan_summaries of the latest scans', async () => {
    const STATUS = `sum(s.findings)::int AS total, COALESCE(sum(s.findings) FILTER (WHERE s.status = 'FAIL' AND NOT s.muted), 0)::int AS fail,
                    COALESCE(sum(s.findings) FILTER (WHERE s.status = 'PASS' AND NOT s.muted), 0)::int AS pass,
                    COALESCE(sum(s.findings) FILTER (WHERE s.muted), 0)::int AS muted`;
    const fromSummaries = async (select: string, rest: string) =>
      (await admin.query(`SELECT ${select} FROM scan_summaries s JOIN providers p ON p.id = s.provider_id WHERE s.scan_id = ANY($1) ${rest}`, [latestScans])).rows;

    const services = await api.get('/api/v1/overviews/services');
    assert.deepEqual(
      services.body.data.map((d: any) => ({ id: d.id, ...d.attributes })),
      await fromSummaries(`s.service AS id, ${STATUS}`, 'GROUP BY s.service ORDER BY s.service'),
    );

    const regions = await api.get('/api/v1/overviews/regions?filter[provider_type]=aws');
    assert.deepEqual(
      regions.body.data.map((d: any) => ({ id: d.id, ...d.attributes })),
      await fromSummaries(
        `p.provider || '-' || s.region AS id, p.provider AS provider_type, s.region, ${STATUS}`,
        `AND p.provider = 'aws' GROUP BY p.provider, s.region ORDER BY p.provider, s.region`,
      ),
    );

    const severity = await api.get('/api/v1/overviews/findings_severity?filter[status__in]=FAIL,MANUAL');
    const bySeverity = await fromSummaries(`s.severity, sum(s.findings)::int AS n`, `AND s.status IN ('FAIL', 'MANUAL') AND NOT s.muted GROUP BY s.severity`);
    for (const level of ['critical', 'high', 'medium', 'low', 'informational']) {
      assert.equal(severity.body.data.attributes[level], bySeverity.find((r) => r.severity === level)?.n ?? 0, level);
    }

    const findings = await api.get('/api/v1/overviews/findings?filter[region]=eu-west-1');
    const [totals] = await fromSummaries(STATUS, `AND s.region = 'eu-west-1'`);
    const { total, fail, pass, muted } = findings.body.data.attributes;
    assert.deepEqual({ total, fail, pass, muted }, totals);
  });

  it('check_id and resource_type filters: the overviews refuse them, the findings reads still apply them', async () => {
    for (const filter of ['filter[check_id]=s3_check_03', 'filter[resource_type]=AwsKmsResource']) {
      const refused = await api.get(`/api/v1/overviews/services?${filter}`);
      assert.equal(refused.status, 400, filter);
    }
    const check = (await admin.query(`SELECT check_id FROM findings WHERE scan_id = $1 LIMIT 1`, [world.scans.aws2])).rows[0].check_id;
    const latest = await api.get(`/api/v1/findings/latest?filter[check_id]=${encodeURIComponent(check)}&page[size]=1`);
    assert.equal(latest.status, 200, JSON.stringify(latest.body));
    const expected = await admin.query(`SELECT count(*)::int AS n FROM findings WHERE scan_id = ANY($1) AND check_id = $2`, [latestScans, check]);
    assert.ok(expected.rows[0].n > 0);
    assert.equal(latest.body.meta.pagination.count, expected.rows[0].n);
    assert.equal(latest.body.meta.pagination.count_exact, true);
  });
});
