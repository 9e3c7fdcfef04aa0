import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { limitOffset, listMeta } from '../../common/jsonapi/paging';
import { ParsedFilter, ParsedQuery, ParsedSort } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { selectFindings } from '../finding-selection';
import { addColumnFilter } from '../query/column-filters';
import { FindingReadCache } from '../query/finding-read-cache';
import { isProviderFilter, providerScopeSql } from '../query/provider-scope';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { addScanRestriction, ScanRange } from '../scans/scan-ranges';
import { FINDING_GROUP_INPUT } from './finding-group-aggregation';
import { findingGroupRowsSql, GROUP_COUNT_COLUMNS, SEVERITY_OF_ORDER_SQL, SEVERITY_ORDER_SQL } from './finding-group-counts';
import { FindingGroupResourceRow, FindingGroupRow } from './finding-group.resources';
import { findingGroupScans } from './finding-group-scans';

export interface Page<Row> {
  rows: Row[];
  meta: Record<string, unknown>;
}

/** Filters that choose scans or providers, not findings. */
const SCAN_FIELDS = new Set(['scan', 'inserted_at']);
/** Filters the summaries answer: on the check itself. */
const CHECK_FIELDS = new Set(['check_id', 'check_title']);
/** Filters on a group's computed figures (Prowler's FindingGroupAggregatedComputedFilter). */
const COMPUTED_FIELDS = new Set(['status', 'severity', 'muted']);

const SUMMED = [...GROUP_COUNT_COLUMNS.map(([column]) => column), 'resources_total', 'resources_fail'];
/** FAIL when an unmuted finding fails; PASS when anything passed or only muted findings failed; MANUAL otherwise. */
const STATUS_ORDER = `CASE WHEN g.fail_count > 0 THEN 3 WHEN g.pass_count + g.pass_muted_count + g.fail_muted_count > 0 THEN 2 ELSE 1 END`;
const STATUS_OF_ORDER = (order: string) => `CASE ${order} WHEN 3 THEN 'FAIL' WHEN 2 THEN 'PASS' ELSE 'MANUAL' END`;

const GROUP_SORT_SQL: Record<string, string> = {
  id: 'g.check_id',
  check_id: 'g.check_id',
  check_title: 'g.check_title',
  check_description: 'g.check_id',
  severity: 'g.severity_order',
  status: 'g.status_order',
  muted: 'g.muted',
  impacted_providers: 'g.impacted_providers',
  first_seen_at: 'g.first_seen_at',
  last_seen_at: 'g.last_seen_at',
  failing_since: 'g.failing_since',
  ...Object.fromEntries(SUMMED.map((column) => [column, `g.${column}`])),
};

const FAILING = `f.status = 'FAIL' AND NOT f.muted`;
/** A resource's figures over its findings of the check, by the sort names both Prowler and the contract use. */
const RESOURCE_SORT_SQL: Record<string, string> = {
  id: 'l.resource_id',
  check_id: 'l.resource_id',
  check_title: 'l.resource_id',
  check_description: 'l.resource_id',
  severity: `max(${SEVERITY_ORDER_SQL})`,
  status: `max(CASE f.status WHEN 'FAIL' THEN 3 WHEN 'PASS' THEN 2 ELSE 1 END)`,
  muted: 'bool_and(f.muted)',
  delta: `max(CASE WHEN f.muted THEN 0 WHEN f.delta = 'new' THEN 2 WHEN f.delta = 'changed' THEN 1 ELSE 0 END)`,
  impacted_providers: 'p.provider',
  resources_total: 'l.resource_id',
  resources_fail: `(count(*) FILTER (WHERE ${FAILING}) > 0)`,
  first_seen_at: 'min(f.first_seen_at)',
  last_seen_at: 'max(f.inserted_at)',
  failing_since: `min(f.first_seen_at) FILTER (WHERE ${FAILING})`,
  'resource.uid': 'r.uid',
  'resource.name': 'r.name',
  'resource.region': 'r.region',
  'resource.service': 'r.service',
  'resource.type': 'r.type',
  'provider.uid': 'p.uid',
  'provider.alias': 'p.alias',
  ...Object.fromEntries(GROUP_COUNT_COLUMNS.map(([column, condition]) => [column, `count(*) FILTER (WHERE ${condition})`])),
};

