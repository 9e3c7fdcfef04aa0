import { Injectable } from '@nestjs/common';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { affected, rows } from '../database/sql';
import { tenantManager } from '../database/tenant-context';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { visibleProviderCondition } from '../rbac/provider-visibility';
import { RowFilterService } from '../rls-rules/row-filter.service';
import { SCAN_LIST } from './scan-query-specs';
import { ScanRow } from './scan.resource';

const FROM = 'scans s JOIN providers p ON p.id = s.provider_id';
/** A scheduled scan's next_scan_at: the next tick of its provider's daily schedule, if it still has one. */
const NEXT_SCAN_AT = `CASE WHEN s.trigger = 'scheduled' THEN (
    SELECT sc.starts_at + greatest(0, ceil(extract(epoch FROM now() - sc.starts_at) / (sc.every_hours * 3600))) * sc.every_hours * interval '1 hour'
      FROM scan_schedules sc WHERE sc.provider_id = s.provider_id) END`;
const COLUMNS = `s.id, s.provider_id, s.task_id, s.name, s.trigger, s.origin, s.state, s.progress, s.unique_resource_count,
  (extract(epoch FROM s.completed_at - s.started_at))::int AS duration,
  s.inserted_at, s.started_at, s.completed_at, s.scheduled_at, ${NEXT_SCAN_AT} AS next_scan_at`;

const LIST_COLUMNS: ListColumns = {
  filters: {
    id: 's.id',
    name: 's.name',
    provider: 's.provider_id',
    provider_type: 'p.provider',
    provider_uid: 'p.uid',
    provider_alias: 'p.alias',
    provider_groups: (filter, params) =>
      `EXISTS (SELECT 1 FROM provider_group_memberships pgm WHERE pgm.provider_id = s.provider_id AND pgm.provider_group_id = ANY(${params.add(
        Array.isArray(filter.value) ? filter.value : [filter.value],
      )}::uuid[]))`,
    state: 's.state',
    trigger: 's.trigger',
    inserted_at: 's.inserted_at',
    started_at: 's.started_at',
    completed_at: 's.completed_at',
    next_scan_at: `(${NEXT_SCAN_AT})`,
    search: (filter, params) => {
      const pattern = params.add(containsPattern(String(filter.value)));
      return `(s.name ILIKE ${pattern} OR p.uid ILIKE ${pattern} OR p.alias ILIKE ${pattern})`;
    },
  },
  sorts: {
    name: 's.name',
    trigger: 's.trigger',
    state: 's.state',
    progress: 's.progress',
    attempted_at: 's.started_at',
    started_at: 's.started_at',
    completed_at: 's.completed_at',
    scheduled_at: 's.scheduled_at',
    inserted_at: 's.inserted_at',
    updated_at: 's.updated_at',
  },
  tieBreaker: 's.id',
};

/**
 * Scans as the caller may see them: of live providers their role sees, and
 * within the row filter rules on the `scans` dataset. A scan outside any of
 * these is absent from every answer, exactly like a missing one.
 */
@Injectable()
export class ScansRepository {
  constructor(private readonly rowFilter: RowFilterService) {}

  async list(query: ParsedQuery): Promise<{ rows: ScanRow[]; count: number }> {
    const params = new SqlParams();
    const where = [...filterConditions(query, SCAN_LIST, LIST_COLUMNS, params), ...(await this.readable(params))];
    return pagedList<ScanRow>({ from: FROM, alias: 's', columns: COLUMNS, where, order: orderBy(query.sort, LIST_COLUMNS), page: query.page, params });
  }

  async find(id: string): Promise<ScanRow | undefined> {
    const params = new SqlParams();
    const where = [`s.id = ${params.add(id)}`, ...(await this.readable(params))];
    const [found] = await rows<ScanRow>(tenantManager(), `SELECT ${COLUMNS} FROM ${FROM} WHERE ${where.join(' AND ')}`, params.values);
    return found;
  }

  /** The scans among `ids` the caller may read (as `find`), for a compound document's `included`. */
  async findMany(ids: readonly string[]): Promise<ScanRow[]> {
    if (ids.length === 0) return [];
    const params = new SqlParams();
    const where = [`s.id = ANY(${params.add([...new Set(ids)])}::uuid[])`, ...(await this.readable(params))];
    return rows<ScanRow>(tenantManager(), `SELECT ${COLUMNS} FROM ${FROM} WHERE ${where.join(' AND ')}`, params.values);
  }

  async rename(id: string, name: string | null): Promise<void> {
    await affected(tenantManager(), `UPDATE scans SET name = $2, updated_at = now() WHERE id = $1`, [id, name]);
  }

  /** Visibility, the provider being live, and the row filter rules' predicate (bound after the values already in `params`). */
  private async readable(params: SqlParams): Promise<string[]> {
    const conditions = ['p.deleted_at IS NULL'];
    const visible = visibleProviderCondition('s.provider_id', params);
    if (visible) conditions.push(visible);
    const predicate = await this.rowFilter.predicateFor('scans', 's', params.values.length);
    if (predicate) {
      params.values.push(...predicate.params);
      conditions.push(predicate.sql);
    }
    return conditions;
  }
}
