import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { TenantDatabase } from '../../src/database/tenant-database';
import { principalTransaction, rlsTransaction } from '../../src/database/rls-transaction';
import { Principal } from '../../src/database/tenant-context';
import { aggregateScan } from '../../src/findings/overviews/scan-aggregation';
import { FINDING_LIST } from '../../src/findings/finding-list-spec';
import { selectFindings } from '../../src/findings/finding-selection';
import { walkingInIdOrder } from '../../src/findings/query/id-order-walk';
import { providerScopeSql } from '../../src/findings/query/provider-scope';
import { parseQuery } from '../../src/common/jsonapi/query-parser';
import { SearchWindow, searchWindows } from '../../src/findings/query/search-word-ranges';
import { idRangeOfMs, uuidAtMs } from '../../src/findings/storage/finding-ids';
import { IngestionRecord } from '../../src/findings/ingestion/ingestion-record';
import { QueryRunner } from 'typeorm';
import { FindingWordRanges1763800000250 } from '../../migrations/1763800000250-finding-word-ranges';
import { adminClient } from '../support/database';
import { inSchema, scratchSchema } from '../support/rls-policy-check';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { signUp, SignedUpUser } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';

const DAY = 86_400_000;

/**
 * A findings search with no date or scan filter reads only the providers
 * and days in which every word it asks for was seen: it must still find
 * exactly what the full-text match finds over every finding of the tenant,
 * whether the scans' words are recorded yet or not.
 */
