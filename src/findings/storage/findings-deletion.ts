import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { idRangeOfMs } from './finding-ids';
import { partitionsOfMonth } from './finding-partitions';

/**
 * The unpartitioned tables a provider deletion removes rows from. With the
 * month partitions its scans wrote to (ProviderFindingsDeletion.partitions),
 * they are what needs a VACUUM afterwards.
 */
export const PROVIDER_FINDINGS_TABLES = [
  'resource_tag_links',
  'finding_latest',
  'resources',
  'scan_summaries',
  'scan_overview_summaries',
  'finding_group_summaries',
  'scan_resource_group_summaries',
  'scan_check_fact_summaries',
  'compliance_requirement_summaries',
  'scan_check_summaries',
  'threatscore_snapshots',
  'finding_counts',
  'finding_versions',
  'finding_word_ranges',
  'scan_ingestions',
  'unpublished_scans',
] as const;

/**
 * One batch of a scan's findings and their resource links: $1 scan, $2 the
 * last id deleted (at first the scan's lowest possible id, which no finding
 * has), $3 the end of the scan's millisecond, $4 batch size. Walks forward
 * in id order, so a batch never steps over the index entries earlier
 * batches left dead; the constant id bounds keep each statement on the
 * scan's partition of both tables.
 * The batch's ids travel as one array, each DELETE matching `= ANY` of it
 * in an index scan bounded by the batch's last id: joined to a CTE instead,
 * the planner (which estimates a CTE at one row) compared every row of the
 * range with every doomed id, a second per batch of 1,000.
 */
const FINDINGS_BATCH_SQL = `
  WITH doomed AS (
    SELECT array_agg(s.id ORDER BY s.id) AS ids FROM (
      SELECT f.id FROM findings f
       WHERE f.id > $2::uuid AND f.id < $3::uuid AND f.scan_id = $1
       ORDER BY f.id LIMIT $4
    ) s
  ), links AS (
    DELETE FROM resource_finding_links l
     WHERE l.finding_id = ANY((SELECT ids FROM doomed)::uuid[])
       AND l.finding_id > $2::uuid AND l.finding_id < $3::uuid AND l.finding_id <= (SELECT ids[array_upper(ids, 1)] FROM doomed)
    RETURNING 1
  ), gone AS (
    DELETE FROM findings f
     WHERE f.id = ANY((SELECT ids FROM doomed)::uuid[])
       AND f.id > $2::uuid AND f.id < $3::uuid AND f.id <= (SELECT ids[array_upper(ids, 1)] FROM doomed)
    RETURNING 1
  )
  SELECT (SELECT count(*)::int FROM gone) AS findings, (SELECT count(*)::int FROM links) AS links,
         (SELECT ids[array_upper(ids, 1)] FROM doomed) AS last`;

export interface ScanFindingsBatch {
  findings: number;
  links: number;
  /** The last id deleted; null when none was left. */
  last: string | null;
}

/** Deletes the next batch of a scan's findings and their links, after id `after` and below `before` (FINDINGS_BATCH_SQL). */
export async function deleteScanFindingsBatch(manager: EntityManager, scanId: string, after: string, before: string, limit: number): Promise<ScanFindingsBatch> {
  const [row] = await rows<ScanFindingsBatch>(manager, FINDINGS_BATCH_SQL, [scanId, after, before, limit]);
  return row;
}

/**
 * One batch of the provider's resources and their tag links, in uid order
 * after $2: $1 provider, $3 batch size. The ids travel as an array, as in
 * FINDINGS_BATCH_SQL, so each DELETE finds its rows by index.
 */
const RESOURCES_BATCH_SQL = `
  WITH doomed AS (
    SELECT array_agg(s.id) AS ids, max(s.uid) AS last FROM (
      SELECT r.id, r.uid FROM resources r WHERE r.provider_id = $1 AND r.uid > $2 ORDER BY r.uid LIMIT $3
    ) s
  ), tags AS (
    DELETE FROM resource_tag_links l WHERE l.resource_id = ANY((SELECT ids FROM doomed)::uuid[]) RETURNING 1
  ), gone AS (
    DELETE FROM resources r WHERE r.id = ANY((SELECT ids FROM doomed)::uuid[]) RETURNING 1
  )
  SELECT (SELECT count(*)::int FROM gone) AS resources, (SELECT count(*)::int FROM tags) AS tag_links,
         (SELECT last FROM doomed) AS last`;

