import type { EntityManager } from 'typeorm';
import { rows } from '../../database/sql';
import { scanBounds } from '../overviews/scan-aggregation';
import { BoundPredicate } from '../query/sql-conditions';

/** The scan a report is about, with its provider. */
export interface ReportScan {
  id: string;
  name: string | null;
  state: string;
  provider_id: string;
  provider_type: string;
  provider_uid: string;
  provider_alias: string | null;
  started_at: Date | null;
  completed_at: Date | null;
}

/** A finding as the report files show it. */
export interface ReportFinding {
  id: string;
  uid: string;
  check_id: string;
  check_title: string;
  status: 'PASS' | 'FAIL' | 'MANUAL';
  status_extended: string | null;
  severity: string;
  muted: boolean;
  muted_reason: string | null;
  delta: string | null;
  service: string;
  region: string;
  resource_type: string;
  resource_uid: string;
  compliance: Record<string, string[]>;
  first_seen_at: Date;
  inserted_at: Date;
}

export interface SeverityCount {
  severity: string;
  status: string;
  muted: boolean;
  findings: number;
}

/**
 * Where a report reads its findings from: the job's tenant transactions
 * (one per page, tenant-wide), or a request's own transaction with the
 * caller's row filter rules.
 */
export interface ReportSource {
  inTenant<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T>;
  /** The row filter rules' predicate over findings `f`, rendered from $<offset + 1>; null when none applies. */
  predicateAt(offset: number): Promise<BoundPredicate | null>;
  /** The job's signal (cancel, time limit, shutdown): checked before each page. */
  signal?: AbortSignal;
}

/** Rows per page: enough to amortise a round trip, few enough that a page of text stays small. */
export const REPORT_PAGE_SIZE = 1000;

const NO_ID = '00000000-0000-0000-0000-000000000000';

export async function reportScan(manager: EntityManager, scanId: string): Promise<ReportScan | undefined> {
  const [scan] = await rows<ReportScan>(
    manager,
    `SELECT s.id, s.name, s.state, s.provider_id, p.provider AS provider_type, p.uid AS provider_uid, p.alias AS provider_alias,
            s.started_at, s.completed_at
       FROM scans s JOIN providers p ON p.id = s.provider_id
      WHERE s.id = $1`,
    [scanId],
  );
  return scan;
}

/**
 * Reads a scan's findings in id order, a page at a time (keyset on the id,
 * within the scan's one-millisecond id range), calling `each` per page:
 * however large the scan, one page is in memory at a time.
 */
export async function forEachFindingPage(
  source: ReportSource,
  scanId: string,
  each: (page: ReportFinding[]) => Promise<void>,
): Promise<number> {
  let after = NO_ID;
  let seen = 0;
  for (;;) {
    source.signal?.throwIfAborted();
    const page = await source.inTenant(async (manager) => {
      const bounds = await scanBounds(manager, scanId);
      if (!bounds) return [];
      const predicate = await source.predicateAt(5);
      return rows<ReportFinding>(
        manager,
        `SELECT f.id, f.uid, f.check_id, f.check_title, f.status, f.status_extended, f.severity, f.muted, f.muted_reason, f.delta,
                f.service, f.region, f.resource_type, f.resource_uid, f.compliance, f.first_seen_at, f.inserted_at
           FROM findings f
          WHERE f.scan_id = $1 AND f.id >= $2::uuid AND f.id < $3::uuid AND f.id > $4::uuid ${predicate ? `AND (${predicate.sql})` : ''}
          ORDER BY f.id LIMIT $5`,
        [...bounds, after, REPORT_PAGE_SIZE, ...(predicate?.params ?? [])],
      );
    });
    if (page.length === 0) return seen;
    await each(page);
    seen += page.length;
    if (page.length < REPORT_PAGE_SIZE) return seen;
    after = page[page.length - 1].id;
  }
}

/** Findings of the scan by severity, status and muted, for the report's summary and chart. */
export function severityCounts(source: ReportSource, scanId: string): Promise<SeverityCount[]> {
  return source.inTenant(async (manager) => {
    const bounds = await scanBounds(manager, scanId);
    if (!bounds) return [];
    const predicate = await source.predicateAt(3);
    return rows<SeverityCount>(
      manager,
      `SELECT f.severity, f.status, f.muted, count(*)::int AS findings
         FROM findings f
        WHERE f.scan_id = $1 AND f.id >= $2::uuid AND f.id < $3::uuid ${predicate ? `AND (${predicate.sql})` : ''}
        GROUP BY f.severity, f.status, f.muted`,
      [...bounds, ...(predicate?.params ?? [])],
    );
  });
}
