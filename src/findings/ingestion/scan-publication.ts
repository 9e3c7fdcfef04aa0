import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { insertPlainlyUnlessStored } from '../../database/unique-violation-fallback';
import { idRangeOfMs } from '../storage/finding-ids';
import { readingWholeScan } from '../storage/whole-scan-reads';
import { deleteScanFindingsBatch } from '../storage/findings-deletion';
import { IngestionScan } from './ingestion-record';

/**
 * A scan's batches are written in transactions of their own (writeBatch),
 * into a scan readers cannot see: its findings and links are reached only
 * through scan_ingestions, which has no row for it yet, the resources only it
 * has seen carry its id in first_scan_id (hidden while it is listed in
 * unpublished_scans), and the latest state and running totals have not moved. Publication makes all of it visible at once;
 * discarding removes it.
 */

/** $1 tenant, $2 scan, $3 provider, $4 scan start. Answers a row only the first time: a scan is published once. */
const LIST_INGESTED_SQL = `
  INSERT INTO scan_ingestions (scan_id, tenant_id, provider_id, started_at) VALUES ($2, $1, $3, $4)
  ON CONFLICT (scan_id) DO NOTHING
  RETURNING scan_id`;

/** $1 tenant, $2 scan, $3 provider, $4 and $5 the scan's id range. The running totals take the scan's findings. */
const ADD_TOTALS_SQL = `
  INSERT INTO finding_counts AS c (tenant_id, provider_id, status, severity, muted, delta, findings)
  SELECT $1, $3, f.status, f.severity, f.muted, COALESCE(f.delta, ''), count(*)
    FROM findings f WHERE f.scan_id = $2 AND f.id >= $4::uuid AND f.id < $5::uuid
   GROUP BY f.status, f.severity, f.muted, COALESCE(f.delta, '')
  ON CONFLICT (tenant_id, provider_id, status, severity, muted, delta) DO UPDATE SET findings = c.findings + EXCLUDED.findings`;

/**
 * $1 tenant, $2 scan, $3 provider, $4 and $5 the scan's id range. The latest
 * state of a provider's first published scan, which finds none: a plain
 * insert (see insertPlainlyUnlessStored; 300,000 rows took 1.6-1.8 s against
 * 3.0-3.1 s for MOVE_LATEST_SQL). A scan's uids are distinct (its finding ids
 * derive from them). In key order: the index is then filled page by page
 * rather than at random.
 */
const FIRST_LATEST_SQL = `
  INSERT INTO finding_latest AS l (tenant_id, provider_id, uid, status, severity, first_seen_at, last_finding_id, last_scan_id)
  SELECT $1, $3, f.uid, f.status, f.severity, f.first_seen_at, f.id, $2
    FROM findings f WHERE f.scan_id = $2 AND f.id >= $4::uuid AND f.id < $5::uuid
   ORDER BY f.uid`;

/**
 * The same for any later scan: the latest state moves to the scan's
 * findings; a scan published out of order never overwrites the state of a
 * later one. first_seen_at stays as it was for a uid already known (the
 * finding carries the same value).
 */
const MOVE_LATEST_SQL = `${FIRST_LATEST_SQL}
  ON CONFLICT (tenant_id, provider_id, uid) DO UPDATE
     SET status = EXCLUDED.status, severity = EXCLUDED.severity,
         last_finding_id = EXCLUDED.last_finding_id, last_scan_id = EXCLUDED.last_scan_id
   WHERE l.last_finding_id < EXCLUDED.last_finding_id`;

/** $1 tenant, $2 provider. */
const HAS_LATEST_SQL = `SELECT EXISTS (SELECT 1 FROM finding_latest WHERE tenant_id = $1 AND provider_id = $2) AS known`;

/** $1 scan. */
const UNLIST_UNPUBLISHED_SQL = `DELETE FROM unpublished_scans WHERE scan_id = $1`;

/** $1 tenant, $2 provider: cached reads of the provider's data are not reused past publication. */
const BUMP_VERSION_SQL = `
  INSERT INTO finding_versions AS v (tenant_id, provider_id, version) VALUES ($1, $2, 1)
  ON CONFLICT (tenant_id, provider_id) DO UPDATE SET version = v.version + 1`;

/**
 * Publishes a scan whose batches are all written, in the caller's tenant
 * transaction: scan_ingestions lists it (the findings reads find it there)
 * and unpublished_scans no longer does (which also shows the resources it
 * saw first), the running totals and the latest state take its findings,
 * and the provider's findings version moves. A scan already published is
 * left as it is (answers false).
 */
