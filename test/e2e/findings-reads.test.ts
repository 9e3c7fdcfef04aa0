import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient, appClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { uuidAt } from '../../src/findings/storage/finding-ids';

describe('findings and resources reads', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    world = await buildFindingsWorld(app, admin, 'reads');
    api = world.owner.client;
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function direct(where: string, params: unknown[] = []): Promise<number> {
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM findings f WHERE f.tenant_id = $1 AND (${where})`, [world.tenantId, ...params]);
    return rows[0].n;
  }

  async function apiCount(path: string): Promise<number> {
    const separator = path.includes('?') ? '&' : '?';
    const result = await api.get(`${path}${separator}page[size]=1`);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.meta.pagination.count_exact, true);
    return result.body.meta.pagination.count;
  }

  it('counts every filter exactly like the rows it selects', async () => {
    const { providers, scans, startedAt } = world;
    const cases: Array<[string, string, unknown[]]> = [
      ['', 'true', []],
      ['filter[status]=FAIL', "f.status = 'FAIL'", []],
      ['filter[severity__in]=critical,high&filter[status]=FAIL', "f.severity IN ('critical','high') AND f.status = 'FAIL'", []],
      ['filter[check_id]=s3_check_03', "f.check_id = 's3_check_03'", []],
      ['filter[check_id__icontains]=CHECK_1', "f.check_id ILIKE '%check_1%'", []],
      ['filter[service__in]=ec2,iam', "f.service IN ('ec2','iam')", []],
      ['filter[region]=eu-west-1', "f.region = 'eu-west-1'", []],
      ['filter[resource_type]=AwsKmsResource', "f.resource_type = 'AwsKmsResource'", []],
      ['filter[delta]=changed', "f.delta = 'changed'", []],
      ['filter[delta__in]=new,changed&filter[status]=PASS', "f.delta IS NOT NULL AND f.status = 'PASS'", []],
      ['filter[muted]=false', 'NOT f.muted', []],
      [`filter[provider]=${providers.aws2}`, 'f.provider_id = $2', [providers.aws2]],
      [`filter[provider__in]=${providers.aws2},${providers.azure}`, 'f.provider_id = ANY($2)', [[providers.aws2, providers.azure]]],
      ['filter[provider_type]=azure', 'f.provider_id = $2', [providers.azure]],
      ['filter[provider_uid]=111111111111', 'f.provider_id = $2', [providers.aws1]],
      [`filter[scan]=${scans.aws1Second}`, 'f.scan_id = $2', [scans.aws1Second]],
      [`filter[scan__in]=${scans.aws1First},${scans.azure}&filter[severity]=low`, "f.scan_id = ANY($2) AND f.severity = 'low'", [[scans.aws1First, scans.azure]]],
      [`filter[scan]=${scans.aws2}&filter[region__in]=us-east-1,eu-west-1`, "f.scan_id = $2 AND f.region IN ('us-east-1','eu-west-1')", [scans.aws2]],
      [`filter[inserted_at__gte]=${startedAt.aws1Second.toISOString()}`, 'f.inserted_at >= $2', [startedAt.aws1Second]],
      [`filter[inserted_at__lte]=${startedAt.aws2.toISOString()}&filter[status]=FAIL`, "f.inserted_at <= $2 AND f.status = 'FAIL'", [startedAt.aws2]],
      [`filter[inserted_at__gt]=${startedAt.aws2.toISOString()}`, 'f.inserted_at > $2', [startedAt.aws2]],
    ];
    for (const [query, where, params] of cases) {
      assert.equal(await apiCount(`/api/v1/findings?${query}`), await direct(where, params), query);
    }
    const sample = (await admin.query(`SELECT uid, resource_uid FROM findings WHERE scan_id = $1 LIMIT 1`, [world.scans.aws2])).rows[0];
    assert.equal(await apiCount(`/api/v1/findings?filter[uid]=${encodeURIComponent(sample.uid)}`), await direct('f.uid = $2', [sample.uid]));
    assert.equal(
      await apiCount(`/api/v1/findings?filter[resource_uid]=${encodeURIComponent(sample.resource_uid)}`),
      await direct('f.resource_uid = $2', [sample.resource_uid]),
    );
  });

  it('/findings/latest reads the latest completed scan of each provider', async () => {
    const latest = [world.scans.aws1Second, world.scans.aws2, world.scans.azure];
    assert.equal(await apiCount('/api/v1/findings/latest'), await direct('f.scan_id = ANY($2)', [latest]));
    assert.equal(
      await apiCount('/api/v1/findings/latest?filter[status]=FAIL&filter[provider_type]=aws'),
      await direct("f.scan_id = ANY($2) AND f.status = 'FAIL'", [[world.scans.aws1Second, world.scans.aws2]]),
    );
    const scanFilter = await api.get(`/api/v1/findings/latest?filter[scan]=${world.scans.aws2}`);
    assert.equal(scanFilter.status, 400);
  });

  it('sorts by severity rank, critical first, and by check_id', async () => {
    const rank = ['critical', 'high', 'medium', 'low', 'informational'];
    for (const [sort, direction] of [['severity', 1], ['-severity', -1]] as const) {
      const result = await api.get(`/api/v1/findings?sort=${sort}&page[size]=500`);
      const ranks = result.body.data.map((f: any) => rank.indexOf(f.attributes.severity));
      assert.ok(ranks.every((r: number, i: number) => i === 0 || (r - ranks[i - 1]) * direction >= 0), sort);
      assert.equal(result.body.data[0].attributes.severity, direction === 1 ? 'critical' : 'informational');
    }
    const byCheck = await api.get('/api/v1/findings?sort=check_id&page[size]=200');
    const checks = byCheck.body.data.map((f: any) => f.attributes.check_id);
    assert.deepEqual(checks, [...checks].sort());
  });

  it('walks every row exactly once in cursor mode, whatever the sort', async () => {
    const expected = await direct("f.status = 'FAIL'");
    for (const sort of ['', '&sort=severity', '&sort=-check_id,severity', '&sort=inserted_at', '&sort=-status']) {
      const seen = new Set<string>();
      let next: string | null = `/api/v1/findings?filter[status]=FAIL&page[size]=97&page[cursor]=${sort}`;
      let pages = 0;
      while (next) {
        const result: { status: number; body: any } = await api.get(next);
        assert.equal(result.status, 200, JSON.stringify(result.body));
        assert.equal(result.body.meta, undefined);
        for (const finding of result.body.data) {
          assert.ok(!seen.has(finding.id), `duplicate ${finding.id} with ${sort}`);
          seen.add(finding.id);
        }
        next = result.body.links.next;
        pages++;
      }
      assert.equal(seen.size, expected, sort);
      assert.equal(pages, Math.ceil(expected / 97));
    }
  });

  it('pages by number with the contract meta', async () => {
    const total = await direct('true');
    const first = await api.get('/api/v1/findings?page[size]=50&page[number]=2');
    assert.deepEqual(first.body.meta.pagination, { page: 2, pages: Math.ceil(total / 50), count: total, count_exact: true });
    const last = await api.get(`/api/v1/findings?page[size]=50&page[number]=${Math.ceil(total / 50)}`);
    assert.equal(last.body.data.length, total % 50 || 50);
  });

  it('includes resources and the scan, and serves one finding', async () => {
    const result = await api.get('/api/v1/findings?include=resources,scan&page[size]=5');
    const included = result.body.included as Array<{ type: string; id: string; attributes: any }>;
    for (const finding of result.body.data) {
      const scanId = finding.relationships.scan.data.id;
      assert.ok(included.some((i) => i.type === 'scans' && i.id === scanId));
      for (const resource of finding.relationships.resources.data) assert.ok(included.some((i) => i.type === 'resources' && i.id === resource.id));
    }
    const one = await api.get(`/api/v1/findings/${result.body.data[0].id}?include=resources`);
    assert.equal(one.status, 200);
    assert.equal(one.body.data.id, result.body.data[0].id);
    assert.equal(one.body.included[0].type, 'resources');
    assert.equal(one.body.data.attributes.check_metadata.checkid, one.body.data.attributes.check_id);
  });

  it('answers metadata from summaries equal to the distinct values of the rows', async () => {
    const result = await api.get('/api/v1/findings/metadata?filter[status]=FAIL');
    const { rows } = await admin.query(
      `SELECT array_agg(DISTINCT service ORDER BY service) AS services, array_agg(DISTINCT region ORDER BY region) AS regions
         FROM findings WHERE tenant_id = $1 AND status = 'FAIL'`,
      [world.tenantId],
    );
    assert.deepEqual(result.body.data.attributes.services, rows[0].services);
    assert.deepEqual(result.body.data.attributes.regions, rows[0].regions);
    const latest = await api.get(`/api/v1/findings/metadata/latest?filter[provider]=${world.providers.azure}`);
    const azure = await admin.query(`SELECT array_agg(DISTINCT resource_type ORDER BY resource_type) AS t FROM findings WHERE scan_id = $1`, [world.scans.azure]);
    assert.deepEqual(latest.body.data.attributes.resource_types, azure.rows[0].t);
  });

  it('a role without unlimited visibility sees only its groups’ providers', async () => {
    const limited = await limitedMember(app, admin, world, world.providers.aws2);
    const list = await limited.get('/api/v1/findings?page[size]=1');
    assert.equal(list.body.meta.pagination.count, await direct('f.provider_id = $2', [world.providers.aws2]));
    const cursor = await limited.get('/api/v1/findings?page[size]=500&page[cursor]=');
    assert.ok(cursor.body.data.every((f: any) => f.relationships.scan.data.id === world.scans.aws2));
    const hidden = (await admin.query(`SELECT id FROM findings WHERE scan_id = $1 LIMIT 1`, [world.scans.azure])).rows[0].id;
    assert.equal((await limited.get(`/api/v1/findings/${hidden}`)).status, 404);
    const latest = await limited.get('/api/v1/findings/latest?page[size]=1');
    assert.equal(latest.body.meta.pagination.count, await direct('f.scan_id = $2', [world.scans.aws2]));
    const resources = await limited.get('/api/v1/resources?page[size]=500');
    assert.ok(resources.body.data.every((r: any) => r.relationships.provider.data.id === world.providers.aws2));
    const overview = await limited.get('/api/v1/overviews/findings');
    assert.equal(overview.body.data.attributes.total, await direct('f.scan_id = $2', [world.scans.aws2]));
  });

  it('prunes partitions: a date filter becomes an id range', async () => {
    const client = await appClient();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT set_config('api.tenant_id', $1, true)`, [world.tenantId]);
      const partitions = await client.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'findings'::regclass`);
      assert.ok(partitions.rows[0].n >= 3);
      const from = new Date(world.startedAt.aws2);
      const plan = await client.query(
        `EXPLAIN SELECT f.id FROM findings f WHERE f.status = 'FAIL' AND f.id >= $1::uuid AND f.id < $2::uuid ORDER BY f.id DESC LIMIT 50`,
        [uuidAt(from), uuidAt(new Date(from.getTime() + 60_000))],
      );
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      const scanned = new Set(text.match(/findings_p\d{4}_\d{2}/g));
      assert.equal(scanned.size, 1, text);
      const month = `findings_p${from.getUTCFullYear()}_${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
      assert.ok(scanned.has(month), text);
    } finally {
      await client.query('ROLLBACK');
      await client.end();
    }
  });

  it('serves resources: list, latest, detail with tags, metadata, filters', async () => {
    const total = (await admin.query(`SELECT count(*)::int AS n FROM resources WHERE tenant_id = $1`, [world.tenantId])).rows[0].n;
    const list = await api.get('/api/v1/resources?page[size]=1');
    assert.equal(list.body.meta.pagination.count, total);
    const tagged = (await admin.query(
      `SELECT r.id FROM resources r JOIN resource_tag_links l ON l.resource_id = r.id WHERE r.tenant_id = $1 LIMIT 1`, [world.tenantId],
    )).rows[0].id;
    const detail = await api.get(`/api/v1/resources/${tagged}`);
    assert.equal(detail.status, 200);
    assert.ok(Object.keys(detail.body.data.attributes.tags).includes('env'));
    const byTag = await api.get('/api/v1/resources?filter[tag_key]=env&page[size]=1');
    const taggedCount = (await admin.query(
      `SELECT count(DISTINCT l.resource_id)::int AS n FROM resource_tag_links l JOIN resource_tags t ON t.id = l.tag_id WHERE l.tenant_id = $1 AND t.key = 'env'`,
      [world.tenantId],
    )).rows[0].n;
    assert.equal(byTag.body.meta.pagination.count, taggedCount);
    const latest = await api.get(`/api/v1/resources/latest?filter[provider]=${world.providers.aws1}&page[size]=1`);
    const seen = (await admin.query(
      `SELECT count(DISTINCT l.resource_id)::int AS n FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE f.scan_id = $1`,
      [world.scans.aws1Second],
    )).rows[0].n;
    assert.equal(latest.body.meta.pagination.count, seen);
    const metadata = await api.get('/api/v1/resources/metadata?filter[provider_type]=azure');
    assert.ok(metadata.body.data.attributes.services.length > 0);
    const walk = new Set<string>();
    let next: string | null = '/api/v1/resources?sort=name&page[size]=40&page[cursor]=';
    while (next) {
      const page: { body: any } = await api.get(next);
      for (const r of page.body.data) walk.add(r.id);
      next = page.body.links.next;
    }
    assert.equal(walk.size, total);
  });

  it('answers bad input with 400 or 404, never 500', async () => {
    const bad = [
      '/api/v1/findings?filter[status]=BROKEN',
      '/api/v1/findings?filter[severity__in]=high,nope',
      '/api/v1/findings?filter[scan]=not-a-uuid',
      '/api/v1/findings?filter[inserted_at__gte]=yesterday',
      '/api/v1/findings?filter[muted]=maybe',
      '/api/v1/findings?filter[nonsense]=1',
      '/api/v1/findings?filter[status__icontains]=F',
      '/api/v1/findings?sort=uid',
      '/api/v1/findings?include=provider',
      '/api/v1/findings?page[size]=0',
      '/api/v1/findings?page[size]=100000',
      '/api/v1/findings?page[cursor]=!!!',
      '/api/v1/findings?page[cursor]=bm90IGpzb24',
      `/api/v1/findings?page[cursor]=${Buffer.from(JSON.stringify({ s: 'f.id', k: ['x'] })).toString('base64url')}`,
      '/api/v1/findings?page[cursor]=&page[number]=2',
      '/api/v1/findings/not-a-uuid',
      '/api/v1/resources?filter[type__gte]=x',
      '/api/v1/overviews/findings?filter[status]=FAIL',
      '/api/v1/mute-rules?filter[enabled]=yes',
    ];
    for (const path of bad) {
      const result = await api.get(path);
      assert.equal(result.status, 400, `${path}: ${result.status} ${JSON.stringify(result.body)}`);
      assert.ok(result.body.errors[0].detail);
    }
    // A cursor taken under one sort and replayed under another.
    const page = await api.get('/api/v1/findings?page[size]=2&page[cursor]=');
    const cursor = new URL(page.body.links.next, 'http://x').searchParams.get('page[cursor]');
    assert.equal((await api.get(`/api/v1/findings?sort=severity&page[cursor]=${cursor}`)).status, 400);
    assert.equal((await api.get('/api/v1/findings/01890000-0000-7000-8000-000000000000')).status, 404);
    assert.equal((await api.get('/api/v1/resources/01890000-0000-7000-8000-000000000000')).status, 404);
  });
});
