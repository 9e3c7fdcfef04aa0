import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { adminClient } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { signUp } from '../support/http-client';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { IngestionRecord } from '../../src/findings/ingestion/ingestion-record';
import { findingId } from '../../src/findings/storage/finding-ids';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { rows } from '../../src/database/sql';
import { TenantDatabase } from '../../src/database/tenant-database';
import { insertPlainlyUnlessStored } from '../../src/database/unique-violation-fallback';

describe('findings ingestion', () => {
  let admin: Client;
  let app: TestApp;
  let tenantId: string;
  let providerId: string;

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    tenantId = (await signUp(app.baseUrl, 'ingest')).tenantId;
    providerId = await insertProvider(admin, tenantId);
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function count(sql: string, params: unknown[]): Promise<number> {
    return Number((await admin.query(sql, params)).rows[0].n);
  }

  it('ingests records, and a retried batch or scan adds nothing twice', async () => {
    const startedAt = new Date(Date.now() - 3600_000);
    const scanId = await insertScan(admin, tenantId, providerId, startedAt);
    const scan = { tenantId, scanId, providerId, scanStartedAt: startedAt };
    const records = [...generateRecords({ providerKey: 'retry', count: 1200 })];
    assert.equal(await ingestScan(app, scan, records, { batchSize: 500 }), 1200);
    // The same records again, cut differently: every id conflicts.
    assert.equal(await ingestScan(app, scan, records, { batchSize: 700 }), 0);
    assert.equal(await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1`, [scanId]), 1200);
    assert.equal(await count(`SELECT sum(findings) AS n FROM finding_counts WHERE provider_id = $1`, [providerId]), 1200);
    assert.equal(await count(`SELECT count(*) AS n FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE f.scan_id = $1`, [scanId]), 1200);
    assert.equal(await count(`SELECT count(*) AS n FROM finding_latest WHERE provider_id = $1`, [providerId]), 1200);
    const resources = new Set(records.map((r) => r.resources[0].uid)).size;
    assert.equal(await count(`SELECT count(*) AS n FROM resources WHERE provider_id = $1`, [providerId]), resources);
    // Every finding of the scan sits in the scan's one millisecond of ids.
    const ids = await admin.query(`SELECT min(id::text) AS lo, max(id::text) AS hi FROM findings WHERE scan_id = $1`, [scanId]);
    assert.equal(ids.rows[0].lo.slice(0, 13), ids.rows[0].hi.slice(0, 13));
    assert.equal(parseInt(ids.rows[0].lo.replace(/-/g, '').slice(0, 12), 16), startedAt.getTime());
    // Ids computed while staging (TypeScript) and by the SQL function that muting uses agree.
    const sample = await admin.query(
      `SELECT id::text, uid, finding_uuid($2::bigint, scan_id, uid)::text AS sql_id FROM findings WHERE scan_id = $1 LIMIT 50`,
      [scanId, startedAt.getTime()],
    );
    for (const row of sample.rows) {
      assert.equal(row.id, findingId(startedAt.getTime(), scanId, row.uid));
      assert.equal(row.sql_id, row.id);
    }
  });

  it('sets delta new/changed and keeps first_seen_at across scans; tags are linked', async () => {
    const provider = await insertProvider(admin, tenantId);
    const first = new Date(Date.now() - 7200_000);
    const second = new Date(Date.now() - 3600_000);
    const scan1 = await insertScan(admin, tenantId, provider, first);
    const scan2 = await insertScan(admin, tenantId, provider, second);
    const records1 = [...generateRecords({ providerKey: 'delta', count: 600 })];
    const records2 = [...generateRecords({ providerKey: 'delta', count: 700, scanIndex: 1, changeRate: 0.2 })];
    await ingestScan(app, { tenantId, scanId: scan1, providerId: provider, scanStartedAt: first }, records1);
    await ingestScan(app, { tenantId, scanId: scan2, providerId: provider, scanStartedAt: second }, records2);

    const before = new Map(records1.map((r) => [r.uid, r.status]));
    const expected = { new: 0, changed: 0, none: 0 };
    for (const record of records2) {
      const previous = before.get(record.uid);
      if (previous === undefined) expected.new++;
      else if (previous !== record.status) expected.changed++;
      else expected.none++;
    }
    assert.ok(expected.changed > 0 && expected.new === 100);
    const deltas = await admin.query(`SELECT COALESCE(delta, 'none') AS delta, count(*)::int AS n FROM findings WHERE scan_id = $1 GROUP BY 1`, [scan2]);
    assert.deepEqual(Object.fromEntries(deltas.rows.map((r) => [r.delta, r.n])), expected);
    const all1 = await count(`SELECT count(*) AS n FROM findings WHERE scan_id = $1 AND delta = 'new'`, [scan1]);
    assert.equal(all1, 600);

    const firstSeen = await admin.query(
      `SELECT count(*) FILTER (WHERE first_seen_at = $2)::int AS old, count(*) FILTER (WHERE first_seen_at = $3)::int AS fresh
         FROM findings WHERE scan_id = $1`,
      [scan2, first, second],
    );
    assert.deepEqual(firstSeen.rows[0], { old: 600, fresh: 100 });
    const latest = await admin.query(`SELECT count(*)::int AS n FROM finding_latest WHERE provider_id = $1 AND last_scan_id = $2`, [provider, scan2]);
    assert.equal(latest.rows[0].n, 700);

    const tagged = records2.filter((r) => Object.keys(r.resources[0].tags).length > 0);
    const taggedResources = new Set(tagged.map((r) => r.resources[0].uid));
    assert.ok(taggedResources.size > 0);
    const links = await admin.query(
      `SELECT r.uid, jsonb_object_agg(t.key, t.value) AS tags FROM resources r
         JOIN resource_tag_links l ON l.resource_id = r.id JOIN resource_tags t ON t.id = l.tag_id
        WHERE r.provider_id = $1 GROUP BY r.uid`,
      [provider],
    );
    assert.equal(links.rowCount, taggedResources.size);
    const sample = tagged[0].resources[0];
    assert.deepEqual(links.rows.find((r) => r.uid === sample.uid)?.tags, sample.tags);
  });

  it('links a finding to each of its resources, the first and the others, once each, and a retry adds none', async () => {
    const provider = await insertProvider(admin, tenantId);
    const startedAt = new Date(Date.now() - 900_000);
    const scan = { tenantId, scanId: await insertScan(admin, tenantId, provider, startedAt), providerId: provider, scanStartedAt: startedAt };
    const [plain, several, shared] = [...generateRecords({ providerKey: 'several', count: 3 })];
    const other = { ...plain.resources[0], uid: `${plain.resources[0].uid}-other`, name: 'other' };
    // Three resources, one of them named twice; the third record's second resource is the first record's.
    const records = [
      plain,
      { ...several, resources: [several.resources[0], other, several.resources[0]] },
      { ...shared, resources: [shared.resources[0], plain.resources[0]] },
    ];
    const linked = async () =>
      (
        await admin.query(
          `SELECT f.uid, array_agg(r.uid ORDER BY r.uid) AS resources FROM findings f
             JOIN resource_finding_links l ON l.finding_id = f.id JOIN resources r ON r.id = l.resource_id
            WHERE f.scan_id = $1 GROUP BY f.uid`,
          [scan.scanId],
        )
      ).rows;
    const expected = records.map((r) => ({ uid: r.uid, resources: [...new Set(r.resources.map((x) => x.uid))].sort() })).sort((a, b) => a.uid.localeCompare(b.uid));
    assert.equal(await ingestScan(app, scan, records, { batchSize: 2 }), 3);
    assert.deepEqual((await linked()).sort((a, b) => a.uid.localeCompare(b.uid)), expected);
    assert.equal(await ingestScan(app, scan, records), 0);
    assert.deepEqual((await linked()).sort((a, b) => a.uid.localeCompare(b.uid)), expected);
  });

  it('stores a uid a scan reports twice once, as its first record says, within a batch and across batches', async () => {
    const provider = await insertProvider(admin, tenantId);
    const startedAt = new Date(Date.now() - 800_000);
    const scan = { tenantId, scanId: await insertScan(admin, tenantId, provider, startedAt), providerId: provider, scanStartedAt: startedAt };
    const records = [...generateRecords({ providerKey: 'repeated', count: 8 })];
    const again = (record: IngestionRecord): IngestionRecord => ({ ...record, statusExtended: 'reported again', status: record.status === 'PASS' ? 'FAIL' : 'PASS' });
    // Batches of 4: the first repeats its own record 0; the second repeats record 1 of the first batch, then the remaining new records.
    const stream = [records[0], records[1], again(records[0]), records[2], again(records[1]), records[3], records[4], records[5], records[6], records[7]];
    assert.equal(await ingestScan(app, scan, stream, { batchSize: 4 }), 8);
    const stored = await admin.query(`SELECT uid, status, status_extended FROM findings WHERE scan_id = $1`, [scan.scanId]);
    assert.deepEqual(
      stored.rows.map((r) => [r.uid, r.status, r.status_extended]).sort(),
      records.map((r) => [r.uid, r.status, r.statusExtended]).sort(),
    );
    assert.equal(await count(`SELECT count(*) AS n FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE f.scan_id = $1`, [scan.scanId]), 8);
    assert.equal(await count(`SELECT sum(findings) AS n FROM finding_counts WHERE provider_id = $1`, [provider]), 8);
  });

  it('inserts plainly, and only on a stored row runs the statements that tolerate it, in a transaction that goes on', async () => {
    const provider = await insertProvider(admin, tenantId);
    const version = `INSERT INTO finding_versions (tenant_id, provider_id, version) VALUES ($1, $2, 7)`;
    const attempt = (m: Parameters<typeof rows>[0], plainSql: string) =>
      insertPlainlyUnlessStored(
        m,
        async () => (await rows(m, `${plainSql} RETURNING 'plain' AS way`, [tenantId, provider]))[0].way,
        async () => (await rows(m, `${version} ON CONFLICT DO NOTHING RETURNING 'tolerant' AS way`, [tenantId, provider]))[0]?.way ?? 'skipped',
      );
    const database = app.app.get(TenantDatabase).app;
    assert.equal(await rlsTransaction(database, tenantId, (m) => attempt(m, version)), 'plain');
    const [again, after] = await rlsTransaction(database, tenantId, async (m) => [
      await attempt(m, version),
      (await rows(m, `SELECT version::int FROM finding_versions WHERE provider_id = $1`, [provider]))[0].version,
    ]);
    assert.deepEqual([again, after], ['skipped', 7]);
    // Any other error is the caller's: not retried, the transaction rolled back.
    await assert.rejects(
      rlsTransaction(database, tenantId, (m) => attempt(m, `INSERT INTO finding_versions (tenant_id, provider_id, version) VALUES ($1, $2, 'x')`)),
      (error: any) => error.driverError?.code === '22P02',
    );
  });

  it('stores values that need escaping in COPY, and cuts over-long ones', async () => {
    const provider = await insertProvider(admin, tenantId);
    const startedAt = new Date(Date.now() - 600_000);
    const scanId = await insertScan(admin, tenantId, provider, startedAt);
    const awkward = 'tab\there\nnew line \\ backslash \r and \u0000 nul, "quotes", ünïcode';
    const record: IngestionRecord = {
      uid: 'u'.repeat(400),
      checkId: 'ec2_awkward',
      checkTitle: awkward,
      status: 'FAIL',
      statusExtended: awkward,
      severity: 'high',
      muted: true,
      region: 'eu-west-1',
      service: 'ec2',
      resourceType: 'AwsEc2Instance',
      resources: [{ uid: 'arn:awkward\\1', name: awkward, region: 'eu-west-1', service: 'ec2', type: 'AwsEc2Instance', tags: { 'k\t1': 'v\n1' } }],
      compliance: { 'CIS-2.0': ['1.1', '1\t2'] },
    };
    await ingestScan(app, { tenantId, scanId, providerId: provider, scanStartedAt: startedAt }, [record]);
    const stored = await admin.query(`SELECT uid, check_title, status_extended, muted, compliance FROM findings WHERE scan_id = $1`, [scanId]);
    const expected = awkward.replace('\u0000', '');
    assert.equal(stored.rows[0].uid.length, 300);
    assert.equal(stored.rows[0].check_title, expected);
    assert.equal(stored.rows[0].muted, true);
    assert.deepEqual(stored.rows[0].compliance, record.compliance);
    const resource = await admin.query(`SELECT name FROM resources WHERE provider_id = $1`, [provider]);
    assert.equal(resource.rows[0].name, expected);
  });

  it('stores compliance maps and tags holding a NUL or half a surrogate pair, which jsonb refuses, without them', async () => {
    const provider = await insertProvider(admin, tenantId);
    const startedAt = new Date(Date.now() - 580_000);
    const scanId = await insertScan(admin, tenantId, provider, startedAt);
    const record: IngestionRecord = {
      uid: 'jsonb-awkward',
      checkId: 'ec2_awkward_json',
      checkTitle: 'Awkward JSON',
      status: 'FAIL',
      statusExtended: 'fails\ud800',
      severity: 'low',
      muted: false,
      region: 'eu-west-1',
      service: 'ec2',
      resourceType: 'AwsEc2Instance',
      resources: [{ uid: 'arn:jsonb-awkward', name: 'n', region: 'eu-west-1', service: 'ec2', type: 'AwsEc2Instance', tags: { 'k\u00001': 'v\ud800', 'back\\u0000slash': 'x' } }],
      compliance: { 'CIS\u0000-2.0': ['1.1\udc00', 'a\\u0000b'], 'ISO-\ud83d\udd12': ['A.9'] },
    };
    await ingestScan(app, { tenantId, scanId, providerId: provider, scanStartedAt: startedAt }, [record]);
    const [stored] = (await admin.query(`SELECT status_extended, compliance FROM findings WHERE scan_id = $1`, [scanId])).rows;
    assert.equal(stored.status_extended, 'fails\ufffd', 'as in the text columns');
    assert.deepEqual(stored.compliance, { 'CIS-2.0': ['1.1\ufffd', 'a\\u0000b'], 'ISO-\ud83d\udd12': ['A.9'] });
    const tags = await admin.query(
      `SELECT t.key, t.value FROM resource_tags t JOIN resource_tag_links l ON l.tag_id = t.id JOIN resources r ON r.id = l.resource_id
        WHERE r.provider_id = $1 ORDER BY t.key`,
      [provider],
    );
    assert.deepEqual(tags.rows, [{ key: 'back\\u0000slash', value: 'x' }, { key: 'k1', value: 'v\ufffd' }]);
  });

  it('stores each finding with its own compliance map, whether its batch shares the map with other findings or not', async () => {
    const provider = await insertProvider(admin, tenantId);
    const startedAt = new Date(Date.now() - 590_000);
    const scanId = await insertScan(admin, tenantId, provider, startedAt);
    const maps: Array<Record<string, string[]>> = [{ 'CIS-2.0': ['1.1'] }, { 'CIS-2.0': ['1.1'], 'ISO27001-2013': ['A.9'] }, {}, { 'CIS-2.0': ['1.2'] }];
    const records: IngestionRecord[] = Array.from({ length: 12 }, (_, index) => ({
      uid: `compliance-${index}`,
      checkId: `check_${index % 4}`,
      checkTitle: 'Mapped',
      status: 'FAIL',
      statusExtended: 'fails',
      severity: 'medium',
      muted: false,
      region: 'eu-west-1',
      service: 'ec2',
      resourceType: 'AwsEc2Instance',
      resources: [],
      // Three findings share each map but the last, which one finding alone has.
      compliance: index === 11 ? { 'PCI-4.0': ['7.2.1'] } : maps[index % 4],
    }));
    await ingestScan(app, { tenantId, scanId, providerId: provider, scanStartedAt: startedAt }, records);
    const stored = await admin.query(`SELECT uid, compliance FROM findings WHERE scan_id = $1`, [scanId]);
    const byUid = new Map(stored.rows.map((row: { uid: string; compliance: unknown }) => [row.uid, row.compliance]));
    assert.equal(byUid.size, records.length);
    for (const record of records) assert.deepEqual(byUid.get(record.uid), record.compliance, record.uid);
  });

  it("keeps a resource's tag links to what its latest record says, across batches and scans", async () => {
    const provider = await insertProvider(admin, tenantId);
    const record = (uid: string, resource: string, tags: Record<string, string>): IngestionRecord => ({
      uid,
      checkId: 'ec2_tagged',
      checkTitle: 'Tagged',
      status: 'PASS',
      statusExtended: 'passes',
      severity: 'low',
      muted: false,
      region: 'eu-west-1',
      service: 'ec2',
      resourceType: 'AwsEc2Instance',
      resources: [{ uid: resource, name: resource, region: 'eu-west-1', service: 'ec2', type: 'AwsEc2Instance', tags }],
      compliance: {},
    });
    const tagsOf = async () => {
      const result = await admin.query(
        `SELECT r.uid, array_agg(t.key || '=' || t.value ORDER BY t.key) AS tags FROM resources r
           JOIN resource_tag_links l ON l.resource_id = r.id JOIN resource_tags t ON t.id = l.tag_id
          WHERE r.provider_id = $1 GROUP BY r.uid`,
        [provider],
      );
      return Object.fromEntries(result.rows.map((r) => [r.uid, r.tags]));
    };
    const importScan = async (minutesAgo: number, records: IngestionRecord[]) => {
      const startedAt = new Date(Date.now() - minutesAgo * 60_000);
      const scanId = await insertScan(admin, tenantId, provider, startedAt);
      await ingestScan(app, { tenantId, scanId, providerId: provider, scanStartedAt: startedAt }, records, { batchSize: 1 });
    };

    // One import whose second batch names the first batch's resource again with other tags: the later record wins.
    await importScan(30, [
      record('f1', 'res-a', { env: 'prod', team: 'one' }),
      record('f2', 'res-a', { env: 'prod', team: 'two' }),
      record('f3', 'res-b', { owner: 'x' }),
    ]);
    assert.deepEqual(await tagsOf(), { 'res-a': ['env=prod', 'team=two'], 'res-b': ['owner=x'] });

    // A later scan: a tag changes its value, one goes, one is added, and a resource loses all of its tags.
    await importScan(20, [record('f1', 'res-a', { team: 'two', cost: 'low' }), record('f3', 'res-b', {})]);
    assert.deepEqual(await tagsOf(), { 'res-a': ['cost=low', 'team=two'] });
  });
});
