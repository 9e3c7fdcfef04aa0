import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { AppConfig } from '../../src/config/app-config';
import { LocalAppModule } from '../../src/local-app.module';
import { TableVacuum } from '../../src/tasks/deletion/table-vacuum';
import { ProviderDataEraser } from '../../src/tasks/deletion/provider-data-eraser';
import { TenantJobContext } from '../../src/tasks/jobs/job-context';
import { newId } from '../../src/database/uuid';
import { partitionsOfMonth } from '../../src/findings/storage/finding-partitions';
import { ProviderFindingsDeletion } from '../../src/findings/storage/findings-deletion';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { TenantDatabase } from '../../src/database/tenant-database';
import { adminClient } from '../support/database';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { signUp, SignedUpUser } from '../support/http-client';
import { fastQueueEnv, pollTask, waitFor } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/** Every table that holds findings data, and how a provider's rows are found in it. */
const PROVIDER_ROWS: Record<string, string> = {
  findings: 'SELECT count(*)::int AS n FROM findings WHERE provider_id = $1',
  resource_finding_links: `SELECT count(*)::int AS n FROM resource_finding_links l JOIN resources r ON r.id = l.resource_id WHERE r.provider_id = $1`,
  resource_tag_links: `SELECT count(*)::int AS n FROM resource_tag_links l JOIN resources r ON r.id = l.resource_id WHERE r.provider_id = $1`,
  resources: 'SELECT count(*)::int AS n FROM resources WHERE provider_id = $1',
  finding_latest: 'SELECT count(*)::int AS n FROM finding_latest WHERE provider_id = $1',
  finding_counts: 'SELECT count(*)::int AS n FROM finding_counts WHERE provider_id = $1',
  finding_versions: 'SELECT count(*)::int AS n FROM finding_versions WHERE provider_id = $1',
  scan_summaries: 'SELECT count(*)::int AS n FROM scan_summaries WHERE provider_id = $1',
  scan_overview_summaries: 'SELECT count(*)::int AS n FROM scan_overview_summaries WHERE provider_id = $1',
  finding_group_summaries: 'SELECT count(*)::int AS n FROM finding_group_summaries WHERE provider_id = $1',
  scan_resource_group_summaries: 'SELECT count(*)::int AS n FROM scan_resource_group_summaries WHERE provider_id = $1',
  scan_check_fact_summaries: 'SELECT count(*)::int AS n FROM scan_check_fact_summaries WHERE provider_id = $1',
  compliance_requirement_summaries: 'SELECT count(*)::int AS n FROM compliance_requirement_summaries WHERE provider_id = $1',
  finding_word_ranges: 'SELECT count(*)::int AS n FROM finding_word_ranges WHERE provider_id = $1',
  scan_ingestions: 'SELECT count(*)::int AS n FROM scan_ingestions WHERE provider_id = $1',
  scans: 'SELECT count(*)::int AS n FROM scans WHERE provider_id = $1',
};

/**
 * Deleting providers and tenants that hold findings, through the API and the
 * in-process workers (real PostgreSQL, Redis and BullMQ).
 */
