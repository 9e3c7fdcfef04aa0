import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affected, rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { partitionsOfMonth } from './finding-partitions';

/**
 * The unpartitioned tables a provider deletion removes rows from. With the
 * month partitions the provider's scans wrote to (providerPartitions), they
 * are what needs a VACUUM afterwards.
 */
export const PROVIDER_FINDINGS_TABLES = [
  'resource_tag_links',
  'finding_latest',
  'resources',
  'scan_summaries',
  'compliance_requirement_summaries',
  'finding_counts',
  'scan_ingestions',
] as const;

/** The lower id bound of a scan's millisecond: uuid7_from_md5 with an all-zero hash. */
const SCAN_ID_FLOOR = `uuid7_from_md5(floor(extract(epoch FROM i.started_at) * 1000)::bigint, repeat('0', 32))`;
const SCAN_ID_CEILING = `uuid7_from_md5(floor(extract(epoch FROM i.started_at) * 1000)::bigint + 1, repeat('0', 32))`;

/**
 * One provider's rows, deleted in batches: each statement takes $1 provider
 * id and $2 batch size, deletes at most $2 rows of the current tenant (RLS),
 * and is run until it deletes none, in this order (links before what they
 * link; scan_ingestions last, since findings are found through it). Findings
 * are reached scan by scan through their id range, so each batch reads only
 * index entries of that provider, never the whole table.
 */
export const PROVIDER_DELETION_STEPS: ReadonlyArray<{ table: string; sql: string }> = [
  {
    table: 'resource_tag_links',
    sql: `DELETE FROM resource_tag_links WHERE (tenant_id, resource_id, tag_id) IN (
            SELECT l.tenant_id, l.resource_id, l.tag_id FROM resources r
              JOIN resource_tag_links l ON l.tenant_id = r.tenant_id AND l.resource_id = r.id
             WHERE r.provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'resource_finding_links',
    sql: `DELETE FROM resource_finding_links WHERE (tenant_id, finding_id, resource_id) IN (
            SELECT l.tenant_id, l.finding_id, l.resource_id FROM resources r
              JOIN resource_finding_links l ON l.tenant_id = r.tenant_id AND l.resource_id = r.id
             WHERE r.provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'findings',
    sql: `DELETE FROM findings WHERE (tenant_id, id) IN (
            SELECT f.tenant_id, f.id FROM scan_ingestions i
             CROSS JOIN LATERAL (
               SELECT f.tenant_id, f.id FROM findings f
                WHERE f.tenant_id = i.tenant_id AND f.id >= ${SCAN_ID_FLOOR} AND f.id < ${SCAN_ID_CEILING} AND f.scan_id = i.scan_id
                LIMIT $2) f
             WHERE i.provider_id = $1 LIMIT $2)`,
  },
  {
    table: 'finding_latest',
    sql: `DELETE FROM finding_latest WHERE (tenant_id, provider_id, uid) IN (
            SELECT tenant_id, provider_id, uid FROM finding_latest WHERE provider_id = $1 LIMIT $2)`,
  },
  { table: 'resources', sql: `DELETE FROM resources WHERE id IN (SELECT id FROM resources WHERE provider_id = $1 LIMIT $2)` },
  {
    table: 'scan_summaries',
    sql: `DELETE FROM scan_summaries WHERE ctid = ANY(ARRAY(
            SELECT s.ctid FROM scan_ingestions i JOIN scan_summaries s ON s.tenant_id = i.tenant_id AND s.scan_id = i.scan_id
             WHERE i.provider_id = $1 LIMIT $2))`,
  },
  {
    table: 'compliance_requirement_summaries',
    sql: `DELETE FROM compliance_requirement_summaries WHERE ctid = ANY(ARRAY(
            SELECT s.ctid FROM scan_ingestions i
              JOIN compliance_requirement_summaries s ON s.tenant_id = i.tenant_id AND s.scan_id = i.scan_id
             WHERE i.provider_id = $1 LIMIT $2))`,
  },
  {
    table: 'finding_counts',
    sql: `DELETE FROM finding_counts WHERE (tenant_id, provider_id, status, severity, muted, delta) IN (
            SELECT tenant_id, provider_id, status, severity, muted, delta FROM finding_counts WHERE provider_id = $1 LIMIT $2)`,
  },
  { table: 'scan_ingestions', sql: `DELETE FROM scan_ingestions WHERE scan_id IN (SELECT scan_id FROM scan_ingestions WHERE provider_id = $1 LIMIT $2)` },
];

/**
 * Deletes up to `batchSize` rows of the provider from the first table that
 * still has some, in the caller's tenant transaction. Returns the table and
 * the rows deleted; null means the provider's findings data is gone. Run it
 * in short transactions, so other tenants' reads never wait behind one long
 * delete.
 */
export async function deleteProviderBatch(manager: EntityManager, providerId: string, batchSize: number): Promise<{ table: string; deleted: number } | null> {
  for (const step of PROVIDER_DELETION_STEPS) {
    const deleted = await affected(manager, step.sql, [providerId, batchSize]);
    if (deleted > 0) return { table: step.table, deleted };
  }
  return null;
}

/**
 * The month partitions (of findings and resource_finding_links) that hold the
 * provider's findings, from the start of each of its ingested scans. Read
 * before the deletion: scan_ingestions goes with it.
 */
export async function providerPartitions(manager: EntityManager, providerId: string): Promise<string[]> {
  const months = await rows<{ month: Date }>(
    manager,
    `SELECT DISTINCT date_trunc('month', started_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month FROM scan_ingestions WHERE provider_id = $1`,
    [providerId],
  );
  return months.flatMap(({ month }) => partitionsOfMonth(month).map((p) => p.name));
}

/**
 * Rows of the tenant that belong to no provider (tags are shared by the
 * tenant's resources), for a tenant deletion once every provider's data is
 * gone. mute_rules needs no step: it cascades from the tenant row.
 */
const TENANT_DELETION_SQL = `DELETE FROM resource_tags WHERE id IN (SELECT id FROM resource_tags LIMIT $1)`;

/**
 * What the deletion jobs call, each method in the caller's tenant
 * transaction (one short transaction per batch).
 */
@Injectable()
export class FindingsDeletion {
  partitionsOf(providerId: string): Promise<string[]> {
    return providerPartitions(tenantManager(), providerId);
  }

  deleteProviderBatch(providerId: string, batchSize: number): Promise<{ table: string; deleted: number } | null> {
    return deleteProviderBatch(tenantManager(), providerId, batchSize);
  }

  /** Up to `batchSize` of the tenant's provider-independent rows; 0 when none is left. */
  deleteTenantBatch(batchSize: number): Promise<number> {
    return affected(tenantManager(), TENANT_DELETION_SQL, [batchSize]);
  }
}