describe('findings search without a date window (finding_word_ranges)', () => {
  let admin: Client;
  let app: TestApp;
  let owner: SignedUpUser;
  let other: SignedUpUser;
  const providers: Record<'a' | 'b', string> = { a: '', b: '' };
  const starts = { aOld: new Date(Date.now() - 40 * DAY), aNew: new Date(Date.now() - DAY), b: new Date(Date.now() - 2 * DAY) };
  let unrecordedScan = '';

  /** The generator's findings, one of them with `extra` words added to its text. */
  function records(key: string, count: number, extra: string, scanIndex = 0): IngestionRecord[] {
    return [...generateRecords({ providerKey: key, count, scanIndex })].map((r, i) => (i === 3 ? { ...r, statusExtended: `${r.statusExtended} ${extra}` } : r));
  }

  before(async () => {
    admin = await adminClient();
    app = await startTestApp();
    owner = await signUp(app.baseUrl, 'word-ranges');
    other = await signUp(app.baseUrl, 'word-ranges-other');
    providers.a = await insertProvider(admin, owner.tenantId, 'aws', '333333333333');
    providers.b = await insertProvider(admin, owner.tenantId, 'aws', '444444444444');
    const scan = async (provider: 'a' | 'b', startedAt: Date, found: IngestionRecord[], aggregate: boolean) => {
      const scanId = await insertScan(admin, owner.tenantId, providers[provider], startedAt);
      await ingestScan(app, { tenantId: owner.tenantId, scanId, providerId: providers[provider], scanStartedAt: startedAt }, found, { aggregate });
      return scanId;
    };
    // The old scan of a holds the only 'Zephyr-Quill' (a month before anything else); b's scan, not aggregated, 'Nimbus'.
    await scan('a', starts.aOld, records('a', 120, 'Zephyr-Quill was here'), true);
    await scan('a', starts.aNew, records('a', 150, 'only-new', 1), true);
    unrecordedScan = await scan('b', starts.b, records('b', 90, 'Nimbus'), false);
    const otherProvider = await insertProvider(admin, other.tenantId, 'aws', '555555555555');
    const otherScan = await insertScan(admin, other.tenantId, otherProvider, starts.b);
    await ingestScan(app, { tenantId: other.tenantId, scanId: otherScan, providerId: otherProvider, scanStartedAt: starts.b }, records('o', 50, 'Zephyr-Quill'));
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  /** The ids the full-text match finds among every finding of the tenant, by hand. */
  async function matching(tenantId: string, query: string): Promise<string[]> {
    const { rows } = await admin.query(
      `SELECT f.id FROM findings f
        WHERE f.tenant_id = $1 AND to_tsvector('simple', coalesce(f.status_extended, '')) @@ plainto_tsquery('simple', $2)
        ORDER BY f.id`,
      [tenantId, query],
    );
    return rows.map((r) => r.id);
  }

  /** Every page of the search, and the count the first page gave. */
  async function searched(user: SignedUpUser, query: string): Promise<string[]> {
    const ids: string[] = [];
    let count = -1;
    for (let page = 1; ; page++) {
      const result = await user.client.get(`/api/v1/findings?filter[search]=${encodeURIComponent(query)}&page[size]=100&page[number]=${page}&fields[findings]=uid`);
      assert.equal(result.status, 200, JSON.stringify(result.body));
      if (page === 1) count = result.body.meta.pagination.count;
      ids.push(...result.body.data.map((f: { id: string }) => f.id));
      if (result.body.data.length < 100) break;
    }
    assert.equal(count, ids.length, query);
    return ids.sort();
  }

  /** A tenant's owner, seeing every provider. */
  function ownerOf(user: SignedUpUser): Principal {
    return { userId: user.userId, tenantId: user.tenantId, roleId: null, roleIds: [], permissions: new Set(), membershipRole: 'owner', visibleProviderIds: null };
  }

  async function windows(user: SignedUpUser, query: string): Promise<SearchWindow[]> {
    const found = await principalTransaction(app.app.get(TenantDatabase).app, ownerOf(user), (m) => searchWindows(m, query, (c) => providerScopeSql(c, [])), true);
    return found.sort((x, y) => x.providerId.localeCompare(y.providerId));
  }

  const QUERIES = ['passes', 'does not pass', 'zephyr-quill', 'Zephyr', 'quill was', 'nimbus', 'only-new', 'ec2-res-1', 'passes zephyr', 'nimbus zephyr', 'no-such-word', '!!!'];

  it('finds exactly what the full-text match finds, with a scan whose words are not recorded yet and once they are', async () => {
    for (const query of QUERIES) assert.deepEqual(await searched(owner, query), await matching(owner.tenantId, query), query);
    assert.ok((await matching(owner.tenantId, 'zephyr-quill')).length === 1 && (await matching(owner.tenantId, 'nimbus')).length === 1);

    await rlsTransaction(app.app.get(TenantDatabase).app, owner.tenantId, (m) => aggregateScan(m, unrecordedScan));
    for (const query of QUERIES) assert.deepEqual(await searched(owner, query), await matching(owner.tenantId, query), `${query}, all recorded`);
  });

  it('reads only the providers and days in which every word was seen', async () => {
    const scanMs = (d: Date) => ({ from: uuidAtMs(d.getTime()), to: idRangeOfMs(d.getTime()).to });
    const a = (from: Date, to: Date) => ({ providerId: providers.a, from: scanMs(from).from, to: scanMs(to).to });
    const b = { providerId: providers.b, ...scanMs(starts.b) };
    const sorted = (list: SearchWindow[]) => list.sort((x, y) => x.providerId.localeCompare(y.providerId));
    // Every scan is recorded by now (the test before aggregated b's).
    assert.deepEqual(await windows(owner, 'zephyr-quill'), [a(starts.aOld, starts.aOld)]);
    assert.deepEqual(await windows(owner, 'only-new'), [a(starts.aNew, starts.aNew)]);
    assert.deepEqual(await windows(owner, 'passes'), sorted([a(starts.aOld, starts.aNew), b]));
    // Seen in one provider, but never together, or in different providers: nowhere to read.
    assert.deepEqual(await windows(owner, 'zephyr only-new'), []);
    assert.deepEqual(await windows(owner, 'nimbus zephyr'), []);
    assert.deepEqual(await windows(owner, 'no-such-word'), []);
    assert.deepEqual(await windows(owner, '!!!'), []);

    // A scan whose words are not recorded may hold any word.
    await admin.query(`UPDATE scan_ingestions SET words_recorded_at = NULL WHERE scan_id = $1`, [unrecordedScan]);
    try {
      assert.deepEqual(await windows(owner, 'no-such-word'), [b]);
      assert.deepEqual(await windows(owner, 'zephyr-quill'), sorted([a(starts.aOld, starts.aOld), b]));
    } finally {
      await admin.query(`UPDATE scan_ingestions SET words_recorded_at = now() WHERE scan_id = $1`, [unrecordedScan]);
    }
  });

  it("looks up only the tenant's own words, by the index, under its policy", async () => {
    // The other tenant holds 'Zephyr-Quill' too; each sees only its own.
    assert.deepEqual(await searched(other, 'zephyr-quill'), await matching(other.tenantId, 'zephyr-quill'));
    assert.equal((await searched(other, 'zephyr-quill')).length, 1);
    assert.equal((await windows(other, 'zephyr-quill')).length, 1);
    assert.deepEqual(await windows(other, 'only-new'), []);
    assert.deepEqual(await searched(other, 'only-new'), []);

    // With statistics and the index preferred, the app role's look-up uses it: text equality may run before the tenant policy.
    await admin.query('ANALYZE finding_word_ranges');
    const plan = await principalTransaction(app.app.get(TenantDatabase).app, ownerOf(owner), async (m) => {
      await m.query('SET LOCAL enable_seqscan = off');
      const rows = await m.query(`EXPLAIN SELECT provider_id FROM finding_word_ranges WHERE word = ANY(tsvector_to_array(to_tsvector('simple', $1::text)))`, ['zephyr-quill']);
      return rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    }, true);
    assert.match(plan, /Index (Only )?Scan (using|on) finding_word_ranges_pkey/, plan);
    assert.match(plan, /Index Cond: .*word = ANY/, plan);
  });

  it('walks a search page newest first in the index, and puts the planner settings back', async () => {
    const setting = async (m: import('typeorm').EntityManager) => (await m.query(`SELECT current_setting('enable_bitmapscan') AS b, current_setting('jit') AS j`))[0];
    await principalTransaction(app.app.get(TenantDatabase).app, ownerOf(owner), async (m) => {
      const before = await setting(m);
      const query = parseQuery({ 'filter[search]': 'passes' }, FINDING_LIST);
      const { conditions } = await selectFindings(m, query.filters, 'all', { predicate: async () => null });
      const explain = `EXPLAIN SELECT f.id FROM findings f ${conditions.where()} ORDER BY f.id DESC LIMIT 51`;
      const plan = await walkingInIdOrder(m, async () => (await m.query(explain, conditions.params)).map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
      assert.match(plan, /Index Scan Backward using findings_p\d{4}_\d{2}_pkey/, plan);
      assert.doesNotMatch(plan, /Sort|Bitmap|Gather/, plan);
      assert.deepEqual(await setting(m), before);
    }, true);
  });

  it('the migration records the words of the scans already stored, as the aggregation would have', async () => {
    const schema = await scratchSchema(admin);
    try {
      // The tenant's stored scans and findings, copied where the migration's unqualified names find them first.
      await inSchema(admin, schema, [
        `CREATE TABLE scan_ingestions AS SELECT tenant_id, scan_id, provider_id, started_at FROM public.scan_ingestions WHERE tenant_id = '${owner.tenantId}'`,
        `CREATE TABLE findings AS SELECT tenant_id, scan_id, status_extended FROM public.findings WHERE tenant_id = '${owner.tenantId}'`,
      ]);
      const statements: string[] = [];
      await new FindingWordRanges1763800000250().up({ query: async (sql: string) => void statements.push(sql) } as unknown as QueryRunner);
      await inSchema(admin, schema, statements);
      const ranges = async (from: string) =>
        (await admin.query(`SELECT provider_id, word, first_scan_at, last_scan_at FROM ${from}.finding_word_ranges WHERE tenant_id = $1 ORDER BY provider_id, word`, [owner.tenantId])).rows;
      const recorded = await ranges('public');
      assert.ok(recorded.length > 20, `${recorded.length} words`);
      assert.deepEqual(await ranges(schema), recorded);
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.scan_ingestions WHERE words_recorded_at IS NULL`);
      assert.equal(rows[0].n, 0);
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });
});
