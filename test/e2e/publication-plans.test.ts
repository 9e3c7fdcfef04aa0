import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { ingestBatch } from '../../src/findings/ingestion/ingest-batch';
import { IngestionRecord, IngestionScan } from '../../src/findings/ingestion/ingestion-record';
import { publishScan } from '../../src/findings/ingestion/scan-publication';
import { aggregateScanCompliance } from '../../src/findings/compliance/compliance-aggregation';
import { partitionsOfMonth } from '../../src/findings/storage/finding-partitions';
import { uniqueResourceCount } from '../../src/scans/execution/scan-execution.service';
import { generateOcsfRecords } from '../../src/scans/ocsf/ocsf-generator';
import { normaliseOcsfFinding } from '../../src/scans/ocsf/ocsf-record';
import { adminClient } from '../support/database';
import { appDataSource, ensurePartitionsSince, insertCompletedScan, insertProviderRow, insertTenant } from '../support/bench-ingestion';
import { batches, generateRecords } from '../support/finding-generator';

const FINDINGS = 3000;

/**
 * Publication reads every finding of the scan it publishes, twice (the
 * running totals, the latest state), an import counts the scan's distinct
 * resources just before, and the compliance job summarises them beside the
 * overview job, all while the month partition's statistics may still
 * predate them. The plans it runs are read back from PostgreSQL's
 * auto_explain, as notices on the publishing connection.
 */