/** One batch of the provider's latest finding states, in uid order after $2: $1 provider, $3 batch size (uids as an array, as above). */
const LATEST_BATCH_SQL = `
  WITH doomed AS (
    SELECT array_agg(s.uid ORDER BY s.uid) AS uids FROM (
      SELECT l.uid FROM finding_latest l WHERE l.provider_id = $1 AND l.uid > $2 ORDER BY l.uid LIMIT $3
    ) s
  ), gone AS (
    DELETE FROM finding_latest l WHERE l.provider_id = $1 AND l.uid = ANY((SELECT uids FROM doomed)::text[]) RETURNING 1
  )
  SELECT (SELECT count(*)::int FROM gone) AS deleted, (SELECT uids[array_upper(uids, 1)] FROM doomed) AS last`;

/**
 * A table listing scans (scan_id, tenant_id, provider_id, started_at): a
 * scan's row goes once none of its findings is left, so it still names the
 * scan while its findings are being deleted. $3, $4, $5: the pass's scans
 * and the bounds of each one's ids. The look for a finding left is a
 * lateral subquery with LIMIT, which PostgreSQL keeps as a nested loop over
 * the scans, an index probe each on the scan's partition: as NOT EXISTS it
 * became an anti join reading every finding of the tenant.
 */
function scanListing(table: 'scan_ingestions' | 'unpublished_scans'): SmallTableStep {
  return {
    table,
    sql: `DELETE FROM ${table} WHERE provider_id = $1 AND scan_id IN (
            SELECT s.scan_id FROM unnest($3::uuid[], $4::uuid[], $5::uuid[]) AS s(scan_id, after, before)
             CROSS JOIN LATERAL (
               SELECT count(*) AS n FROM (SELECT 1 FROM findings f WHERE f.id > s.after AND f.id < s.before AND f.scan_id = s.scan_id LIMIT 1) one
             ) left_over
             WHERE left_over.n = 0
             LIMIT $2)`,
    withScans: true,
  };
}

type SmallTableStep = { table: string; sql: string; withScans?: true };

/**
 * Tables small per scan or per provider (summaries per scan and dimension,
 * totals per provider), each statement deleting up to $2 rows of provider $1.
 * scan_ingestions and unpublished_scans go last, since the findings are found through them: only
 * the rows of the scans this pass went through ($3 to $5), and only once none of
 * their findings is left, so a scan batch that committed behind the deletion
 * is found again by the next pass.
 */