export async function publishScan(manager: EntityManager, scan: IngestionScan): Promise<boolean> {
  const { tenantId, scanId, providerId } = scan;
  // As the batches cut it: ids carry milliseconds.
  const startedMs = Math.floor(scan.scanStartedAt.getTime());
  const range = idRangeOfMs(startedMs);
  const listed = await rows(manager, LIST_INGESTED_SQL, [tenantId, scanId, providerId, new Date(startedMs)]);
  await affected(manager, UNLIST_UNPUBLISHED_SQL, [scanId]);
  if (listed.length === 0) return false;
  const [{ known }] = await rows<{ known: boolean }>(manager, HAS_LATEST_SQL, [tenantId, providerId]);
  const params = [tenantId, scanId, providerId, range.from, range.to];
  // Both read every finding of the scan (see readingWholeScan).
  await readingWholeScan(manager, async () => {
    await affected(manager, ADD_TOTALS_SQL, params);
    await moveLatestState(manager, params, known);
  });
  await affected(manager, BUMP_VERSION_SQL, [tenantId, providerId]);
  return true;
}

/**
 * Moves the latest state to the scan's findings: with the plain insert when
 * the provider had no latest state (`known` false), unless a row appeared
 * meanwhile (another publication of the provider), when the upsert runs instead.
 */
async function moveLatestState(manager: EntityManager, params: unknown[], known: boolean): Promise<void> {
  const upsert = () => affected(manager, MOVE_LATEST_SQL, params);
  if (known) await upsert();
  else await insertPlainlyUnlessStored(manager, () => affected(manager, FIRST_LATEST_SQL, params), upsert);
}

/** An unpublished scan whose rows are to be removed. */
export interface UnpublishedScan {
  scanId: string;
  startedAt: Date;
}

/**
 * $1 provider, $2 the scan about to be written. Unpublished scans whose rows
 * must go before it writes: an earlier attempt of the same scan (a retried
 * job starts clean), and the provider's scans that are no longer executing
 * (their worker died, or their cleanup failed). A scan runs one at a time
 * per provider, so no other scan of it is still writing.
 */
const LEFTOVERS_SQL = `
  SELECT u.scan_id, u.started_at FROM unpublished_scans u
   WHERE u.provider_id = $1
     AND (u.scan_id = $2 OR NOT EXISTS (SELECT 1 FROM scans s WHERE s.id = u.scan_id AND s.state = 'executing'))
   ORDER BY u.started_at`;

export async function unpublishedLeftovers(manager: EntityManager, providerId: string, scanId: string): Promise<UnpublishedScan[]> {
  const found = await rows<{ scan_id: string; started_at: Date }>(manager, LEFTOVERS_SQL, [providerId, scanId]);
  return found.map((row) => ({ scanId: row.scan_id, startedAt: row.started_at }));
}

/**
 * $1 tenant, $2 scan, $3 batch size. Resources only the scan had seen, with
 * their tag links (a data-modifying WITH runs whether or not it is read).
 */
const DISCARD_RESOURCES_SQL = `
  WITH doomed AS (
    SELECT r.id FROM resources r WHERE r.tenant_id = $1 AND r.first_scan_id = $2 LIMIT $3
  ), tags AS (
    DELETE FROM resource_tag_links l USING doomed d WHERE l.tenant_id = $1 AND l.resource_id = d.id
  )
  DELETE FROM resources r USING doomed d WHERE r.id = d.id`;

/** Runs one step in a tenant transaction of its own. */
export type TenantStep = <T>(step: (manager: EntityManager) => Promise<T>) => Promise<T>;

/**
 * Removes what an unpublished scan wrote, `batchSize` rows per transaction:
 * its findings with their links, then the resources only it had seen (with
 * their tag links), then its listing. A published scan is never touched:
 * only its stale listing goes. Tag names (resource_tags) and check facts
 * (check_metadata) stay: they are shared by the tenant, and no read shows
 * them apart from what uses them.
 */
export async function discardUnpublishedScan(run: TenantStep, tenantId: string, scan: UnpublishedScan, batchSize: number): Promise<void> {
  const published = await run(async (m) => (await rows(m, `SELECT 1 FROM scan_ingestions WHERE scan_id = $1`, [scan.scanId])).length > 0);
  if (!published) {
    const range = idRangeOfMs(Math.floor(scan.startedAt.getTime()));
    for (let after = range.from; ; ) {
      const batch = await run((m) => deleteScanFindingsBatch(m, scan.scanId, after, range.to, batchSize));
      if (batch.last === null) break;
      after = batch.last;
    }
    while ((await run((m) => affected(m, DISCARD_RESOURCES_SQL, [tenantId, scan.scanId, batchSize]))) > 0);
  }
  await run((m) => affected(m, UNLIST_UNPUBLISHED_SQL, [scan.scanId]));
}
