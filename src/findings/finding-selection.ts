import type { EntityManager } from 'typeorm';
import { ParsedFilter } from '../common/jsonapi/query-spec';
import { uuidAt, uuidAtMs } from './storage/finding-ids';
import { addCheckFactFilter, CHECK_FACT_FILTERS } from './query/check-facts';
import { addColumnFilter } from './query/column-filters';
import { isProviderFilter, providerScopeSql } from './query/provider-scope';
import { RowFilterSource } from './query/row-filter-source';
import { SqlConditions } from './query/sql-conditions';
import { addSearchWindows, searchWindows } from './query/search-word-ranges';
import { textSearchSql } from './query/text-search';
import { addScanRestriction, latestCompletedScans, PUBLISHED_FINDINGS_SQL, ScanRange, scansByIds } from './scans/scan-ranges';

/** Filters that are plain columns of both findings and scan_summaries. */
const SUMMARY_COLUMNS = new Set(['status', 'severity', 'delta', 'muted', 'check_id', 'service', 'region', 'resource_type']);
/** Of those, the ones finding_counts (the running totals) also carries. */
const TOTALS_COLUMNS = new Set(['status', 'severity', 'delta', 'muted']);
/** Columns only findings have. */
const FINDING_ONLY_COLUMNS = new Set(['uid', 'id', 'updated_at']);
/** Filters on the resources a finding is linked to, by the resource column they compare. */
const RESOURCE_COLUMNS: Record<string, string> = { resource_uid: 'r.uid', resource_name: 'r.name' };

/**
 * Which findings one read covers, as SQL over the alias `f`, and what the
 * cheap counts need to know about it.
 */
export interface FindingSelection {
  conditions: SqlConditions;
  /** The scans the read is restricted to (a scan filter, or the latest scans), else null. */
  scans: ScanRange[] | null;
  filters: readonly ParsedFilter[];
}

export type FindingScope = 'all' | 'latest';

/**
 * Builds the WHERE of a findings read. This is the one place per read where
 * every condition is added, the row filter rules' predicate included.
 */
export async function selectFindings(
  manager: EntityManager,
  requested: readonly ParsedFilter[],
  scope: FindingScope,
  rowFilter: RowFilterSource,
): Promise<FindingSelection> {
  // Prowler's impact is the check's severity: one column, so counts and summaries treat both alike.
  const filters = requested.map((f) => (f.field === 'impact' ? { ...f, field: 'severity' } : f));
  const conditions = new SqlConditions();
  conditions.add(`f.provider_id = ANY(${providerScopeSql(conditions, filters)})`);

  const scans = await restrictingScans(manager, filters, scope);
  if (scans) addScanRestriction(conditions, scans);
  else conditions.add(PUBLISHED_FINDINGS_SQL);
  const search = filters.find((f) => f.field === 'search');
  if (search && !scans) {
    // Only the providers and days in which every word of the search was seen: no date window is needed.
    addSearchWindows(conditions, await searchWindows(manager, search.value as string, (c) => providerScopeSql(c, filters)));
  }

  for (const filter of filters) {
    if (SUMMARY_COLUMNS.has(filter.field) || FINDING_ONLY_COLUMNS.has(filter.field)) {
      addColumnFilter(conditions, `f.${filter.field}`, filter);
    } else if (filter.field in RESOURCE_COLUMNS) {
      const resources = conditions.subquery();
      addColumnFilter(resources, RESOURCE_COLUMNS[filter.field], filter);
      conditions.add(
        `f.id IN (SELECT l.finding_id FROM resources r
                    JOIN resource_finding_links l ON l.tenant_id = r.tenant_id AND l.resource_id = r.id
                   ${resources.where()})`,
      );
    } else if (filter.field === 'resources') {
      const ids = filter.operator === 'in' ? filter.value : [filter.value];
      conditions.add(`f.id IN (SELECT l.finding_id FROM resource_finding_links l WHERE l.resource_id = ANY(${conditions.param(ids)}::uuid[]))`);
    } else if (filter.field === 'search') {
      conditions.add(textSearchSql(`coalesce(f.status_extended, '')`, conditions.param(filter.value)));
    } else if (CHECK_FACT_FILTERS.has(filter.field)) {
      addCheckFactFilter(conditions, 'f', filter);
    } else if (filter.field === 'inserted_at') {
      addInsertedAtFilter(conditions, filter);
    }
  }

  // Row filter rules: their predicate joins the same WHERE, so lists, details, counts and metadata all obey it.
  const predicate = await rowFilter.predicate('findings', 'f', conditions.params.length);
  if (predicate) conditions.addBound(predicate, conditions.params.length);

  return { conditions, scans, filters };
}

