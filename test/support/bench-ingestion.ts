import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { postgresOptions } from '../../src/database/data-source-options';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { newId } from '../../src/database/uuid';
import { INGESTION_BATCH_SIZE } from '../../src/findings/ingestion/ingestion-record';
import { pipelined } from '../../src/common/pipelined';
import { encodeBatch, writeBatch } from '../../src/findings/ingestion/ingest-batch';
import { publishScan } from '../../src/findings/ingestion/scan-publication';
import { IngestionRecord, IngestionScan } from '../../src/findings/ingestion/ingestion-record';
import { aggregateScanCompliance } from '../../src/findings/compliance/compliance-aggregation';
import { aggregateScan } from '../../src/findings/overviews/scan-aggregation';
import { createMonthPartitions, SqlRunner } from '../../src/findings/storage/finding-partitions';
import { batches } from './finding-generator';

/**
 * The pieces benchmarks and the seed script share: an app-role data source,
 * tenants, providers and scans inserted as the owner role, and ingestion
 * through the real batch path, outside any Nest application.
 */
export function appDataSource(url: string, poolSize = 4): Promise<DataSource> {
  return new DataSource(postgresOptions({ name: 'bench', url, poolSize, statementTimeoutMs: 0, applicationName: 'cspm-api:bench' })).initialize();
}

export async function insertTenant(admin: Client, name: string): Promise<string> {
  const id = newId();
  await admin.query(`INSERT INTO tenants (id, name) VALUES ($1, $2)`, [id, name]);
  return id;
}

export async function insertProviderRow(admin: Client, tenantId: string, uid: string, provider = 'aws'): Promise<string> {
  const id = newId();
  await admin.query(`INSERT INTO providers (id, tenant_id, provider, uid, alias) VALUES ($1, $2, $3, $4, $5)`, [id, tenantId, provider, uid, `${provider}-${uid}`]);
  return id;
}

export async function insertCompletedScan(admin: Client, tenantId: string, providerId: string, startedAt: Date): Promise<string> {
  const [id] = await insertCompletedScans(admin, [{ tenantId, providerId, startedAt }]);
  return id;
}

/** Completed scans (five minutes each) in one statement; their ids in the order given. */
export async function insertCompletedScans(admin: Client, scans: Array<{ tenantId: string; providerId: string; startedAt: Date }>): Promise<string[]> {
  const ids = scans.map(() => newId());
  await admin.query(
    `INSERT INTO scans (id, tenant_id, provider_id, name, trigger, state, progress, started_at, completed_at)
     SELECT s.id, s.tenant_id, s.provider_id, 'seeded scan', 'imported', 'completed', 100, s.started_at, s.started_at + interval '5 minutes'
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[]) AS s(id, tenant_id, provider_id, started_at)`,
    [ids, scans.map((s) => s.tenantId), scans.map((s) => s.providerId), scans.map((s) => s.startedAt)],
  );
  return ids;
}

/** A pg client as the SqlRunner the partition functions take (rows, as a TypeORM manager answers). */
export function clientRunner(admin: Client): SqlRunner {
  return { query: (sql: string, params?: unknown[]) => admin.query(sql, params).then((r) => r.rows) };
}

/** Partitions for every month from `from` to two months after now, as the partition job would keep them. */
export async function ensurePartitionsSince(admin: Client, from: Date): Promise<void> {
  const runner = clientRunner(admin);
  const end = new Date();
  end.setUTCMonth(end.getUTCMonth() + 2);
  for (let month = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1)); month <= end; month.setUTCMonth(month.getUTCMonth() + 1)) {
    await admin.query('BEGIN');
    await createMonthPartitions(runner, month);
    await admin.query('COMMIT');
  }
}

export async function ingestRecords(
  app: DataSource,
  scan: IngestionScan,
  records: Iterable<IngestionRecord>,
  onBatch: (count: number) => void = () => undefined,
): Promise<number> {
  let inserted = 0;
  // As an import does: the next batch is encoded while this one is written.
  await pipelined(
    (async function* () {
      yield* batches(records, INGESTION_BATCH_SIZE);
    })(),
    (batch) => encodeBatch(scan, batch),
    async (encoded, batch) => {
      inserted += (await rlsTransaction(app, scan.tenantId, (m) => writeBatch(m, scan, encoded))).findingsInserted;
      onBatch(batch.length);
    },
  );
  await rlsTransaction(app, scan.tenantId, (m) => publishScan(m, scan));
  return inserted;
}

export function aggregate(app: DataSource, tenantId: string, scanId: string): Promise<void> {
  return rlsTransaction(app, tenantId, async (m) => {
    await aggregateScan(m, scanId);
    await aggregateScanCompliance(m, scanId);
  });
}
