import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { ApiClient } from '../support/http-client';
import { buildFindingsWorld, FindingsWorld, limitedMember } from '../support/findings-world';
import { addMember, createRule, insertRole } from './rls-rules-fixtures';

const SEVERITY_RANK: Record<string, number> = { critical: 5, high: 4, medium: 3, low: 2, informational: 1 };
const STATUS_RANK: Record<string, number> = { FAIL: 3, PASS: 2, MANUAL: 1 };

/**
 * Finding groups against figures computed here, straight from the findings of
 * the scans a read covers (owner role, no summaries): the summaries path, the
 * findings path (a finding-level filter, row filter rules), visibility, the
 * resources of a group, and bad input.
 */
describe('finding groups', () => {
  let admin: Client;
  let app: TestApp;
  let world: FindingsWorld;
  let api: ApiClient;
  let latestScans: string[];

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    world = await buildFindingsWorld(app, admin, 'groups', 300);
    api = world.owner.client;
    latestScans = [world.scans.aws1Second, world.scans.aws2, world.scans.azure];
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  /** Each check's group over the given scans' findings matching `extra`, as Prowler defines its figures. */
  async function expectedGroups(scans: string[], extra = '', params: unknown[] = []): Promise<Array<Record<string, any>>> {
    const { rows } = await admin.query(
      `WITH f AS (SELECT f.*, p.provider AS provider_type FROM findings f JOIN providers p ON p.id = f.provider_id
                   WHERE f.scan_id = ANY($1) ${extra})
       SELECT f.check_id AS id, max(f.check_title) AS check_title,
              count(*) FILTER (WHERE f.status = 'PASS' AND NOT f.muted)::int AS pass_count,
              count(*) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted)::int AS fail_count,
              count(*) FILTER (WHERE f.status = 'MANUAL' AND NOT f.muted)::int AS manual_count,
              count(*) FILTER (WHERE f.status = 'PASS' AND f.muted)::int AS pass_muted_count,
              count(*) FILTER (WHERE f.status = 'FAIL' AND f.muted)::int AS fail_muted_count,
              count(*) FILTER (WHERE f.muted)::int AS muted_count,
              count(*) FILTER (WHERE f.delta = 'new' AND NOT f.muted)::int AS new_count,
              count(*) FILTER (WHERE f.delta = 'changed' AND NOT f.muted)::int AS changed_count,
              count(*) FILTER (WHERE f.delta = 'new' AND f.status = 'FAIL' AND NOT f.muted)::int AS new_fail_count,
              count(*) FILTER (WHERE f.delta = 'changed' AND f.status = 'PASS' AND NOT f.muted)::int AS changed_pass_count,
              (SELECT count(DISTINCT l.resource_id) FROM resource_finding_links l JOIN f g ON g.id = l.finding_id WHERE g.check_id = f.check_id)::int AS resources_total,
              (SELECT count(DISTINCT l.resource_id) FROM resource_finding_links l JOIN f g ON g.id = l.finding_id
                WHERE g.check_id = f.check_id AND g.status = 'FAIL' AND NOT g.muted)::int AS resources_fail,
              array_agg(DISTINCT f.provider_type::text ORDER BY f.provider_type::text) AS impacted_providers,
              array_agg(DISTINCT f.severity) AS severities, bool_and(f.muted) AS muted,
              min(f.first_seen_at) AS first_seen_at, max(f.inserted_at) AS last_seen_at
         FROM f GROUP BY f.check_id`,
      [scans, ...params],
    );
    return rows.map(({ severities, ...row }) => ({
      ...row,
      check_title: row.check_title || null,
      severity: (severities as string[]).sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a])[0],
      status: row.fail_count > 0 ? 'FAIL' : row.pass_count + row.pass_muted_count + row.fail_muted_count > 0 ? 'PASS' : 'MANUAL',
      first_seen_at: row.first_seen_at.toISOString(),
      last_seen_at: row.last_seen_at.toISOString(),
    }));
  }

  /** The answer's groups with the attributes `expected` has, keyed as they are. */
  function shown(body: any, like: Record<string, unknown>): Array<Record<string, unknown>> {
    return body.data.map((d: any) => {
      assert.equal(d.type, 'finding-groups');
      const row: Record<string, unknown> = { id: d.id };
      for (const key of Object.keys(like)) if (key !== 'id') row[key] = d.attributes[key];
      return row;
    });
  }

  /** Every page of a groups list, as one answer. */
  async function allPages(client: ApiClient, path: string): Promise<any> {
    const data: unknown[] = [];
    for (let page = 1; ; page++) {
      const answer = await client.get(`${path}${path.includes('?') ? '&' : '?'}page[size]=100&page[number]=${page}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      data.push(...answer.body.data);
      if (page >= answer.body.meta.pagination.pages) return { ...answer.body, data };
    }
  }

  const byId = (rows: Array<Record<string, unknown>>) => [...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)));

  it('answers the UI request from the summaries, sorted as asked, with figures equal to the latest findings', async () => {
    const expected = (await expectedGroups(latestScans)).filter((g) => !g.muted);
    assert.ok(expected.length > 10);
    const uiSort = (a: any, b: any) =>
      STATUS_RANK[b.status] - STATUS_RANK[a.status] ||
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      b.new_fail_count - a.new_fail_count ||
      b.changed_fail_count - a.changed_fail_count ||
      b.fail_count - a.fail_count ||
      b.last_seen_at.localeCompare(a.last_seen_at) ||
      a.id.localeCompare(b.id);
    const page = await api.get('/api/v1/finding-groups/latest?page[size]=10&sort=-status,-severity,-new_fail_count,-changed_fail_count,-fail_count,-last_seen_at&filter[muted]=false');
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.meta.pagination.count, expected.length);
    const sorted = [...expected].sort((a, b) => uiSort({ ...a, changed_fail_count: 0 }, { ...b, changed_fail_count: 0 }));
    assert.deepEqual(
      page.body.data.map((d: any) => d.id),
      sorted.slice(0, 10).map((g) => g.id),
    );
    const beyond = await api.get('/api/v1/finding-groups/latest?page[size]=10&page[number]=99');
    assert.deepEqual(beyond.body.data, []);
    assert.equal(beyond.body.meta.pagination.count, expected.length, 'a page past the end still counts the groups');
    const all = { body: await allPages(api, '/api/v1/finding-groups/latest') };
    assert.deepEqual(byId(shown(all.body, expected[0])), byId(expected));
    // Every attribute of the contract is there (the ApiClient checks the shapes against it).
    assert.equal(all.body.data[0].attributes.check_description, null);
    assert.equal(typeof all.body.data[0].attributes.changed_manual_muted_count, 'number');
  });

  it('recomputes from the findings for a finding-level filter, and filters groups on their computed figures', async () => {
    const region = (await admin.query(`SELECT region FROM findings WHERE scan_id = $1 GROUP BY region ORDER BY count(*) DESC LIMIT 1`, [world.scans.aws2])).rows[0].region;
    const expected = (await expectedGroups(latestScans, 'AND f.region = $2', [region])).filter((g) => !g.muted);
    const answer = { body: await allPages(api, `/api/v1/finding-groups/latest?filter[region]=${region}`) };
    assert.deepEqual(byId(shown(answer.body, expected[0])), byId(expected));

    const failing = (await expectedGroups(latestScans)).filter((g) => g.status === 'FAIL' && g.severity === 'high');
    const filtered = { body: await allPages(api, '/api/v1/finding-groups/latest?filter[status]=FAIL&filter[severity]=high') };
    assert.deepEqual(filtered.body.data.map((d: any) => d.id).sort(), failing.map((g) => g.id).sort());

    const check = failing[0]?.id ?? (await expectedGroups(latestScans))[0].id;
    const byCheck = { body: await allPages(api, `/api/v1/finding-groups/latest?filter[check_id__icontains]=${check.slice(2, -2)}`) };
    assert.ok(byCheck.body.data.some((d: any) => d.id === check));
    assert.ok(byCheck.body.data.every((d: any) => d.id.includes(check.slice(2, -2))));
  });

  it('/finding-groups reads the latest scan of each provider within the date window; a scan filter narrows it', async () => {
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const from = day(world.startedAt.aws1First);
    const windowed = { body: await allPages(api, `/api/v1/finding-groups?filter[inserted_at__gte]=${from}`) };
    const expected = (await expectedGroups(latestScans)).filter((g) => !g.muted);
    assert.deepEqual(byId(shown(windowed.body, expected[0])), byId(expected));

    const first = (await expectedGroups([world.scans.aws1First])).filter((g) => !g.muted);
    const scanOnly = { body: await allPages(api, `/api/v1/finding-groups?filter[inserted_at__gte]=${from}&filter[scan]=${world.scans.aws1First}`) };
    assert.deepEqual(byId(shown(scanOnly.body, first[0])), byId(first));
  });

  it('a limited role sees groups of its providers only; rules on findings make figures from the rows they let through', async () => {
    const limited = await limitedMember(app, admin, world, world.providers.aws2);
    const expected = (await expectedGroups([world.scans.aws2])).filter((g) => !g.muted);
    const answer = { body: await allPages(limited, '/api/v1/finding-groups/latest') };
    assert.deepEqual(byId(shown(answer.body, expected[0])), byId(expected));

    const role = await insertRole(admin, world.tenantId, 'groups-analyst', ['unlimited_visibility']);
    const analyst = await addMember(app.baseUrl, admin, world.tenantId, 'groups-analyst', [role]);
    await createRule(api, { clause: "status = 'FAIL'", roles: [role], tables: ['findings'] });
    const onlyFailing = (await expectedGroups(latestScans, `AND f.status = 'FAIL'`)).filter((g) => !g.muted);
    const ruled = { body: await allPages(analyst.client, '/api/v1/finding-groups/latest') };
    assert.deepEqual(byId(shown(ruled.body, onlyFailing[0])), byId(onlyFailing));
    assert.ok(ruled.body.data.every((d: any) => d.attributes.pass_count === 0));
  });

  it("lists a group's resources with their status, and answers 404 for a check no finding read has", async () => {
    const [group] = (await expectedGroups(latestScans)).filter((g) => g.status === 'FAIL' && g.resources_total > 1);
    const { rows } = await admin.query(
      `SELECT l.resource_id AS id, r.uid, bool_or(f.status = 'FAIL') AS failing, max(f.id::text) AS finding_id
         FROM findings f JOIN resource_finding_links l ON l.finding_id = f.id JOIN resources r ON r.id = l.resource_id
        WHERE f.scan_id = ANY($1) AND f.check_id = $2 GROUP BY l.resource_id, r.uid`,
      [latestScans, group.id],
    );
    const answer = await api.get(`/api/v1/finding-groups/latest/${group.id}/resources?page[size]=100&sort=-status,resource.uid`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.meta.pagination.count, group.resources_total);
    const expected = rows.sort((a, b) => Number(b.failing) - Number(a.failing) || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0));
    assert.deepEqual(
      answer.body.data.map((d: any) => [d.type, d.id, d.attributes.resource.uid, d.attributes.status, d.attributes.finding_id]),
      expected.map((r) => ['finding-group-resources', r.id, r.uid, r.failing ? 'FAIL' : 'PASS', r.finding_id]),
    );
    const failingOnly = await api.get(`/api/v1/finding-groups/latest/${group.id}/resources?filter[status]=FAIL&page[size]=100`);
    assert.equal(failingOnly.body.meta.pagination.count, group.resources_fail);

    const day = world.startedAt.aws1Second.toISOString().slice(0, 10);
    const dated = await api.get(`/api/v1/finding-groups/${group.id}/resources?filter[inserted_at__gte]=${day}&page[size]=1`);
    assert.equal(dated.status, 200, JSON.stringify(dated.body));
    assert.equal(dated.body.meta.pagination.count, group.resources_total);

    const missing = await api.get('/api/v1/finding-groups/latest/no_such_check/resources');
    assert.equal(missing.status, 404);
  });

  it('a mute rewrites the summaries: a fully muted group leaves the default list and shows with filter[muted]=true', async () => {
    const [check] = (await admin.query(
      `SELECT check_id FROM findings WHERE scan_id = ANY($1) GROUP BY check_id HAVING count(*) FILTER (WHERE status = 'FAIL') > 0 ORDER BY count(*), check_id LIMIT 1`,
      [latestScans],
    )).rows;
    const ids = (await admin.query(`SELECT id FROM findings WHERE scan_id = ANY($1) AND check_id = $2`, [latestScans, check.check_id])).rows.map((r) => r.id);
    const muted = await api.post('/api/v1/mute-rules', { data: { type: 'mute-rules', attributes: { name: 'groups mute', reason: 'accepted', finding_ids: ids } } });
    assert.equal(muted.status, 201, JSON.stringify(muted.body));

    const expected = (await expectedGroups(latestScans)).filter((g) => !g.muted);
    const listed = await allPages(api, '/api/v1/finding-groups/latest');
    assert.ok(!listed.data.some((d: any) => d.id === check.check_id));
    assert.deepEqual(byId(shown(listed, expected[0])), byId(expected));

    const withMuted = await api.get(`/api/v1/finding-groups/latest?filter[muted]=true&filter[check_id]=${check.check_id}`);
    assert.equal(withMuted.body.data.length, 1);
    const group = withMuted.body.data[0].attributes;
    assert.equal(group.muted, true);
    assert.equal(group.muted_count, ids.length);
    assert.equal(group.fail_count, 0);
    assert.ok(group.fail_muted_count > 0);
    assert.equal(group.status, 'PASS', 'only muted failures: PASS, as in Prowler');
  });

  it('refuses bad input with 400 naming the parameter', async () => {
    const noDate = await api.get('/api/v1/finding-groups');
    assert.equal(noDate.status, 400);
    assert.equal(noDate.body.errors[0].source.parameter, 'filter[inserted_at]');
    // A group's resources: an unknown check is 404 whatever the filters, a known one needs the date filter.
    assert.equal((await api.get('/api/v1/finding-groups/no_such_check/resources')).status, 404);
    const known = (await admin.query(`SELECT check_id FROM findings WHERE scan_id = $1 LIMIT 1`, [world.scans.aws2])).rows[0].check_id;
    const knownNoDate = await api.get(`/api/v1/finding-groups/${known}/resources`);
    assert.equal(knownNoDate.status, 400);
    assert.equal(knownNoDate.body.errors[0].source.parameter, 'filter[inserted_at]');
    const wide = await api.get('/api/v1/finding-groups?filter[inserted_at__gte]=2026-01-01&filter[inserted_at__lte]=2026-03-01');
    assert.equal(wide.status, 400);
    assert.match(wide.body.errors[0].source.parameter, /^filter\[inserted_at/);
    const badStatus = await api.get('/api/v1/finding-groups/latest?filter[status__in]=FAIL,nope');
    assert.equal(badStatus.status, 400);
    assert.equal(badStatus.body.errors[0].source.parameter, 'filter[status__in]');
    const badSort = await api.get('/api/v1/finding-groups/latest?sort=resource.uid');
    assert.equal(badSort.status, 400);
    assert.equal(badSort.body.errors[0].source.parameter, 'sort');
    const badCheck = await api.get('/api/v1/finding-groups/latest/not.a.check/resources');
    assert.equal(badCheck.status, 400);
  });
});
