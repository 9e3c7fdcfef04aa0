import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertScan } from '../support/findings-fixtures';
import { FindingPartitionsService } from '../../src/findings/storage/finding-partitions.service';
import { addMonths, partitionsOfMonth } from '../../src/findings/storage/finding-partitions';

describe('overviews, mute rules and partitions', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;
  let latestScans: string[];

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    world = await buildFindingsWorld(app, admin, 'overviews');
    api = world.owner.client;
    latestScans = [world.scans.aws1Second, world.scans.aws2, world.scans.azure];
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function latestCounts(select: string, extra = '', params: unknown[] = []) {
    const { rows } = await admin.query(
      `SELECT ${select} FROM findings f JOIN providers p ON p.id = f.provider_id WHERE f.scan_id = ANY($1) ${extra}`,
      [latestScans, ...params],
    );
    return rows;
  }

  const STATUS = `count(*)::int AS total, (count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted))::int AS fail,
                  (count(*) FILTER (WHERE f.status = 'PASS' AND NOT f.muted))::int AS pass, (count(*) FILTER (WHERE f.muted))::int AS muted`;

  async function checkOverviews(): Promise<void> {
    const findings = await api.get('/api/v1/overviews/findings');
    const [expected] = await latestCounts(`${STATUS},
      (count(*) FILTER (WHERE f.delta = 'new' AND NOT f.muted))::int AS new,
      (count(*) FILTER (WHERE f.delta = 'changed' AND NOT f.muted))::int AS changed,
      (count(*) FILTER (WHERE f.delta IS NULL AND NOT f.muted))::int AS unchanged,
      (count(*) FILTER (WHERE f.delta = 'new' AND f.status = 'FAIL' AND NOT f.muted))::int AS fail_new,
      (count(*) FILTER (WHERE f.delta = 'changed' AND f.status = 'FAIL' AND NOT f.muted))::int AS fail_changed,
      (count(*) FILTER (WHERE f.delta = 'new' AND f.status = 'PASS' AND NOT f.muted))::int AS pass_new,
      (count(*) FILTER (WHERE f.delta = 'changed' AND f.status = 'PASS' AND NOT f.muted))::int AS pass_changed,
      (count(*) FILTER (WHERE f.delta = 'new' AND f.muted))::int AS muted_new,
      (count(*) FILTER (WHERE f.delta = 'changed' AND f.muted))::int AS muted_changed`);
    assert.deepEqual(findings.body.data.attributes, expected);

    const severity = await api.get('/api/v1/overviews/findings_severity?filter[status]=FAIL');
    const bySeverity = await latestCounts(`f.severity, count(*)::int AS n`, `AND f.status = 'FAIL' AND NOT f.muted GROUP BY f.severity`);
    for (const level of ['critical', 'high', 'medium', 'low', 'informational']) {
      assert.equal(severity.body.data.attributes[level], bySeverity.find((r) => r.severity === level)?.n ?? 0, level);
    }

    const services = await api.get('/api/v1/overviews/services?filter[provider_type]=aws');
    const byService = await latestCounts(`f.service AS id, ${STATUS}`, `AND p.provider = 'aws' GROUP BY f.service ORDER BY f.service`);
    assert.deepEqual(services.body.data.map((d: any) => ({ id: d.id, ...d.attributes })), byService);

    const regions = await api.get('/api/v1/overviews/regions?filter[region__in]=eu-west-1,us-east-1');
    const byRegion = await latestCounts(
      `p.provider || '-' || f.region AS id, p.provider AS provider_type, f.region, ${STATUS}`,
      `AND f.region IN ('eu-west-1', 'us-east-1') GROUP BY p.provider, f.region ORDER BY p.provider, f.region`,
    );
    assert.deepEqual(regions.body.data.map((d: any) => ({ id: d.id, ...d.attributes })), byRegion);

    const providers = await api.get('/api/v1/overviews/providers');
    const byType = await latestCounts(
      `p.provider AS id, ${STATUS}, (count(*) FILTER (WHERE f.status = 'MANUAL' AND NOT f.muted))::int AS manual`,
      'GROUP BY p.provider ORDER BY p.provider',
    );
    const resources = await admin.query(
      `SELECT p.provider, count(DISTINCT l.resource_id)::int AS n FROM findings f JOIN providers p ON p.id = f.provider_id
         JOIN resource_finding_links l ON l.finding_id = f.id WHERE f.scan_id = ANY($1) GROUP BY p.provider`,
      [latestScans],
    );
    assert.deepEqual(
      providers.body.data.map((d: any) => ({ id: d.id, ...d.attributes })),
      byType.map(({ id, ...findings }) => ({ id, findings, resources: { total: resources.rows.find((r) => r.provider === id).n } })),
    );
  }

  it('overviews equal counts computed from the findings of the latest scans', async () => {
    await checkOverviews();
    const count = await api.get('/api/v1/overviews/providers/count');
    assert.deepEqual(
      count.body.data.map((d: any) => ({ id: d.id, ...d.attributes })),
      [
        { id: 'aws', count: 2 },
        { id: 'azure', count: 1 },
      ],
    );
  });

  it('a mute rule mutes the named findings now, in every scan, and in later scans; disabling stops it', async () => {
    const target = (await admin.query(
      `SELECT f.id, f.uid FROM findings f WHERE f.scan_id = $1 AND f.status = 'FAIL' AND f.uid IN (SELECT uid FROM findings WHERE scan_id = $2) LIMIT 2`,
      [world.scans.aws1Second, world.scans.aws1First],
    )).rows;
    const created = await api.post('/api/v1/mute-rules', {
      data: { type: 'mute-rules', attributes: { name: 'accepted risk', reason: 'Accepted by security', finding_ids: target.map((t) => t.id) } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual([...created.body.data.attributes.finding_uids].sort(), target.map((t) => t.uid).sort());
    const muted = await admin.query(`SELECT scan_id, muted, muted_reason FROM findings WHERE tenant_id = $1 AND uid = ANY($2)`, [
      world.tenantId,
      target.map((t) => t.uid),
    ]);
    assert.equal(muted.rowCount, 4);
    assert.ok(muted.rows.every((r) => r.muted && r.muted_reason === 'Accepted by security'));
    // Totals and the latest summaries moved with the findings.
    const mutedCount = await api.get(`/api/v1/findings?filter[muted]=true&filter[provider]=${world.providers.aws1}&page[size]=1`);
    assert.equal(mutedCount.body.meta.pagination.count, 4);
    assert.equal(mutedCount.body.meta.pagination.count_exact, true);
    await checkOverviews();

    // A later scan of the same provider: the rule mutes those uids as they arrive.
    const later = new Date(world.startedAt.azure.getTime() + 60_000);
    const scanId = await insertScan(admin, world.tenantId, world.providers.aws1, later);
    await ingestScan(app, { tenantId: world.tenantId, scanId, providerId: world.providers.aws1, scanStartedAt: later }, generateRecords({ providerKey: 'aws1', count: 700, scanIndex: 2 }));
    const next = await admin.query(`SELECT count(*)::int AS n FROM findings WHERE scan_id = $1 AND muted`, [scanId]);
    assert.equal(next.rows[0].n, 2);

    const id = created.body.data.id;
    const disabled = await api.patch(`/api/v1/mute-rules/${id}`, { data: { type: 'mute-rules', id, attributes: { enabled: false } } });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.data.attributes.enabled, false);
    const afterDisable = new Date(later.getTime() + 60_000);
    const scan2 = await insertScan(admin, world.tenantId, world.providers.aws1, afterDisable);
    await ingestScan(app, { tenantId: world.tenantId, scanId: scan2, providerId: world.providers.aws1, scanStartedAt: afterDisable }, generateRecords({ providerKey: 'aws1', count: 700, scanIndex: 3 }));
    assert.equal((await admin.query(`SELECT count(*)::int AS n FROM findings WHERE scan_id = $1 AND muted`, [scan2])).rows[0].n, 0);
    latestScans = [scan2, world.scans.aws2, world.scans.azure];
    await checkOverviews();

    const list = await api.get('/api/v1/mute-rules?filter[enabled]=false');
    assert.equal(list.body.data.length, 1);
    assert.equal((await api.delete(`/api/v1/mute-rules/${id}`)).status, 204);
    assert.equal((await api.get(`/api/v1/mute-rules/${id}`)).status, 404);
  });

  it('mute rules need manage_scans and valid input', async () => {
    const limited = await limitedMember(app, admin, world, world.providers.aws2);
    const finding = (await admin.query(`SELECT id FROM findings WHERE scan_id = $1 LIMIT 1`, [world.scans.aws2])).rows[0].id;
    const body = { data: { type: 'mute-rules', attributes: { name: 'nope', reason: 'not allowed', finding_ids: [finding] } } };
    assert.equal((await limited.post('/api/v1/mute-rules', body)).status, 403);
    assert.equal((await limited.get('/api/v1/mute-rules')).status, 403);
    for (const attributes of [
      { name: 'x', reason: 'too short name', finding_ids: [finding] },
      { name: 'no findings', reason: 'empty list', finding_ids: [] },
      { name: 'bad ids', reason: 'not uuids', finding_ids: ['nope'] },
      { name: 'unknown', reason: 'no such finding', finding_ids: ['01890000-0000-7000-8000-000000000000'] },
      { name: 'extra', reason: 'unknown attribute', finding_ids: [finding], colour: 'red' },
    ]) {
      const result = await api.post('/api/v1/mute-rules', { data: { type: 'mute-rules', attributes } });
      assert.equal(result.status, 400, JSON.stringify(attributes));
    }
    const ok = { data: { type: 'mute-rules', attributes: { name: 'same name', reason: 'first', finding_ids: [finding] } } };
    assert.equal((await api.post('/api/v1/mute-rules', ok)).status, 201);
    assert.equal((await api.post('/api/v1/mute-rules', ok)).status, 409);
  });

  it('the partition job creates the coming months with their own row-level security', async () => {
    const partitions = app.app.get(FindingPartitionsService);
    const far = addMonths(new Date(), 14);
    const created = await partitions.ensureUpcoming(far, 1);
    assert.deepEqual(created.sort(), [...partitionsOfMonth(far), ...partitionsOfMonth(addMonths(far, 1))].map((p) => p.name).sort());
    assert.deepEqual(await partitions.ensureUpcoming(far, 1), []);
    for (const name of created) {
      const { rows } = await admin.query(
        `SELECT c.relrowsecurity, c.relforcerowsecurity, (SELECT count(*)::int FROM pg_policies WHERE tablename = c.relname) AS policies
           FROM pg_class c WHERE c.relname = $1`,
        [name],
      );
      assert.deepEqual(rows[0], { relrowsecurity: true, relforcerowsecurity: true, policies: 4 });
    }
  });
});