/**
 * Finding groups (Prowler's /finding-groups): findings grouped by check.
 * Figures come from finding_group_summaries, which the overview job writes
 * per scan, re-added across the providers' scans a read covers, so a page
 * costs a few rows per check whatever the number of findings. They come
 * from the findings themselves (grouped into the same rows first) when the
 * summaries cannot say: a filter on something a finding has and a check
 * does not (region, resource, delta…), row filter rules that apply to the
 * caller, or a scan whose summaries are behind its last batch.
 */
@Injectable()
export class FindingGroupsService {
  constructor(
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
    private readonly readCache: FindingReadCache,
  ) {}

  async list(query: ParsedQuery, latest: boolean): Promise<Page<FindingGroupRow>> {
    const manager = tenantManager();
    const scans = await findingGroupScans(manager, query.filters, latest);
    const findingLevel = query.filters.filter((f) => !isProviderFilter(f) && !SCAN_FIELDS.has(f.field) && !CHECK_FIELDS.has(f.field) && !COMPUTED_FIELDS.has(f.field));
    const ruleFiltered = (await this.rowFilter.predicate('findings', 'f', 0)) !== null;
    const fromFindings = ruleFiltered || findingLevel.length > 0 || scans.some((s) => s.startedAt !== null && !s.aggregated);

    let conditions: SqlConditions;
    let source: string;
    if (fromFindings) {
      const selected = await this.findingsOf(query.filters.filter((f) => !COMPUTED_FIELDS.has(f.field) && f.field !== 'check_title'), scans);
      conditions = new SqlConditions(selected.params);
      source = `(${findingGroupRowsSql(`(SELECT ${FINDING_GROUP_INPUT} FROM findings f ${selected.where()})`, ['scan_id', 'provider_id'])})`;
    } else {
      source = 'finding_group_summaries';
      conditions = new SqlConditions();
      conditions.add(`g.scan_id = ANY(${conditions.param(scans.map((s) => s.scanId))}::uuid[])`);
      for (const filter of query.filters) if (filter.field === 'check_id') addColumnFilter(conditions, 'g.check_id', filter);
    }
    const having = new SqlConditions(conditions.params);
    const title = query.filters.find((f) => f.field === 'check_title');
    if (title) {
      // Prowler keeps every provider's rows of a check whose title matches.
      const inner = having.subquery();
      addColumnFilter(inner, 'g.check_title', title);
      having.add(`bool_or(${inner.all()})`);
    }
    const shown = new SqlConditions(conditions.params);
    addComputedFilters(shown, query.filters);

    const { limit, offset } = limitOffset(query.page);
    const sql = `
      WITH groups AS (
        SELECT g.check_id, max(g.check_title) AS check_title, max(g.severity_order) AS severity_order,
               ${SUMMED.map((c) => `sum(g.${c})::int AS ${c}`).join(', ')},
               bool_and(g.muted) AS muted, min(g.first_seen_at) AS first_seen_at, max(g.last_seen_at) AS last_seen_at,
               min(g.failing_since) AS failing_since, array_agg(DISTINCT p.provider::text ORDER BY p.provider::text) AS impacted_providers
          FROM ${source} g JOIN providers p ON p.id = g.provider_id
         ${conditions.where()}
         GROUP BY g.check_id ${having.isEmpty ? '' : `HAVING ${having.all()}`}
      ), shown AS (SELECT g.*, ${STATUS_ORDER} AS status_order FROM groups g)
      SELECT g.*, ${SEVERITY_OF_ORDER_SQL('g.severity_order')} AS severity, ${STATUS_OF_ORDER('g.status_order')} AS status,
             count(*) OVER ()::int AS total_count
        FROM shown g ${shown.where()}
       ORDER BY ${orderBy(query.sort, GROUP_SORT_SQL, ['-g.fail_count', '-g.severity_order'], 'g.check_id')}
       ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`;
    const found = fromFindings
      ? await this.readCache.rows<FindingGroupRow & { total_count: number }>(manager, query.filters, sql, conditions.params)
      : await rows<FindingGroupRow & { total_count: number }>(manager, sql, conditions.params);
    const count = found.length > 0 ? found[0].total_count : offset > 0 ? await this.countBeyond(sql, conditions.params, fromFindings, query.filters) : 0;
    return { rows: found, meta: listMeta(query.page, count) };
  }