async function restrictingScans(manager: EntityManager, filters: readonly ParsedFilter[], scope: FindingScope): Promise<ScanRange[] | null> {
  const scopeOf = (c: SqlConditions) => providerScopeSql(c, filters);
  if (scope === 'latest') return latestCompletedScans(manager, scopeOf);
  const scanFilter = filters.find((f) => f.field === 'scan');
  if (!scanFilter) return null;
  const ids = (scanFilter.operator === 'in' ? scanFilter.value : [scanFilter.value]) as string[];
  return scansByIds(manager, ids, scopeOf);
}

/**
 * A finding's inserted_at is the millisecond its id carries, so a date bound
 * is an id bound, and PostgreSQL prunes the partitions outside it.
 */
function addInsertedAtFilter(conditions: SqlConditions, filter: ParsedFilter): void {
  const ms = (filter.value as Date).getTime();
  if (filter.operator === 'date') {
    conditions.add(`f.id >= ${conditions.param(uuidAtMs(ms))}::uuid AND f.id < ${conditions.param(uuidAtMs(ms + 86_400_000))}::uuid`);
    return;
  }
  const bound = { gte: ['>=', uuidAtMs(ms)], gt: ['>=', uuidAtMs(ms + 1)], lte: ['<', uuidAtMs(ms + 1)], lt: ['<', uuidAt(new Date(ms))] }[
    filter.operator as 'gte' | 'gt' | 'lte' | 'lt'
  ];
  conditions.add(`f.id ${bound[0]} ${conditions.param(bound[1])}::uuid`);
}

function filteredColumns(selection: FindingSelection): string[] {
  return selection.filters.filter((f) => !isProviderFilter(f) && f.field !== 'scan').map((f) => f.field);
}

/** Whether scan_summaries hold every column this selection filters on (for aggregated scans). */
export function summariesCanAnswer(selection: FindingSelection): boolean {
  return !selection.conditions.external && filteredColumns(selection).every((c) => SUMMARY_COLUMNS.has(c) || CHECK_FACT_FILTERS.has(c));
}

/** Which pre-computed table can count this selection exactly, if any. */
export function countSource(selection: FindingSelection): 'totals' | 'summaries' | null {
  if (!summariesCanAnswer(selection)) return null;
  if (selection.scans === null) return filteredColumns(selection).every((c) => TOTALS_COLUMNS.has(c)) ? 'totals' : null;
  return selection.scans.every((s) => s.startedAt === null || s.aggregated) ? 'summaries' : null;
}

/**
 * The conditions of a selection re-expressed over a pre-computed table with
 * the same column names (`f` being finding_counts or scan_summaries there).
 * finding_counts and scan_summaries store a missing delta as ''.
 */
export function summaryConditions(selection: FindingSelection, withScans: boolean): SqlConditions {
  const conditions = new SqlConditions();
  conditions.add(`f.provider_id = ANY(${providerScopeSql(conditions, selection.filters)})`);
  if (withScans && selection.scans) {
    conditions.add(`f.scan_id = ANY(${conditions.param(selection.scans.map((s) => s.scanId))}::uuid[])`);
  }
  for (const filter of selection.filters) {
    if (SUMMARY_COLUMNS.has(filter.field)) addColumnFilter(conditions, `f.${filter.field}`, filter);
    else if (CHECK_FACT_FILTERS.has(filter.field)) addCheckFactFilter(conditions, 'f', filter);
  }
  return conditions;
}
