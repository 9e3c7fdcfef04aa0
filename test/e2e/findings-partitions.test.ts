import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { LocalAppModule } from '../../src/local-app.module';
import { FindingPartitionsService } from '../../src/findings/storage/finding-partitions.service';
import { addMonths, analyzeOutgrownPartitions, partitionsOfMonth } from '../../src/findings/storage/finding-partitions';
import { FINDING_PARTITIONS_EVERY_MS, FINDING_PARTITIONS_SCHEDULER_ID } from '../../src/tasks/handlers/finding-partitions.handler';
import { adminClient } from '../support/database';
import { scratchSchema } from '../support/rls-policy-check';
import { clientRunner, insertTenant } from '../support/bench-ingestion';
import { generateRecords } from '../support/finding-generator';
import { ingestScan, insertProvider, insertScan } from '../support/findings-fixtures';
import { enqueue, fastQueueEnv, inspectQueue, waitFor, waitForTaskEnd } from '../support/tasks-fixture';
import { startTestApp, TestApp } from '../support/test-app';

/** The monthly partitions of findings and resource_finding_links: the scheduled job that keeps them, and how they are made. */
describe('finding partitions', () => {
  let admin: Client;
  let app: TestApp;
  const env = fastQueueEnv('findings-partitions');

  before(async () => {
    admin = await adminClient();
    app = await startTestApp({ ...env, WORKERS_IN_PROCESS: 'true' }, LocalAppModule);
  });
  after(async () => {
    await admin.end();
    await app.close();
  });

  async function partitionState(name: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await admin.query(
      `SELECT i.inhparent::regclass::text AS parent, c.relrowsecurity, c.relforcerowsecurity,
              (SELECT count(*)::int FROM pg_policies WHERE tablename = c.relname) AS policies,
              (SELECT count(*)::int FROM pg_index x WHERE x.indrelid = c.oid) > 0 AS indexed
         FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid WHERE c.relname = $1`,
      [name],
    );
    return rows[0];
  }

  it('a daily BullMQ job scheduler keeps the coming months’ partitions created, with their row-level security', async () => {
    const backfill = inspectQueue(app.config.redis.url, env.REDIS_PREFIX, 'backfill');
    try {
      const scheduler = await waitFor('the partition scheduler', () => backfill.getJobScheduler(FINDING_PARTITIONS_SCHEDULER_ID));
      assert.equal(Number(scheduler.every), FINDING_PARTITIONS_EVERY_MS);
      assert.equal(scheduler.name, 'finding-partitions');

      // The furthest month the job keeps holds nothing yet: take its partitions away (without
      // blocking other tests' queries on findings) and let a run of the job bring them back.
      const furthest = partitionsOfMonth(addMonths(new Date(), 2));
      for (const { parent, name } of furthest) {
        await admin.query(`ALTER TABLE ${parent} DETACH PARTITION ${name} CONCURRENTLY`);
        await admin.query(`DROP TABLE ${name}`);
      }
      const job = await backfill.add('finding-partitions', { tenantId: '', taskId: null, args: {} });
      await waitFor('the job to finish', async () => (await job.getState()) === 'completed');
      for (const { parent, name } of furthest) {
        assert.deepEqual(await partitionState(name), { parent, relrowsecurity: true, relforcerowsecurity: true, policies: 4, indexed: true }, name);
      }

      // A job naming a tenant is not one the scheduler makes: refused, not run.
      const forged = await backfill.add('finding-partitions', { tenantId: '0190a000-0000-7000-8000-000000000000', taskId: null, args: {} });
      await waitFor('the forged job to fail', async () => (await forged.getState()) === 'failed');
    } finally {
      await backfill.close();
    }
  });

  it('creating a partition does not wait for open transactions on findings, nor make queries wait', async () => {
    const reader = await adminClient();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM findings');
      await reader.query('SELECT count(*) FROM resource_finding_links');
      const month = addMonths(new Date(), 30);
      const started = Date.now();
      const created = await app.app.get(FindingPartitionsService).ensureUpcoming(month, 0);
      assert.deepEqual(created, partitionsOfMonth(month).map((p) => p.name));
      // Far below the 10 s lock timeout that an ACCESS EXCLUSIVE lock on the parent would have run into.
      assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`);
      await reader.query('SELECT count(*) FROM findings');
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
  });

  /** Statistics of the named tables: rows as last analyzed (-1 never), analyses by hand, rows changed since. */
  async function statistics(names: string[], schema = 'public'): Promise<Array<{ name: string; rows: number; analyzed: number; changed: number }>> {
    const { rows } = await admin.query(
      `SELECT c.relname AS name, c.reltuples::int AS rows, s.analyze_count::int AS analyzed, s.n_mod_since_analyze::int AS changed
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_stat_all_tables s ON s.relid = c.oid
        WHERE n.nspname = $2 AND c.relname = ANY($1) ORDER BY c.relname`,
      [names, schema],
    );
    return rows;
  }

  /** Waits until the statistics system has counted at least `rows` changes of every named table (it may lag seconds behind commits). */
  const changesCounted = (names: string[], rows: number, schema = 'public') =>
    waitFor('the change counts', async () => (await statistics(names, schema)).every((t) => t.changed >= rows) || undefined, 60_000);

  it('a month’s partitions are analyzed when never analyzed, or changed past autovacuum’s threshold since, and not otherwise', async () => {
    // Tables of the partitions' names in a schema of their own, where no other test's ANALYZE reaches.
    const month = addMonths(new Date(), 43);
    const names = partitionsOfMonth(month).map((p) => p.name).sort();
    const schema = await scratchSchema(admin);
    const runner = clientRunner(admin);
    const analyzeOutgrown = async () => {
      await admin.query('BEGIN');
      try {
        await admin.query(`SET LOCAL search_path TO ${schema}`);
        return await analyzeOutgrownPartitions(runner, month);
      } finally {
        await admin.query('COMMIT');
      }
    };
    const insert = async (rows: number) => {
      for (const name of names) await admin.query(`INSERT INTO ${schema}.${name} SELECT generate_series(1, $1)`, [rows]);
      await admin.query('SELECT pg_stat_force_next_flush()');
    };
    try {
      for (const name of names) await admin.query(`CREATE TABLE ${schema}.${name} (n int) WITH (autovacuum_enabled = false)`);
      await insert(2000);
      await changesCounted(names, 2000, schema);
      assert.ok((await statistics(names, schema)).every((t) => t.rows < 0), 'never analyzed');
      assert.deepEqual(await analyzeOutgrown(), names);
      assert.deepEqual((await statistics(names, schema)).map((t) => [t.rows, t.analyzed, t.changed]), [[2000, 1, 0], [2000, 1, 0]]);
      // Nothing changed, then fewer rows than 50 and a tenth of the table: the statistics stand.
      assert.deepEqual(await analyzeOutgrown(), []);
      await insert(240);
      await changesCounted(names, 240, schema);
      assert.deepEqual(await analyzeOutgrown(), []);
      // Past the threshold (240 + 20 > 250).
      await insert(20);
      await changesCounted(names, 260, schema);
      assert.deepEqual(await analyzeOutgrown(), names);
      assert.deepEqual((await statistics(names, schema)).map((t) => [t.rows, t.analyzed]), [[2260, 2], [2260, 2]]);
    } finally {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    }
  });

  it('the overview job analyzes the scan’s outgrown month partitions before aggregating, and does not wait for a lock on them', async () => {
    // A month no other test writes to, past the ones the partition job keeps.
    const month = addMonths(new Date(), 41);
    const names = partitionsOfMonth(month).map((p) => p.name).sort();
    const findingsPartition = names.find((name) => name.startsWith('findings_'))!;
    await app.app.get(FindingPartitionsService).ensureUpcoming(month, 0);
    // Autovacuum must not analyze them behind the test's back.
    for (const name of names) await admin.query(`ALTER TABLE ${name} SET (autovacuum_enabled = false)`);
    const tenantId = await insertTenant(admin, 'partition statistics');
    const providerId = await insertProvider(admin, tenantId, 'aws', '616161616161');
    let day = 0;
    const scanOf = async (findings: number) => {
      const startedAt = new Date(month.getTime() + ++day * 86_400_000);
      const scanId = await insertScan(admin, tenantId, providerId, startedAt);
      await ingestScan(app, { tenantId, scanId, providerId, scanStartedAt: startedAt }, generateRecords({ providerKey: 'stats', count: findings, scanIndex: day }), { aggregate: false });
      await changesCounted(names, findings);
      return scanId;
    };
    const aggregate = async (scanId: string) => {
      const task = await enqueue(app, tenantId, { name: 'scan-overview', args: { scanId, providerId } });
      assert.equal((await waitForTaskEnd(task.id, 60_000)).state, 'completed');
      const [summaries] = (await admin.query(`SELECT count(*)::int AS n FROM scan_summaries WHERE scan_id = $1`, [scanId])).rows;
      assert.ok(summaries.n > 0, 'the scan was aggregated');
    };

    // Never analyzed: the planner would take the partitions for nearly empty. (Another test's ANALYZE of the
    // parent tables analyzes every partition too, so counts are compared as at least, never as exactly.)
    const first = await scanOf(2000);
    await aggregate(first);
    const analyzed = await statistics(names);
    assert.ok(analyzed.every((t) => t.analyzed >= 1), JSON.stringify(analyzed));
    assert.equal(analyzed.find((t) => t.name === findingsPartition)!.rows, 2000);

    // Past the threshold, while another session holds the findings partition locked (a VACUUM): the job goes on without.
    const second = await scanOf(1000);
    const locker = await adminClient();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${findingsPartition} IN SHARE UPDATE EXCLUSIVE MODE`);
      const before = (await statistics([findingsPartition]))[0];
      await aggregate(second);
      assert.deepEqual((await statistics([findingsPartition]))[0], before, 'not analyzed while locked');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    await aggregate(second);
    assert.equal((await statistics([findingsPartition]))[0].rows, 3000, 'analyzed once the lock was gone');
  });
});