  /** The group count when a page lies past the last group (the window count came back with no row). */
  private async countBeyond(sql: string, params: unknown[], cached: boolean, filters: readonly ParsedFilter[]): Promise<number> {
    const counting = `SELECT count(*)::int AS total_count FROM (${sql.replace(/LIMIT \d+ OFFSET \d+\s*$/, '')}) counted`;
    const manager = tenantManager();
    const [row] = cached
      ? await this.readCache.rows<{ total_count: number }>(manager, filters, counting, params)
      : await rows<{ total_count: number }>(manager, counting, params);
    return row.total_count;
  }

  /**
   * The resources of one check's findings in the scans the read covers, one
   * row each, under the same filters (here on findings, as in Prowler) and
   * the caller's rules on findings and on resources.
   */
  async resources(checkId: string, query: ParsedQuery, latest: boolean): Promise<Page<FindingGroupResourceRow>> {
    const manager = tenantManager();
    if (!latest && !query.filters.some((f) => f.field === 'inserted_at')) await this.assertCheckKnown(checkId);
    const scans = await findingGroupScans(manager, query.filters, latest);
    await this.assertGroupExists(checkId, scans);
    const selected = await this.findingsOf(query.filters.filter((f) => f.field !== 'check_title'), scans);
    const checkParam = selected.param(checkId);
    selected.add(`f.check_id = ${checkParam}`);
    const title = query.filters.find((f) => f.field === 'check_title');
    if (title) addColumnFilter(selected, 'f.check_title', title);
    const { params } = selected;
    const visibleResources = await this.rowFilter.predicate('resources', 'r', params.length);
    const resourceConditions = new SqlConditions(params);
    if (visibleResources) resourceConditions.addBound(visibleResources, params.length);

    const { limit, offset } = limitOffset(query.page);
    const sql = `
      SELECT l.resource_id, r.uid AS resource_uid, r.name AS resource_name, r.service AS resource_service, r.region AS resource_region,
             r.type AS resource_type, p.provider::text AS provider_type, p.uid AS provider_uid, p.alias AS provider_alias,
             max(f.id::text) AS finding_id,
             ${STATUS_OF_ORDER(RESOURCE_SORT_SQL.status)} AS status, ${SEVERITY_OF_ORDER_SQL(RESOURCE_SORT_SQL.severity)} AS severity,
             bool_and(f.muted) AS muted,
             CASE ${RESOURCE_SORT_SQL.delta} WHEN 2 THEN 'new' WHEN 1 THEN 'changed' END AS delta,
             min(f.first_seen_at) AS first_seen_at, max(f.inserted_at) AS last_seen_at, max(f.muted_reason) AS muted_reason,
             (SELECT m.resource_group FROM check_metadata m WHERE m.check_id = ${checkParam}) AS resource_group,
             count(*) OVER ()::int AS total_count
        FROM (SELECT ${FINDING_GROUP_INPUT}, f.muted_reason FROM findings f ${selected.where()}) f
        JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
        JOIN resources r ON r.tenant_id = l.tenant_id AND r.id = l.resource_id
        JOIN providers p ON p.id = r.provider_id
       ${resourceConditions.where()}
       GROUP BY l.resource_id, r.uid, r.name, r.service, r.region, r.type, p.provider, p.uid, p.alias
       ORDER BY ${orderBy(query.sort, RESOURCE_SORT_SQL, [], 'l.resource_id')}
       ${limit === null ? '' : `LIMIT ${limit} OFFSET ${offset}`}`;
    const found = await this.readCache.rows<FindingGroupResourceRow & { total_count: number }>(manager, query.filters, sql, params);
    const count = found.length > 0 ? found[0].total_count : offset > 0 ? await this.countBeyond(sql, params, true, query.filters) : 0;
    return { rows: found, meta: listMeta(query.page, count) };
  }

