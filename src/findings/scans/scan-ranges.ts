import { ParsedFilter } from '../../common/jsonapi/query-spec';
import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';
import { idRangeOfMs, uuidAtMs } from '../storage/finding-ids';
import { SqlConditions } from '../query/sql-conditions';

/** A scan as the read side needs it: which provider, and the millisecond all its finding ids share. */
export interface ScanRange {
  scanId: string;
  providerId: string;
  /** Null when no batch of the scan was ingested: it has no findings. */
  startedAt: Date | null;
  /** The summaries are up to date with the last batch. */
  aggregated: boolean;
}

interface ScanRangeRow {
  scan_id: string;
  provider_id: string;
  started_at: Date | null;
  aggregated: boolean | null;
}

function toRange(row: ScanRangeRow): ScanRange {
  return { scanId: row.scan_id, providerId: row.provider_id, startedAt: row.started_at, aggregated: row.aggregated === true };
}

/** The given scans, among those in the provider scope. */
export async function scansByIds(manager: EntityManager, ids: readonly string[], scopeSql: (c: SqlConditions) => string): Promise<ScanRange[]> {
  const conditions = new SqlConditions();
  const scope = scopeSql(conditions);
  const found = await rows<ScanRangeRow>(
    manager,
    `SELECT i.scan_id, i.provider_id, i.started_at, i.aggregated_at >= i.last_ingested_at AS aggregated
       FROM scan_ingestions i
      WHERE i.scan_id = ANY(${conditions.param(ids)}::uuid[]) AND i.provider_id = ANY(${scope})`,
    conditions.params,
  );
  return found.map(toRange);
}

/** Every ingested scan of the providers in scope. */
export async function ingestedScans(manager: EntityManager, scopeSql: (c: SqlConditions) => string): Promise<ScanRange[]> {
  const conditions = new SqlConditions();
  const scope = scopeSql(conditions);
  const found = await rows<ScanRangeRow>(
    manager,
    `SELECT i.scan_id, i.provider_id, i.started_at, i.aggregated_at >= i.last_ingested_at AS aggregated
       FROM scan_ingestions i WHERE i.provider_id = ANY(${scope})`,
    conditions.params,
  );
  return found.map(toRange);
}

/**
 * The latest completed scan of each provider in scope (by completion, then
 * creation): one step down scans_provider_completed per provider, so the cost
 * follows the providers, not the scans kept (sorting every kept scan took
 * 7 ms at 90 days of 20 providers, on every latest read and overview).
 */
export async function latestCompletedScans(manager: EntityManager, scopeSql: (c: SqlConditions) => string): Promise<ScanRange[]> {
  const conditions = new SqlConditions();
  const scope = scopeSql(conditions);
  const found = await rows<ScanRangeRow>(
    manager,
    `SELECT latest.id AS scan_id, latest.provider_id, i.started_at, i.aggregated_at >= i.last_ingested_at AS aggregated
       FROM unnest(${scope}) AS p(id)
      CROSS JOIN LATERAL (
             SELECT s.id, s.provider_id FROM scans s
              WHERE s.state = 'completed' AND s.provider_id = p.id
              ORDER BY s.completed_at DESC NULLS LAST, s.inserted_at DESC, s.id DESC
              LIMIT 1) latest
       LEFT JOIN scan_ingestions i ON i.scan_id = latest.id`,
    conditions.params,
  );
  return found.map(toRange);
}

/**
 * Keeps rows written by scans still being imported out of a read: they show
 * once their scan is published. `scanColumn` names the row's scan (NULL
 * passes). An anti join against unpublished_scans (empty but while an import
 * is under way), which PostgreSQL estimates from that table's size. Written
 * as `<> ALL` an array it cannot see, it was estimated from the number of
 * distinct scans in the column: with one or two (a new month's partition, a
 * new install), it expected almost no row to pass and chose to read and sort
 * a whole findings partition for a page of 50, 13 times slower than walking
 * the index.
 */
export function publishedSql(scanColumn: string): string {
  return `NOT EXISTS (SELECT 1 FROM unpublished_scans u WHERE u.scan_id = ${scanColumn})`;
}

/** Findings (alias `f`) of published scans, for a read no scan restricts. */
export const PUBLISHED_FINDINGS_SQL = publishedSql('f.scan_id');

/**
 * Restricts findings (alias `f`) to the given scans: by scan id, and by the id
 * range their start times span, which is what lets PostgreSQL skip every
 * other partition.
 */
export function addScanRestriction(conditions: SqlConditions, scans: readonly ScanRange[]): void {
  const ingested = scans.filter((s) => s.startedAt !== null);
  const bounds = scanIdBounds(ingested);
  if (bounds === null) {
    conditions.add('false');
    return;
  }
  conditions.add(`f.scan_id = ANY(${conditions.param(ingested.map((s) => s.scanId))}::uuid[])`);
  addIdBounds(conditions, 'f.id', bounds);
}

/** The finding id range the scans' findings lie in (null when none was ingested). */
export function scanIdBounds(scans: readonly ScanRange[]): { from: string; to: string } | null {
  const times = scans.filter((s) => s.startedAt !== null).map((s) => s.startedAt!.getTime());
  if (times.length === 0) return null;
  return { from: uuidAtMs(Math.min(...times)), to: idRangeOfMs(Math.max(...times)).to };
}

/** `column` (a finding id) within the bounds. */
export function addIdBounds(conditions: SqlConditions, column: string, bounds: { from: string; to: string }): void {
  conditions.add(`${column} >= ${conditions.param(bounds.from)}::uuid`);
  conditions.add(`${column} < ${conditions.param(bounds.to)}::uuid`);
}

/**
 * Whether a scan's findings were inserted within the request's inserted_at
 * filters (Prowler's summaries' inserted_at): they all carry the scan's start.
 */
export function insertedWithin(scan: ScanRange, filters: readonly ParsedFilter[]): boolean {
  const dates = filters.filter((f) => f.field === 'inserted_at');
  if (dates.length === 0) return true;
  if (scan.startedAt === null) return false;
  const at = scan.startedAt.getTime();
  return dates.every((f) => {
    const bound = (f.value as Date).getTime();
    switch (f.operator) {
      case 'date':
        return at >= bound && at < bound + 86_400_000;
      case 'gte':
        return at >= bound;
      case 'gt':
        return at > bound;
      case 'lte':
        return at <= bound;
      case 'lt':
        return at < bound;
      default:
        return true;
    }
  });
}