describe('scan publication plans', () => {
  let admin: Client;
  let app: DataSource;
  let explaining: DataSource;
  const plans: string[] = [];

  before(async () => {
    admin = await adminClient();
    app = await appDataSource(process.env.DATABASE_URL!, 1);
    // One connection, opened as the server's superuser (auto_explain is loaded per session), then acting as the app role.
    explaining = await appDataSource(process.env.DATABASE_ADMIN_URL!, 1);
    const appRole = new URL(process.env.DATABASE_URL!).username;
    const runner = explaining.createQueryRunner();
    const connection = (await runner.connect()) as Client;
    connection.on('notice', (notice) => {
      if (notice.message?.startsWith('duration:')) plans.push(notice.message);
    });
    await runner.query(
      `LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_level = notice; SET client_min_messages = notice; SET ROLE ${appRole}`,
    );
    await runner.release();
  });
  after(async () => {
    await explaining.destroy();
    await app.destroy();
    await admin.end();
  });

  it("reads the scan's findings page by page in heap order, not row by row through the primary key, joins by hashing, and puts the planner's settings back", async () => {
    const tenantId = await insertTenant(admin, 'publication plans');
    const providerId = await insertProviderRow(admin, tenantId, '123456789012');
    const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await ensurePartitionsSince(admin, startedAt);
    const scan: IngestionScan = { tenantId, providerId, scanStartedAt: startedAt, scanId: await insertCompletedScan(admin, tenantId, providerId, startedAt) };
    // Statistics taken before the scan's rows exist, as they are when a scan is published (the overview job takes them after).
    const [findingsPartition] = partitionsOfMonth(startedAt);
    await admin.query(`ANALYZE ${findingsPartition.name}`);
    for (const batch of batches(generateRecords({ providerKey: 'plans', count: FINDINGS }), 1000)) {
      await rlsTransaction(app, tenantId, (m) => ingestBatch(m, scan, batch));
    }

    const { resources, settingsAfter } = await rlsTransaction(explaining, tenantId, async (m) => {
      const counted = await uniqueResourceCount(m, { scanId: scan.scanId, startedAt });
      assert.equal(await publishScan(m, scan), true);
      // The compliance job runs beside the overview job, which takes the statistics: it may read before they are.
      const compliance = await aggregateScanCompliance(m, scan.scanId);
      assert.ok(compliance.check_rows > 0 && compliance.requirement_rows > 0);
      const settings = `SELECT current_setting('enable_indexscan') AS indexscan, current_setting('enable_nestloop') AS nestloop,
                               current_setting('enable_mergejoin') AS mergejoin, current_setting('enable_sort') AS sort, current_setting('jit') AS jit`;
      return { resources: counted, settingsAfter: (await m.query(settings))[0] };
    });
    assert.deepEqual(settingsAfter, { indexscan: 'on', nestloop: 'on', mergejoin: 'on', sort: 'on', jit: 'on' });

    const planOf = (statement: string) => {
      const found = plans.filter((plan) => plan.includes(statement) && plan.includes(findingsPartition.name));
      assert.equal(found.length, 1, `one plan of the ${statement} statement reading ${findingsPartition.name}: ${plans.join('\n\n')}`);
      return found[0];
    };
    const reads = ['INSERT INTO finding_counts', 'INSERT INTO finding_latest', 'SELECT DISTINCT l.resource_id', 'INSERT INTO scan_check_summaries', 'INSERT INTO compliance_requirement_summaries'];
    for (const statement of reads) {
      const plan = planOf(statement);
      assert.match(plan, new RegExp(`Bitmap Heap Scan on ${findingsPartition.name}`), plan);
      assert.doesNotMatch(plan, /(?<!Bitmap )Index (Only )?Scan/, plan);
    }
    // The totals hash their handful of groups rather than sort the scan's rows to group them.
    assert.match(planOf('INSERT INTO finding_counts'), /HashAggregate/);
    assert.doesNotMatch(planOf('INSERT INTO finding_counts'), /Sort/);
    // The scan's distinct resources: its links and its findings each read once, joined by hashing, not probed per finding.
    const resourcesPlan = planOf('SELECT DISTINCT l.resource_id');
    assert.match(resourcesPlan, /Hash Join/);
    assert.doesNotMatch(resourcesPlan, /Nested Loop|Merge Join/);
    const stagedResources = await admin.query(
      `SELECT count(DISTINCT l.resource_id)::int AS n FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE f.scan_id = $1`,
      [scan.scanId],
    );
    assert.equal(resources, stagedResources.rows[0].n);
    assert.ok(resources > 0);

    const stored = await admin.query(
      `SELECT (SELECT sum(findings)::int FROM finding_counts WHERE provider_id = $1) AS totals,
              (SELECT count(*)::int FROM finding_latest WHERE provider_id = $1 AND last_scan_id = $2) AS latest`,
      [providerId, scan.scanId],
    );
    assert.deepEqual(stored.rows[0], { totals: FINDINGS, latest: FINDINGS });
  });

  it('joins a batch’s staging tables, which have no statistics, by hashing rather than sorting both sides', async () => {
    const tenantId = await insertTenant(admin, 'staging joins');
    const providerId = await insertProviderRow(admin, tenantId, '210987654321');
    const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    await ensurePartitionsSince(admin, startedAt);
    const scan: IngestionScan = { tenantId, providerId, scanStartedAt: startedAt, scanId: await insertCompletedScan(admin, tenantId, providerId, startedAt) };
    const seen = plans.length;
    // Records as an import stages them (resources with their details and metadata), whose pages the planner costs.
    const records: IngestionRecord[] = [];
    for (const raw of generateOcsfRecords({ providerType: 'aws', accountUid: '210987654321', count: 5000, seed: 3 })) {
      const { record } = normaliseOcsfFinding(raw);
      if (record) records.push(record);
    }
    await rlsTransaction(explaining, tenantId, (m) => ingestBatch(m, scan, records));

    const links = plans.slice(seen).filter((plan) => plan.includes('INSERT INTO resource_finding_links'));
    assert.equal(links.length, 1, plans.slice(seen).join('\n\n'));
    assert.match(links[0], /Hash Join/, links[0]);
    assert.doesNotMatch(links[0], /Merge Join|Sort Key/, links[0]);
    const stored = await admin.query(`SELECT count(*)::int AS n FROM resource_finding_links l JOIN findings f ON f.id = l.finding_id WHERE f.scan_id = $1`, [scan.scanId]);
    assert.equal(stored.rows[0].n, records.reduce((sum, record) => sum + new Set(record.resources.map((r) => r.uid)).size, 0));
  });
});