describe('findings deletion', () => {
  let admin: Client;
  let app: TestApp;
  const env = fastQueueEnv('findings-deletion');

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ ...env, WORKERS_IN_PROCESS: 'true', DELETION_BATCH_SIZE: '150' }, LocalAppModule);
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function rowsOf(providerId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const [table, sql] of Object.entries(PROVIDER_ROWS)) counts[table] = (await admin.query(sql, [providerId])).rows[0].n;
    return counts;
  }

  function providerMonths(): Date[] {
    return [new Date(Date.now() - 35 * 24 * 3600_000), new Date(Date.now() - 3600_000)];
  }

  /** A provider with two scans: one last month, one now (two partitions of each partitioned table). */
  async function providerWithFindings(user: SignedUpUser, key: string, count: number): Promise<{ providerId: string; months: Date[] }> {
    const providerId = await insertProvider(admin, user.tenantId);
    const months = providerMonths();
    for (const [index, startedAt] of months.entries()) {
      const scanId = await insertScan(admin, user.tenantId, providerId, startedAt);
      await ingestScan(app, { tenantId: user.tenantId, scanId, providerId, scanStartedAt: startedAt }, generateRecords({ providerKey: key, count, scanIndex: index }));
    }
    return { providerId, months };
  }

  it('DELETE provider removes its findings, resources and summaries in batches, leaves everyone else’s, and vacuums what it touched', async () => {
    const alice = await signUp(app.baseUrl, 'deletion-alice');
    const bob = await signUp(app.baseUrl, 'deletion-bob');
    const doomed = await providerWithFindings(alice, 'doomed', 700);
    const kept = await providerWithFindings(alice, 'kept', 300);
    const neighbour = await providerWithFindings(bob, 'neighbour', 400);
    const before = await rowsOf(doomed.providerId);
    assert.ok(Object.entries(before).every(([table, n]) => n > 0 || ['resource_tag_links', 'compliance_requirement_summaries', 'scan_resource_group_summaries'].includes(table)), JSON.stringify(before));
    const keptBefore = await rowsOf(kept.providerId);
    const neighbourBefore = await rowsOf(neighbour.providerId);
    const startedAt = (await admin.query(`SELECT now() AS now`)).rows[0].now as Date;

    const accepted = await alice.client.delete(`/api/v1/providers/${doomed.providerId}`);
    assert.equal(accepted.status, 202);
    // Hidden at once, before the job has run.
    const hidden = await alice.client.get(`/api/v1/findings?filter[provider]=${doomed.providerId}&page[size]=1`);
    assert.equal(hidden.body.meta.pagination.count, 0);

    const done = await pollTask(alice.client, accepted.body.data.id, 60000);
    assert.equal(done.attributes.state, 'completed', JSON.stringify(done.attributes.result));
    const { deleted, vacuum } = done.attributes.result;
    for (const table of ['findings', 'resource_finding_links', 'resources', 'finding_latest', 'finding_counts', 'finding_versions', 'scan_summaries', 'scan_overview_summaries', 'scan_ingestions', 'scans']) {
      assert.equal(deleted[table], before[table], table);
    }
    assert.equal(deleted.providers, 1);
    assert.deepEqual(Object.values(await rowsOf(doomed.providerId)), Object.values(PROVIDER_ROWS).map(() => 0));
    assert.deepEqual(await rowsOf(kept.providerId), keptBefore);
    assert.deepEqual(await rowsOf(neighbour.providerId), neighbourBefore);
    const still = await alice.client.get('/api/v1/findings?page[size]=1');
    assert.equal(still.body.meta.pagination.count, keptBefore.findings);

    // Both months' partitions of both partitioned tables, and the provider's other tables, were vacuumed as their owner.
    const partitions = doomed.months.flatMap((month) => partitionsOfMonth(month).map((p) => p.name));
    for (const table of [...partitions, 'resources', 'finding_latest', 'scan_summaries', 'scan_overview_summaries', 'resource_tag_links']) {
      assert.ok(vacuum.vacuumed.includes(table), `${table} in ${JSON.stringify(vacuum)}`);
      const { rows } = await admin.query(`SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = $1`, [table]);
      assert.ok(rows[0].last_vacuum >= startedAt && rows[0].last_analyze >= startedAt, `${table}: ${JSON.stringify(rows[0])}`);
    }
    assert.ok(!vacuum.vacuumed.includes('findings'), 'the partitioned parent is never vacuumed whole');
    assert.deepEqual(vacuum.notAllowed, []);
  });

  it('batches walk forward, and passes repeat until one finds nothing: rows written behind the deletion go too', async () => {
    const dave = await signUp(app.baseUrl, 'deletion-dave');
    const { providerId } = await providerWithFindings(dave, 'dave', 400);
    const database = app.app.get(TenantDatabase);
    const deletion = new ProviderFindingsDeletion(providerId, 100);
    const totals: Record<string, number> = {};
    const batch = async () => {
      const counts = await rlsTransaction(database.app, dave.tenantId, () => deletion.next());
      for (const [table, n] of Object.entries(counts ?? {})) totals[table] = (totals[table] ?? 0) + n;
      return counts;
    };
    const first = await batch();
    assert.deepEqual(first, { findings: 100, resource_finding_links: 100 });
    await batch();
    // A scan batch that commits while the deletion is under way (an ingestion that had not stopped yet).
    const late = new Date(Date.now() - 1800_000);
    const lateScan = await insertScan(admin, dave.tenantId, providerId, late);
    await ingestScan(app, { tenantId: dave.tenantId, scanId: lateScan, providerId, scanStartedAt: late }, generateRecords({ providerKey: 'dave-late', count: 250 }));
    let batches = 2;
    while (await batch()) batches++;
    assert.equal(totals.findings, 400 * 2 + 250);
    assert.equal(totals.resource_finding_links, totals.findings);
    assert.deepEqual(Object.values(await rowsOf(providerId)).slice(0, -1), Object.values(PROVIDER_ROWS).slice(0, -1).map(() => 0), 'all but the scans rows, which the eraser deletes');
    assert.ok(batches >= Math.ceil(totals.findings / 100), `${batches} batches`);
    assert.deepEqual(deletion.partitions.sort(), [...new Set([...providerMonths(), late].flatMap((m) => partitionsOfMonth(m).map((p) => p.name)))].sort());
    // Nothing is left to find.
    assert.equal(await rlsTransaction(database.app, dave.tenantId, () => new ProviderFindingsDeletion(providerId, 100).next()), null);
  });

  it('a deletion stopped midway and run again reports every row deleted, the stopped attempt\'s batches included', async () => {
    const erin = await signUp(app.baseUrl, 'deletion-erin');
    const { providerId } = await providerWithFindings(erin, 'erin', 500);
    const before = await rowsOf(providerId);
    const taskId = newId();
    // An executing deletion task: the retry sweep leaves such a provider alone.
    await admin.query(`UPDATE providers SET deleted_at = now() WHERE id = $1`, [providerId]);
    await admin.query(
      `INSERT INTO tasks (id, tenant_id, provider_id, name, queue, queue_namespace, state, task_args)
       VALUES ($1, $2, $3, 'provider-deletion', 'deletion', $4, 'executing', $5)`,
      [taskId, erin.tenantId, providerId, app.config.redis.prefix, JSON.stringify({ providerId })],
    );
    const database = app.app.get(TenantDatabase);
    const eraser = app.app.get(ProviderDataEraser);
    /** A job context whose signal fires after `batches` transactions, as a lost lock or a crash would stop it. */
    const contextStoppingAfter = (batches: number): TenantJobContext => {
      const stop = new AbortController();
      let opened = 0;
      return {
        jobId: 'direct', taskId, attempt: 1, signal: stop.signal, progress: async () => {},
        inTenant: (fn) => {
          if (++opened >= batches) stop.abort(new Error('stopped'));
          return database.transaction(erin.tenantId, fn);
        },
      };
    };
    await assert.rejects(eraser.erase(providerId, contextStoppingAfter(5)), /stopped|abort/i);
    const midway = await rowsOf(providerId);
    assert.ok(midway.findings > 0 && midway.findings < before.findings, JSON.stringify(midway));

    const { deleted } = await eraser.erase(providerId, contextStoppingAfter(Infinity));
    for (const table of ['findings', 'resource_finding_links', 'resources', 'finding_latest', 'finding_counts', 'finding_versions', 'scan_summaries', 'scans']) {
      assert.equal(deleted[table], before[table], table);
    }
    assert.equal(deleted.providers, 1);
    // The running totals are the task's, visible while it runs.
    const [task] = (await admin.query(`SELECT metadata FROM tasks WHERE id = $1`, [taskId])).rows;
    assert.deepEqual(task.metadata.deleted, deleted);
  });

  it('VACUUM runs only as a role allowed to, and says which tables it could not', async () => {
    const signal = new AbortController().signal;
    const asOwner = await new TableVacuum({ database: { adminUrl: process.env.DATABASE_ADMIN_URL } } as AppConfig).vacuumAnalyze(['scan_summaries', 'no_such_table'], signal);
    assert.ok('vacuumed' in asOwner);
    assert.deepEqual([asOwner.vacuumed, asOwner.notAllowed], [['scan_summaries'], []]);
    // The app role owns nothing: PostgreSQL would skip the table with a warning; the report says so instead.
    const asApp = await new TableVacuum({ database: { adminUrl: process.env.DATABASE_URL } } as AppConfig).vacuumAnalyze(['scan_summaries'], signal);
    assert.ok('vacuumed' in asApp);
    assert.deepEqual([asApp.vacuumed, asApp.notAllowed], [[], ['scan_summaries']]);
    await assert.rejects(new TableVacuum({} as AppConfig).vacuumAnalyze(['findings; DROP TABLE x'], signal), /not a table name/);
  });

  it('DELETE tenant removes its findings data, tags included', async () => {
    const carol = await signUp(app.baseUrl, 'deletion-carol');
    const { providerId } = await providerWithFindings(carol, 'carol', 300);
    const tagged = await admin.query(`SELECT count(*)::int AS n FROM resource_tags WHERE tenant_id = $1`, [carol.tenantId]);
    assert.ok(tagged.rows[0].n > 0);
    assert.equal((await carol.client.delete(`/api/v1/tenants/${carol.tenantId}`)).status, 204);
    await waitFor('the tenant to be gone', async () => (await admin.query(`SELECT 1 FROM tenants WHERE id = $1`, [carol.tenantId])).rowCount === 0, 60000);
    assert.deepEqual(Object.values(await rowsOf(providerId)), Object.values(PROVIDER_ROWS).map(() => 0));
    for (const table of ['resource_tags', 'mute_rules', 'findings', 'resources']) {
      const left = await admin.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [carol.tenantId]);
      assert.equal(left.rows[0].n, 0, table);
    }
  });
});