  /**
   * Conditions over findings `f` of the given scans with the request's
   * finding filters and the caller's rules; scan and date filters were
   * spent choosing the scans.
   */
  private async findingsOf(filters: readonly ParsedFilter[], scans: readonly ScanRange[]): Promise<SqlConditions> {
    const { conditions } = await selectFindings(tenantManager(), filters.filter((f) => !SCAN_FIELDS.has(f.field)), 'all', this.rowFilter);
    addScanRestriction(conditions, scans);
    return conditions;
  }

  /**
   * Before asking for the date filter a group's resources need: a check no
   * summary of the providers the caller sees has is 404 at once, so an id
   * that names nothing here never gets a 400 about dates. Under row filter
   * rules this is left to assertGroupExists, which applies them.
   */
  private async assertCheckKnown(checkId: string): Promise<void> {
    if ((await this.rowFilter.predicate('findings', 'f', 0)) !== null) return;
    const conditions = new SqlConditions();
    conditions.add(`g.check_id = ${conditions.param(checkId)}`).add(`g.provider_id = ANY(${providerScopeSql(conditions, [])})`);
    const found = await rows(tenantManager(), `SELECT 1 FROM finding_group_summaries g ${conditions.where()} LIMIT 1`, conditions.params);
    if (found.length === 0) throw ApiError.notFound(`No finding group '${checkId.slice(0, 100)}'.`);
  }

  /** Prowler answers 404 for a check none of the covered findings the caller may see has, whatever the other filters. */
  private async assertGroupExists(checkId: string, scans: readonly ScanRange[]): Promise<void> {
    const conditions = await this.findingsOf([], scans);
    conditions.add(`f.check_id = ${conditions.param(checkId)}`);
    const found = await rows(tenantManager(), `SELECT 1 FROM findings f ${conditions.where()} LIMIT 1`, conditions.params);
    if (found.length === 0) throw ApiError.notFound(`No finding group '${checkId.slice(0, 100)}' among the findings read.`);
  }
}

/** status, severity and muted on the groups' figures; fully muted groups are left out unless filter[muted] is given, as in Prowler. */
function addComputedFilters(conditions: SqlConditions, filters: readonly ParsedFilter[]): void {
  const order = { status: { FAIL: 3, PASS: 2, MANUAL: 1 }, severity: { critical: 5, high: 4, medium: 3, low: 2, informational: 1 } } as const;
  for (const filter of filters) {
    if (filter.field === 'status' || filter.field === 'severity') {
      const ranks = order[filter.field] as Record<string, number>;
      const values = (filter.operator === 'in' ? filter.value : [filter.value]) as string[];
      conditions.add(`g.${filter.field}_order = ANY(${conditions.param(values.map((v) => ranks[v]))}::int[])`);
    } else if (filter.field === 'muted') {
      conditions.add(`g.muted = ${conditions.param(filter.value)}`);
    }
  }
  if (!filters.some((f) => f.field === 'muted')) conditions.add('NOT g.muted');
}

/** ORDER BY from allow-listed expressions, then the defaults, then a unique key so pages never overlap. */
function orderBy(sort: readonly ParsedSort[], columns: Record<string, string>, defaults: readonly string[], unique: string): string {
  const keys = sort.length > 0 ? sort.map((s) => `${columns[s.field]} ${s.descending ? 'DESC' : 'ASC'} NULLS LAST`) : defaults.map((d) => (d.startsWith('-') ? `${d.slice(1)} DESC` : `${d} ASC`));
  return [...keys, `${unique} ASC`].join(', ');
}