const SMALL_TABLE_STEPS: readonly SmallTableStep[] = [
  {
    table: 'scan_summaries',
    sql: `DELETE FROM scan_summaries WHERE ctid = ANY(ARRAY(
            SELECT s.ctid FROM scan_ingestions i JOIN scan_summaries s ON s.tenant_id = i.tenant_id AND s.scan_id = i.scan_id
             WHERE i.provider_id = $1 LIMIT $2))`,
  },
  {
    table: 'scan_overview_summaries',
    sql: `DELETE FROM scan_overview_summaries WHERE ctid = ANY(ARRAY(
            SELECT s.ctid FROM scan_ingestions i JOIN scan_overview_summaries s ON s.tenant_id = i.tenant_id AND s.scan_id = i.scan_id
             WHERE i.provider_id = $1 LIMIT $2))`,
  },
  {
    table: 'finding_group_summaries',
    sql: `DELETE FROM finding_group_summaries WHERE ctid = ANY(ARRAY(
            SELECT s.ctid FROM scan_ingestions i JOIN finding_group_summaries s ON s.tenant_id = i.tenant_id AND s.scan_id = i.scan_id
             WHERE i.provider_id = $1 LIMIT $2))`,
  },
  {
    table: 'scan_resource_group_summaries',
    sql: `DELETE FROM scan_resource_group_summaries WHERE (tenant_id, scan_id, resource_group) IN (
            SELECT tenant_id, scan_id, resource_group FROM scan_resource_group_summaries WHERE provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'scan_check_fact_summaries',
    sql: `DELETE FROM scan_check_fact_summaries WHERE (tenant_id, scan_id, kind, name, severity) IN (
            SELECT tenant_id, scan_id, kind, name, severity FROM scan_check_fact_summaries WHERE provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'compliance_requirement_summaries',
    sql: `DELETE FROM compliance_requirement_summaries WHERE ctid = ANY(ARRAY(
            SELECT s.ctid FROM scan_ingestions i
              JOIN compliance_requirement_summaries s ON s.tenant_id = i.tenant_id AND s.scan_id = i.scan_id
             WHERE i.provider_id = $1 LIMIT $2))`,
  },
  {
    table: 'scan_check_summaries',
    sql: `DELETE FROM scan_check_summaries WHERE ctid = ANY(ARRAY(
            SELECT s.ctid FROM scan_ingestions i JOIN scan_check_summaries s ON s.tenant_id = i.tenant_id AND s.scan_id = i.scan_id
             WHERE i.provider_id = $1 LIMIT $2))`,
  },
  {
    table: 'threatscore_snapshots',
    sql: `DELETE FROM threatscore_snapshots WHERE id IN (SELECT id FROM threatscore_snapshots WHERE provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'finding_counts',
    sql: `DELETE FROM finding_counts WHERE (tenant_id, provider_id, status, severity, muted, delta) IN (
            SELECT tenant_id, provider_id, status, severity, muted, delta FROM finding_counts WHERE provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'finding_versions',
    sql: `DELETE FROM finding_versions WHERE (tenant_id, provider_id) IN (
            SELECT tenant_id, provider_id FROM finding_versions WHERE provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'finding_word_ranges',
    sql: `DELETE FROM finding_word_ranges WHERE (tenant_id, word, provider_id) IN (
            SELECT tenant_id, word, provider_id FROM finding_word_ranges WHERE provider_id = $1 LIMIT $2)`,
  },
  scanListing('scan_ingestions'),
  scanListing('unpublished_scans'),
];

interface ScanToDelete {
  scanId: string;
  /** The last id deleted so far; starts below every id of the scan's millisecond. */
  after: string;
  before: string;
}

type Phase = 'findings' | 'resources' | 'latest' | 'small';

export type BatchCounts = Record<string, number>;

/**
 * One provider's findings data, deleted batch by batch: each `next()` runs
 * one batch in the caller's tenant transaction, so the caller decides the
 * transactions (short ones: other tenants' reads never wait behind one long
 * delete) and can stop between any two. Findings are reached scan by scan
 * through their id range (findings have no provider index, and need none
 * for reads), resources and latest states through their provider keys, each
 * walked forward with a keyset so the cost stays linear in the rows.
 *
 * A pass runs every phase once; passes repeat until one deletes nothing,
 * which catches rows a still-running ingestion batch committed behind it.
 */
export class ProviderFindingsDeletion {
  private phase: Phase = 'findings';
  private scans: ScanToDelete[] | null = null;
  /** The scans this pass loaded, and their id bounds: their findings are gone once the findings phase is over. */
  private passScans: { ids: string[]; afters: string[]; befores: string[] } = { ids: [], afters: [], befores: [] };
  private resourceAfter = '';
  private latestAfter = '';
  private smallStep = 0;
  private deletedThisPass = 0;
  private readonly months = new Map<string, Date>();

  constructor(
    private readonly providerId: string,
    private readonly batchSize: number,
  ) {}

  /** The month partitions (of findings and resource_finding_links) the deleted scans were in. */
  get partitions(): string[] {
    return [...this.months.values()].flatMap((month) => partitionsOfMonth(month).map((p) => p.name));
  }

  /** One batch in the current tenant transaction: rows deleted per table, or null once a whole pass found nothing. */
  async next(): Promise<BatchCounts | null> {
    const manager = tenantManager();
    for (;;) {
      const counts = await this.step(manager);
      if (counts === null) {
        if (this.deletedThisPass === 0) return null;
        this.startPass();
        continue;
      }
      const deleted = Object.values(counts).reduce((a, b) => a + b, 0);
      if (deleted > 0) {
        this.deletedThisPass += deleted;
        return counts;
      }
    }
  }

  /** Runs the current phase's next batch: rows deleted per table ({} when the phase moved on), null at the end of the pass. */
  private async step(manager: EntityManager): Promise<BatchCounts | null> {
    switch (this.phase) {
      case 'findings': {
        if (this.scans === null) {
          this.scans = await this.loadScans(manager);
          this.passScans = {
            ids: this.scans.map((s) => s.scanId),
            afters: this.scans.map((s) => s.after),
            befores: this.scans.map((s) => s.before),
          };
        }
        const scan = this.scans[0];
        if (!scan) return this.advance('resources');
        const row = await deleteScanFindingsBatch(manager, scan.scanId, scan.after, scan.before, this.batchSize);
        if (row.last === null) {
          this.scans.shift();
          return {};
        }
        scan.after = row.last;
        return { findings: row.findings, resource_finding_links: row.links };
      }
      case 'resources': {
        const [row] = await rows<{ resources: number; tag_links: number; last: string | null }>(manager, RESOURCES_BATCH_SQL, [
          this.providerId, this.resourceAfter, this.batchSize,
        ]);
        if (row.last === null) return this.advance('latest');
        this.resourceAfter = row.last;
        return { resources: row.resources, resource_tag_links: row.tag_links };
      }
      case 'latest': {
        const [row] = await rows<{ deleted: number; last: string | null }>(manager, LATEST_BATCH_SQL, [this.providerId, this.latestAfter, this.batchSize]);
        if (row.last === null) return this.advance('small');
        this.latestAfter = row.last;
        return { finding_latest: row.deleted };
      }
      case 'small': {
        const step = SMALL_TABLE_STEPS[this.smallStep];
        if (!step) return null;
        const deleted = await affected(manager, step.sql, [this.providerId, this.batchSize, ...(step.withScans ? [this.passScans.ids, this.passScans.afters, this.passScans.befores] : [])]);
        if (deleted === 0) this.smallStep++;
        return { [step.table]: deleted };
      }
    }
  }

  private advance(phase: Phase): BatchCounts {
    this.phase = phase;
    return {};
  }

  private startPass(): void {
    this.phase = 'findings';
    this.scans = null;
    this.resourceAfter = '';
    this.latestAfter = '';
    this.smallStep = 0;
    this.deletedThisPass = 0;
  }

  /** The provider's ingested scans, published or not, oldest first, with the id range each one's findings share. */
  private async loadScans(manager: EntityManager): Promise<ScanToDelete[]> {
    const scans = await rows<{ scan_id: string; started_at: Date }>(
      manager,
      `SELECT scan_id, started_at FROM scan_ingestions WHERE provider_id = $1
       UNION
       SELECT scan_id, started_at FROM unpublished_scans WHERE provider_id = $1
       ORDER BY started_at, scan_id`,
      [this.providerId],
    );
    return scans.map(({ scan_id, started_at }) => {
      const month = partitionsOfMonth(started_at)[0].name;
      this.months.set(month, started_at);
      const range = idRangeOfMs(started_at.getTime());
      return { scanId: scan_id, after: range.from, before: range.to };
    });
  }
}

/**
 * Rows of the tenant that belong to no provider (tags are shared by the
 * tenant's resources), for a tenant deletion once every provider's data is
 * gone. mute_rules needs no step: it cascades from the tenant row.
 */
const TENANT_DELETION_SQL = `DELETE FROM resource_tags WHERE id IN (SELECT id FROM resource_tags LIMIT $1)`;

/** What the deletion jobs call; each batch runs in the caller's tenant transaction. */
@Injectable()
export class FindingsDeletion {
  forProvider(providerId: string, batchSize: number): ProviderFindingsDeletion {
    return new ProviderFindingsDeletion(providerId, batchSize);
  }

  /** Up to `batchSize` of the tenant's provider-independent rows; 0 when none is left. */
  deleteTenantBatch(batchSize: number): Promise<number> {
    return affected(tenantManager(), TENANT_DELETION_SQL, [batchSize]);
  }
}
