import { Client } from 'pg';
import { rlsTransaction } from '../../src/database/rls-transaction';
import { TenantDatabase } from '../../src/database/tenant-database';
import { newId } from '../../src/database/uuid';
import { FindingsIngestionService } from '../../src/findings/ingestion/findings-ingestion.service';
import { INGESTION_BATCH_SIZE } from '../../src/findings/ingestion/ingestion-record';
import { IngestionRecord, IngestionScan } from '../../src/findings/ingestion/ingestion-record';
import { aggregateScan } from '../../src/findings/overviews/scan-aggregation';
import { batches } from './finding-generator';
import { TestApp } from './test-app';

/** Providers and scans inserted directly (as the owner role), as the features that own them would. */
export async function insertProvider(admin: Client, tenantId: string, provider = 'aws', uid?: string): Promise<string> {
  const id = newId();
  await admin.query(`INSERT INTO providers (id, tenant_id, provider, uid, alias) VALUES ($1, $2, $3, $4, $5)`, [
    id,
    tenantId,
    provider,
    uid ?? String(100000000000 + Math.floor(Math.random() * 899999999999)),
    `alias-${id.slice(-6)}`,
  ]);
  return id;
}

export async function insertScan(admin: Client, tenantId: string, providerId: string, startedAt: Date, state = 'completed'): Promise<string> {
  const id = newId();
  await admin.query(
    `INSERT INTO scans (id, tenant_id, provider_id, name, trigger, state, progress, started_at, completed_at)
     VALUES ($1, $2, $3, 'test scan', 'manual', $4::varchar, 100, $5, CASE WHEN $4::varchar = 'completed' THEN $5::timestamptz + interval '1 minute' END)`,
    [id, tenantId, providerId, state, startedAt],
  );
  return id;
}

/** Ingests records through the real path (partition check, batches in tenant transactions, publication), then aggregates the scan. */
export async function ingestScan(
  app: TestApp,
  scan: IngestionScan,
  records: Iterable<IngestionRecord>,
  options: { batchSize?: number; aggregate?: boolean } = {},
): Promise<number> {
  const ingestion = app.app.get(FindingsIngestionService);
  const database = app.app.get(TenantDatabase);
  await ingestion.prepareScan(scan);
  let inserted = 0;
  for (const batch of batches(records, options.batchSize ?? INGESTION_BATCH_SIZE)) {
    inserted += (await rlsTransaction(database.app, scan.tenantId, (m) => ingestion.ingestBatch(m, scan, batch))).findingsInserted;
  }
  await rlsTransaction(database.app, scan.tenantId, (m) => ingestion.publishScan(m, scan));
  if (options.aggregate !== false) await rlsTransaction(database.app, scan.tenantId, (m) => aggregateScan(m, scan.scanId));
  return inserted;
}
