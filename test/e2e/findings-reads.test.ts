import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { addMonths, partitionsOfMonth } from '../../src/findings/storage/finding-partitions';
import { FINDING_LIST } from '../../src/findings/finding-list-spec';
import { selectFindings } from '../../src/findings/finding-selection';
import { cappedCount } from '../../src/findings/query/page-counts';
import { SqlConditions } from '../../src/findings/query/sql-conditions';
import { parseQuery } from '../../src/common/jsonapi/query-parser';
import { TenantDatabase } from '../../src/database/tenant-database';
import { principalTransaction, rlsTransaction } from '../../src/database/rls-transaction';
import { Principal } from '../../src/database/tenant-context';

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
      [
        `filter[inserted_at__gte]=${startedAt.aws1Second.toISOString()}&filter[inserted_at__lte]=${startedAt.aws2.toISOString()}`,
        'f.inserted_at BETWEEN $2 AND $3',
        [startedAt.aws1Second, startedAt.aws2],
      ],
      ['filter[status__in]=PASS,MANUAL', "f.status IN ('PASS','MANUAL')", []],
      ['filter[check_id__in]=s3_check_03,ec2_check_01', "f.check_id IN ('s3_check_03','ec2_check_01')", []],
      ['filter[resource_type__in]=AwsKmsResource,AwsS3Resource', "f.resource_type IN ('AwsKmsResource','AwsS3Resource')", []],
      ['filter[muted]=true', 'f.muted', []],
      ['filter[provider_type__in]=azure,gcp', 'f.provider_id = $2', [providers.azure]],
      ['filter[provider_uid__in]=111111111111,222222222222', 'f.provider_id = ANY($2)', [[providers.aws1, providers.aws2]]],
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
    const other = (await admin.query(`SELECT uid, resource_uid FROM findings WHERE scan_id = $1 AND resource_uid <> $2 LIMIT 1`, [world.scans.azure, sample.resource_uid])).rows[0];
    const uids = [sample.uid, other.uid];
    const resourceUids = [sample.resource_uid, other.resource_uid];
    assert.equal(await apiCount(`/api/v1/findings?filter[uid__in]=${uids.map(encodeURIComponent).join(',')}`), await direct('f.uid = ANY($2)', [uids]));
    assert.equal(
      await apiCount(`/api/v1/findings?filter[resource_uid__in]=${resourceUids.map(encodeURIComponent).join(',')}`),
      await direct('f.resource_uid = ANY($2)', [resourceUids]),
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

  it('sorts by severity rank (critical first), check_id, status and inserted_at', async () => {
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
    const byStatus = await api.get('/api/v1/findings?sort=-status&page[size]=500');
    const statuses = byStatus.body.data.map((f: any) => f.attributes.status);
    assert.deepEqual(statuses, [...statuses].sort().reverse());
    for (const [sort, direction] of [['inserted_at', 1], ['-inserted_at', -1], ['', -1]] as const) {
      const result = await api.get(`/api/v1/findings?page[size]=500${sort ? `&sort=${sort}` : ''}`);
      const times = result.body.data.map((f: any) => Date.parse(f.attributes.inserted_at));
      assert.ok(times.every((t: number, i: number) => i === 0 || (t - times[i - 1]) * direction >= 0), sort || 'default sort');
      assert.equal(times[0], (direction === 1 ? world.startedAt.aws1First : world.startedAt.azure).getTime(), sort || 'default sort');
    }
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

  /** The month partitions of findings that a plan's text names. */
  function partitionsIn(plan: Array<Record<string, string>>): Set<string> {
    return new Set(plan.map((r) => r['QUERY PLAN']).join('\n').match(/findings_p\d{4}_\d{2}/g));
  }

  function monthPartition(date: Date): string {
    return partitionsOfMonth(date)[0].name;
  }

  it('prunes partitions: the WHERE the API builds for filter[inserted_at__gte/__lte] is an id range', async () => {
    const database = app.app.get(TenantDatabase);
    const principal: Principal = {
      userId: world.owner.userId, tenantId: world.tenantId, roleId: null, roleIds: [], permissions: new Set(), membershipRole: 'owner', visibleProviderIds: null,
    };
    const nextMonth = addMonths(new Date(), 1);
    const windows: Array<[Date, Date, string[]]> = [
      // The world's scans: one month (two when the test runs in the first hours of one).
      [world.startedAt.aws1First, world.startedAt.azure, [...new Set([monthPartition(world.startedAt.aws1First), monthPartition(world.startedAt.azure)])]],
      // An hour either side of the turn of the month: both months, nothing else.
      [new Date(nextMonth.getTime() - 3600_000), new Date(nextMonth.getTime() + 3600_000), [monthPartition(new Date()), monthPartition(nextMonth)]],
    ];
    await principalTransaction(database.app, principal, async (manager) => {
      const all = await manager.query(`EXPLAIN SELECT f.id FROM findings f ORDER BY f.id DESC LIMIT 50`);
      assert.ok(partitionsIn(all).size >= 3, 'without a date filter every partition is in the plan');
      for (const [from, to, expected] of windows) {
        const query = parseQuery(
          { 'filter[inserted_at__gte]': from.toISOString(), 'filter[inserted_at__lte]': to.toISOString(), 'filter[status]': 'FAIL' },
          FINDING_LIST,
        );
        // No rules apply here: the plan under test is the date range's.
        const { conditions } = await selectFindings(manager, query.filters, 'all', { predicate: async () => null });
        const sql = `SELECT f.id FROM findings f ${conditions.where()} ORDER BY f.id DESC LIMIT 50`;
        assert.match(conditions.where(), /f\.id >= \$\d+::uuid AND f\.id < \$\d+::uuid/);
        // Planned with the values: pruned while planning.
        const custom = await manager.query(`EXPLAIN ${sql}`, conditions.params);
        assert.deepEqual([...partitionsIn(custom)].sort(), [...expected].sort(), JSON.stringify(custom));
        // A generic plan, as a prepared statement may get after a few runs: pruned when it starts.
        const literals = conditions.params.map((p) => `'${String(p)}'`).join(', ');
        await manager.query(`PREPARE pruned_page AS ${sql}`);
        await manager.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
        const generic = await manager.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE pruned_page(${literals})`);
        await manager.query(`DEALLOCATE pruned_page`);
        const text = generic.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
        assert.match(text, /Subplans Removed: [1-9]/, text);
        assert.deepEqual([...partitionsIn(generic)].sort(), [...expected].sort(), text);
      }
    }, true);
  });

  it('counts past the cap stop counting and say so', async () => {
    const database = app.app.get(TenantDatabase);
    const total = await direct('true');
    await rlsTransaction(database.app, world.tenantId, async (manager) => {
      const conditions = new SqlConditions().add('true');
      assert.deepEqual(await cappedCount(manager, 'findings f', conditions, 100), { count: 100, exact: false });
      assert.deepEqual(await cappedCount(manager, 'findings f', conditions, total), { count: total, exact: true });
    });
    // A filter no summary table holds is counted row by row, within the cap here.
    const page = await api.get(`/api/v1/findings?filter[inserted_at__gte]=${world.startedAt.aws2.toISOString()}&page[size]=1`);
    assert.deepEqual(page.body.meta.pagination.count_exact, true);
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

  it('relates a latest resource to its findings of the latest scans, and a resource to the latest finding of each check', async () => {
    const latest = await api.get(`/api/v1/resources/latest?filter[provider]=${world.providers.aws1}&page[size]=5`);
    assert.ok(latest.body.data.length > 0);
    for (const resource of latest.body.data) {
      const ofLatestScan = (await admin.query(
        `SELECT f.id FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE l.resource_id = $1 AND f.scan_id = $2 ORDER BY f.id`,
        [resource.id, world.scans.aws1Second],
      )).rows.map((row: { id: string }) => row.id);
      assert.deepEqual(resource.relationships.findings.data.map((f: { id: string }) => f.id), ofLatestScan);
      const whole = await api.get(`/api/v1/resources/${resource.id}`);
      const latestOfEachCheck = (await admin.query(
        `SELECT DISTINCT ON (f.uid) f.id FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE l.resource_id = $1 ORDER BY f.uid, f.id DESC`,
        [resource.id],
      )).rows.map((row: { id: string }) => row.id);
      assert.deepEqual(whole.body.data.relationships.findings.data.map((f: { id: string }) => f.id).sort(), latestOfEachCheck.sort());
    }
  });

  it('/resources/latest stays fast when the statistics predate the tenant’s data', async () => {
    // Analyzed before a tenant's scans arrive, a scan's one-millisecond id range looks empty to the planner.
    await admin.query('ANALYZE resources, resource_finding_links, findings');
    const late = await buildFindingsWorld(app, admin, 'reads-late');
    const latest = await late.owner.client.get(`/api/v1/resources/latest?filter[provider]=${late.providers.aws1}&page[size]=1`);
    assert.equal(latest.status, 200, JSON.stringify(latest.body));
    const seen = (await admin.query(
      `SELECT count(DISTINCT l.resource_id)::int AS n FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE f.scan_id = $1`,
      [late.scans.aws1Second],
    )).rows[0].n;
    assert.equal(latest.body.meta.pagination.count, seen);
  });

  it('answers bad input with 400 or 404, never 500', async () => {
    const bad = [
      '/api/v1/findings?filter[status]=BROKEN',
      // (filter[severity__in] takes any text, as Prowler's does: see prowler-query-parameters.test.ts.)
      '/api/v1/findings?filter[severity]=nope',
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
