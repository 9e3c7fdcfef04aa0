import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { categoriesOf } from '../support/finding-generator';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { inviteMember } from '../support/access-fixtures';
import { newId } from '../../src/database/uuid';
import { partitionsOfMonth } from '../../src/findings/storage/finding-partitions';
import { FINDING_LIST } from '../../src/findings/finding-list-spec';
import { selectFindings } from '../../src/findings/finding-selection';
import { parseQuery } from '../../src/common/jsonapi/query-parser';
import { TenantDatabase } from '../../src/database/tenant-database';
import { principalTransaction } from '../../src/database/rls-transaction';
import { Principal } from '../../src/database/tenant-context';

/**
 * What Prowler's query parameters mean here: each filter selects the rows
 * PostgreSQL selects for the same condition written by hand.
 */
describe("Prowler's query parameters", () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;
  const day = () => world.startedAt.aws2.toISOString().slice(0, 10);

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    world = await buildFindingsWorld(app, admin, 'params', 120);
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

  async function count(path: string): Promise<number> {
    const result = await api.get(`${path}${path.includes('?') ? '&' : '?'}page[size]=1`);
    assert.equal(result.status, 200, `${path}: ${JSON.stringify(result.body)}`);
    return result.body.meta.pagination.count;
  }

  it('reads a date as its whole UTC day: filter[inserted_at], __date, and a date-only __lte', async () => {
    const start = `${day()}T00:00:00Z`;
    const oneDay = "f.inserted_at >= $2::timestamptz AND f.inserted_at < $2::timestamptz + interval '1 day'";
    const expected = await direct(oneDay, [start]);
    assert.ok(expected > 0);
    assert.equal(await count(`/api/v1/findings?filter[inserted_at]=${day()}`), expected);
    assert.equal(await count(`/api/v1/findings?filter[inserted_at__date]=${day()}`), expected);
    assert.equal(await count(`/api/v1/findings?filter[inserted_at__gte]=${day()}&filter[inserted_at__lte]=${day()}`), expected);
    // An instant in that day names the same day.
    assert.equal(await count(`/api/v1/findings?filter[inserted_at]=${world.startedAt.aws2.toISOString()}`), expected);
    assert.equal(await count(`/api/v1/findings?filter[inserted_at]=1999-01-01`), 0);
    const updated = await direct("f.updated_at >= $2::timestamptz AND f.updated_at < $2::timestamptz + interval '1 day'", [`${new Date().toISOString().slice(0, 10)}T00:00:00Z`]);
    assert.equal(await count(`/api/v1/findings?filter[updated_at]=${new Date().toISOString().slice(0, 10)}&filter[scan]=${world.scans.aws2}`), await direct(
      "f.scan_id = $2 AND f.updated_at >= $3::timestamptz AND f.updated_at < $3::timestamptz + interval '1 day'",
      [world.scans.aws2, `${new Date().toISOString().slice(0, 10)}T00:00:00Z`],
    ));
    assert.ok(updated > 0);
  });

  it('keeps partition pruning for a day filter', async () => {
    const database = app.app.get(TenantDatabase);
    const principal: Principal = {
      userId: world.owner.userId, tenantId: world.tenantId, roleId: null, roleIds: [], permissions: new Set(), membershipRole: 'owner', visibleProviderIds: null,
    };
    await principalTransaction(database.app, principal, async (manager) => {
      for (const key of ['filter[inserted_at]', 'filter[inserted_at__date]']) {
        const query = parseQuery({ [key]: day(), 'filter[search]': 'passes' }, FINDING_LIST);
        const { conditions } = await selectFindings(manager, query.filters, 'all', { predicate: async () => null });
        const plan = await manager.query(`EXPLAIN SELECT f.id FROM findings f ${conditions.where()} ORDER BY f.id DESC LIMIT 50`, conditions.params);
        const partitions = new Set(plan.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n').match(/findings_p\d{4}_\d{2}/g));
        assert.deepEqual([...partitions], [partitionsOfMonth(new Date(`${day()}T00:00:00Z`))[0].name], JSON.stringify(plan));
      }
    }, true);
  });

  it('searches findings as Prowler does (full text of status_extended), with or without a date or scan filter', async () => {
    const passes = await direct("f.status = 'PASS'");
    assert.ok(passes > 0);
    assert.equal(await count(`/api/v1/findings?filter[search]=passes&filter[inserted_at__gte]=2000-01-01`), passes);
    assert.equal(await count(`/api/v1/findings?filter[search]=passes&filter[scan]=${world.scans.aws2}`), await direct("f.status = 'PASS' AND f.scan_id = $2", [world.scans.aws2]));
    const latest = await api.get('/api/v1/findings/latest?filter[search]=passes&page[size]=100');
    assert.equal(latest.status, 200);
    assert.ok(latest.body.data.length > 0);
    assert.ok(latest.body.data.every((f: any) => f.attributes.status === 'PASS'));
    assert.equal(await count('/api/v1/findings?filter[search]=passes'), passes);
  });

  it('filters findings by their resources, impact, provider groups, and lists as Prowler names them', async () => {
    const { rows: [resource] } = await admin.query(
      `SELECT r.id, r.name FROM resources r WHERE r.tenant_id = $1 AND r.provider_id = $2 ORDER BY r.name LIMIT 1`, [world.tenantId, world.providers.aws2],
    );
    const byResource = await direct('f.id IN (SELECT finding_id FROM resource_finding_links WHERE resource_id = $2)', [resource.id]);
    assert.ok(byResource > 0);
    assert.equal(await count(`/api/v1/findings?filter[resources]=${resource.id},${newId()}&filter[inserted_at__gte]=2000-01-01`), byResource);
    const byName = await direct(
      'f.id IN (SELECT l.finding_id FROM resource_finding_links l JOIN resources r ON r.id = l.resource_id WHERE r.name = $2)', [resource.name],
    );
    assert.equal(await count(`/api/v1/findings?filter[resource_name]=${resource.name}&filter[inserted_at__gte]=2000-01-01`), byName);
    assert.equal(await count(`/api/v1/findings?filter[resource_name__icontains]=${resource.name.toUpperCase()}&filter[inserted_at__gte]=2000-01-01`), await direct(
      'f.id IN (SELECT l.finding_id FROM resource_finding_links l JOIN resources r ON r.id = l.resource_id WHERE r.name ILIKE $2)', [`%${resource.name}%`],
    ));
    assert.equal(await count('/api/v1/findings?filter[impact]=high'), await direct("f.severity = 'high'"));
    // Prowler reads `__in` of status and severity as text: an unknown value matches nothing.
    assert.equal(await count('/api/v1/findings?filter[severity__in]=high,nope'), await direct("f.severity = 'high'"));
    assert.equal(await count('/api/v1/findings?filter[status__in]=nope'), 0);
    assert.equal((await api.get('/api/v1/findings?filter[status]=nope')).status, 400);
    // A category is the check's, as the scans reported it; OCSF files carry no resource group, so none matches.
    const encryption = [...new Set((await admin.query(`SELECT DISTINCT check_id FROM findings WHERE tenant_id = $1`, [world.tenantId])).rows.map((r) => r.check_id))]
      .filter((checkId) => categoriesOf(checkId).includes('encryption'));
    assert.ok(encryption.length > 0);
    assert.equal(await count('/api/v1/findings?filter[category]=Encryption'), await direct('f.check_id = ANY($2)', [encryption]));
    assert.equal(
      await count('/api/v1/findings?filter[category__in]=encryption,logging&filter[status]=FAIL'),
      await direct(`f.status = 'FAIL' AND f.check_id = ANY($2)`, [
        [...new Set((await admin.query(`SELECT DISTINCT check_id FROM findings WHERE tenant_id = $1`, [world.tenantId])).rows.map((r) => r.check_id))].filter((c) =>
          categoriesOf(c).some((k) => k === 'encryption' || k === 'logging'),
        ),
      ]),
    );
    const shown = await api.get(`/api/v1/findings?filter[check_id]=${encryption[0]}&page[size]=1`);
    assert.deepEqual(shown.body.data[0].attributes.categories, categoriesOf(encryption[0]));
    assert.equal(shown.body.data[0].attributes.resource_groups, null);
    const metadata = await api.get('/api/v1/findings/metadata/latest');
    assert.ok(metadata.body.data.attributes.categories.includes('encryption'), JSON.stringify(metadata.body.data.attributes));
    assert.deepEqual(metadata.body.data.attributes.groups, []);
    assert.equal(await count('/api/v1/findings/latest?filter[resource_groups__in]=network,storage'), 0);

    const group = await api.post('/api/v1/provider-groups', { data: { type: 'provider-groups', attributes: { name: `g-${newId().slice(-6)}` } } });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    await admin.query(`INSERT INTO provider_group_memberships (id, tenant_id, provider_group_id, provider_id) VALUES ($1, $2, $3, $4)`, [
      newId(), world.tenantId, group.body.data.id, world.providers.azure,
    ]);
    assert.equal(await count(`/api/v1/findings?filter[provider_groups]=${group.body.data.id}`), await direct('f.provider_id = $2', [world.providers.azure]));
    assert.equal(await count(`/api/v1/findings?filter[provider_groups__in]=${newId()}`), 0);
  });

  it('walks findings by updated_at with a cursor, each once', async () => {
    const total = await direct('f.scan_id = $2', [world.scans.aws1Second]);
    const seen = new Set<string>();
    let url: string | null = `/api/v1/findings?filter[scan]=${world.scans.aws1Second}&sort=-updated_at&page[cursor]=&page[size]=37`;
    while (url) {
      const page: any = await api.get(url);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      for (const finding of page.body.data) {
        assert.ok(!seen.has(finding.id), 'no finding twice');
        seen.add(finding.id);
      }
      url = page.body.links?.next ?? null;
    }
    assert.equal(seen.size, total);
  });

  it('searches resources (their names and tags), filters them by day, sorts them by provider uid', async () => {
    const expected = (await admin.query(`SELECT count(*)::int AS n FROM resources WHERE tenant_id = $1 AND service = 'ec2'`, [world.tenantId])).rows[0].n;
    assert.ok(expected > 0);
    assert.equal(await count('/api/v1/resources?filter[search]=ec2'), expected);
    const prod = (await admin.query(
      `SELECT count(DISTINCT l.resource_id)::int AS n FROM resource_tag_links l JOIN resource_tags t ON t.id = l.tag_id WHERE l.tenant_id = $1 AND t.value = 'prod'`, [world.tenantId],
    )).rows[0].n;
    assert.ok(prod > 0);
    assert.equal(await count('/api/v1/resources?filter[search]=prod'), prod);
    assert.equal(await count('/api/v1/resources?filter[tags]=prod'), prod);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(await count(`/api/v1/resources?filter[updated_at]=${today}`), (await admin.query(
      `SELECT count(*)::int AS n FROM resources WHERE tenant_id = $1 AND updated_at >= $2::timestamptz AND updated_at < $2::timestamptz + interval '1 day'`,
      [world.tenantId, `${today}T00:00:00Z`],
    )).rows[0].n);
    const sorted = await api.get('/api/v1/resources/latest?sort=provider_uid,-updated_at&page[size]=500');
    assert.equal(sorted.status, 200);
    const providers = await admin.query(`SELECT id, uid FROM providers WHERE tenant_id = $1`, [world.tenantId]);
    const uidOf = new Map<string, string>(providers.rows.map((p: { id: string; uid: string }) => [p.id, p.uid]));
    const uids = sorted.body.data.map((r: any) => uidOf.get(r.relationships.provider.data.id));
    assert.equal(new Set(uids).size, 3, 'every provider has resources in its latest scan');
    assert.deepEqual(uids, [...uids].sort());
  });

  it('keeps visibility under the new filters', async () => {
    const limited = await limitedMember(app, admin, world, world.providers.aws2);
    const found = await limited.get('/api/v1/findings/latest?filter[search]=passes&page[size]=500');
    assert.equal(found.status, 200);
    assert.ok(found.body.data.length > 0);
    const scans = new Set(found.body.data.map((f: any) => f.relationships.scan.data.id));
    assert.deepEqual([...scans], [world.scans.aws2]);
    const resources = await limited.get('/api/v1/resources?filter[search]=ec2&page[size]=1');
    assert.equal(resources.body.meta.pagination.count, (await admin.query(
      `SELECT count(*)::int AS n FROM resources WHERE tenant_id = $1 AND service = 'ec2' AND provider_id = $2`, [world.tenantId, world.providers.aws2],
    )).rows[0].n);
  });

  it("filters a tenant's memberships by user, as the UI's owner check asks", async () => {
    const member = await inviteMember(app.baseUrl, world.owner, [], 'params-member');
    const mine = await api.get(`/api/v1/tenants/${world.tenantId}/memberships?filter[user]=${world.owner.userId}&page[size]=1`);
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.data.length, 1);
    assert.equal(mine.body.data[0].attributes.role, 'owner');
    assert.equal(mine.body.meta.pagination.count, 1);
    const theirs = await api.get(`/api/v1/tenants/${world.tenantId}/memberships?filter[user]=${member.userId}&filter[role]=owner`);
    assert.equal(theirs.body.data.length, 0);
    const both = await api.get(`/api/v1/tenants/${world.tenantId}/memberships?filter[user__in]=${member.userId},${world.owner.userId}&sort=-role`);
    assert.deepEqual(both.body.data.map((m: any) => m.attributes.role), ['owner', 'member']);
    const today = new Date().toISOString().slice(0, 10);
    const joined = await api.get(`/api/v1/tenants/${world.tenantId}/memberships?filter[date_joined__date]=${today}&filter[tenant]=${world.tenantId}`);
    const members = (await admin.query(`SELECT count(*)::int AS n FROM memberships WHERE tenant_id = $1 AND date_joined >= $2::timestamptz`, [world.tenantId, `${today}T00:00:00Z`])).rows[0].n;
    assert.ok(members >= 2);
    assert.equal(joined.body.data.length, members);
    // A member sees their own membership only, whatever the filter.
    const asMember = await member.client.get(`/api/v1/tenants/${world.tenantId}/memberships?filter[user]=${world.owner.userId}`);
    assert.equal(asMember.status === 200 ? asMember.body.data.length : 0, 0);
  });

  it('filters tenants, scans and overviews by day', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const tenants = await api.get(`/api/v1/tenants?filter[inserted_at]=${today}`);
    assert.deepEqual(tenants.body.data.map((t: any) => t.id), [world.tenantId]);
    assert.equal((await api.get('/api/v1/tenants?filter[inserted_at]=1999-01-01')).body.data.length, 0);
    const scans = await api.get(`/api/v1/scans?filter[next_scan_at__gte]=${today}`);
    assert.equal(scans.status, 200);
    assert.equal(scans.body.data.length, 0, 'no scan here is scheduled');
    const overview = await api.get(`/api/v1/overviews/services?filter[inserted_at]=${day()}&sort=-fail`);
    assert.equal(overview.status, 200);
    const fails = overview.body.data.map((s: any) => s.attributes.fail);
    assert.deepEqual(fails, [...fails].sort((a: number, b: number) => b - a));
    assert.ok(fails.length > 0);
    const none = await api.get('/api/v1/overviews/services?filter[inserted_at]=1999-01-01');
    assert.deepEqual(none.body.data, []);
  });

  it('still refuses what Prowler refuses: unknown parameters by name, malformed values, never a 5xx', async () => {
    for (const [query, parameter] of [
      ['filter[nope]=1', 'filter[nope]'],
      ['filter[inserted_at]=yesterday', 'filter[inserted_at]'],
      ['filter[inserted_at__date]=2026-13-45', 'filter[inserted_at__date]'],
      ['filter[resources]=not-a-uuid', 'filter[resources]'],
      ['filter[provider_groups]=x', 'filter[provider_groups]'],
      ['filter[status__iexact]=PASS', 'filter[status__iexact]'],
      ['sort=-nope', 'sort'],
    ]) {
      const result = await api.get(`/api/v1/findings/latest?${query}`);
      assert.equal(result.status, 400, query);
      assert.equal(result.body.errors[0].source.parameter, parameter, query);
    }
    // A hand-made cursor for sort=-updated_at carrying something that is not an instant.
    for (const instant of ['1 2', '2026-12-01', '2026-99-99T00:00:00.000Z']) {
      const cursor = Buffer.from(JSON.stringify({ s: "-date_trunc('milliseconds', f.updated_at),-f.id", k: [instant, newId()] })).toString('base64url');
      const result = await api.get(`/api/v1/findings/latest?sort=-updated_at&page[cursor]=${cursor}`);
      assert.equal(result.status, 400, instant);
      assert.equal(result.body.errors[0].source.parameter, 'page[cursor]');
    }
    for (const query of ['filter[search]=%27%22%5C%00x', 'filter[search]=!!!', 'filter[search]=a%20%26%20%7C%20b', 'filter[search]=' + 'y'.repeat(1000)]) {
      const result = await api.get(`/api/v1/resources?${query}`);
      assert.ok(result.status < 500, `${query}: ${result.status}`);
      const findings = await api.get(`/api/v1/findings/latest?${query}`);
      assert.ok(findings.status < 500, `${query}: ${findings.status}`);
      // Without a date window the search first looks its words up (search-word-ranges.ts).
      const windowless = await api.get(`/api/v1/findings?${query}`);
      assert.ok(windowless.status < 500, `${query}: ${windowless.status}`);
    }
  });
});
