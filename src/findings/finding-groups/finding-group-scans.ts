import type { EntityManager } from 'typeorm';
import { ApiError } from '../../common/errors/api-error';
import { ParsedFilter } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { addColumnFilter } from '../query/column-filters';
import { providerScopeSql } from '../query/provider-scope';
import { SqlConditions } from '../query/sql-conditions';
import { latestCompletedScans, ScanRange } from '../scans/scan-ranges';

/** Prowler's FINDINGS_MAX_DAYS_IN_RANGE: the widest date window a finding-groups read takes. */
export const MAX_DAYS_IN_RANGE = 7;
const DAY_MS = 86_400_000;

/**
 * The scans a finding-groups read covers: the latest completed scan of each
 * provider in scope (`latest`), or of each provider the latest completed
 * one whose findings were inserted within the date filters, which one is
 * required (Prowler: each provider's most recent summary in the range). A
 * scan filter narrows either to the scans it names.
 */
export async function findingGroupScans(manager: EntityManager, filters: readonly ParsedFilter[], latest: boolean): Promise<ScanRange[]> {
  const scope = (c: SqlConditions) => providerScopeSql(c, filters);
  const scanFilter = filters.find((f) => f.field === 'scan');
  const named = scanFilter ? new Set((scanFilter.operator === 'in' ? scanFilter.value : [scanFilter.value]) as string[]) : null;
  if (latest) {
    const scans = await latestCompletedScans(manager, scope);
    return named ? scans.filter((s) => named.has(s.scanId)) : scans;
  }
  const dates = filters.filter((f) => f.field === 'inserted_at');
  checkDateWindow(dates);
  const conditions = new SqlConditions();
  conditions.add(`s.state = 'completed'`).add(`s.provider_id = ANY(${scope(conditions)})`);
  for (const date of dates) addColumnFilter(conditions, 'i.started_at', date);
  if (named) conditions.add(`s.id = ANY(${conditions.param([...named])}::uuid[])`);
  const found = await rows<{ scan_id: string; provider_id: string; started_at: Date; aggregated: boolean | null }>(
    manager,
    `SELECT DISTINCT ON (s.provider_id) s.id AS scan_id, s.provider_id, i.started_at, i.aggregated_at >= i.last_ingested_at AS aggregated
       FROM scans s JOIN scan_ingestions i ON i.scan_id = s.id
      ${conditions.where()}
      ORDER BY s.provider_id, i.started_at DESC, s.id DESC`,
    conditions.params,
  );
  return found.map((r) => ({ scanId: r.scan_id, providerId: r.provider_id, startedAt: r.started_at, aggregated: r.aggregated === true }));
}

/** A date filter is required and the window it leaves (today where open) spans at most MAX_DAYS_IN_RANGE days. */
function checkDateWindow(dates: readonly ParsedFilter[]): void {
  if (dates.length === 0) {
    throw ApiError.badRequest('required', 'At least one date filter is required: filter[inserted_at], filter[inserted_at__gte] or filter[inserted_at__lte].', {
      parameter: 'filter[inserted_at]',
    });
  }
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  let from: number | null = null;
  let to: number | null = null;
  for (const date of dates) {
    const at = (date.value as Date).getTime();
    if (date.operator === 'date') [from, to] = [at, at + DAY_MS];
    else if (date.operator === 'gte' || date.operator === 'gt') from = at;
    else to = at;
  }
  const start = from ?? today;
  const end = to ?? today + DAY_MS;
  if (Math.abs(end - start) > (MAX_DAYS_IN_RANGE + 1) * DAY_MS) {
    const parameter = dates.find((d) => d.operator !== 'date') ? `filter[inserted_at__${from === null ? 'lte' : 'gte'}]` : 'filter[inserted_at]';
    throw ApiError.badRequest('invalid', `The date range cannot exceed ${MAX_DAYS_IN_RANGE} days.`, { parameter });
  }
}
