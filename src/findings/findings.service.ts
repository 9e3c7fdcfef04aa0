import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../common/errors/api-error';
import { IncludedSet } from '../common/jsonapi/document';
import { IncludeGraph } from '../common/jsonapi/include-graph';
import { ParsedQuery } from '../common/jsonapi/query-spec';
import { preparedRows, rows } from '../database/sql';
import { tenantManager } from '../database/tenant-context';
import { countSource, FindingScope, FindingSelection, selectFindings, summariesCanAnswer, summaryConditions } from './finding-selection';
import { FINDING_COLUMNS_SQL, FindingRow, findingResource } from './finding.resource';
import { walkingInIdOrder } from './query/id-order-walk';
import { addKeysetCondition, decodeCursor, nextCursor, OrderedKey, orderBySql, orderKeys, SortKey } from './query/keyset-cursor';
import { checkFactValues, CheckFactValues } from './query/check-facts';
import { FindingReadCache } from './query/finding-read-cache';
import { countFromShortPage, PageCount, pageNumberMeta } from './query/page-counts';
import { ROW_FILTER_SOURCE, RowFilterSource } from './query/row-filter-source';
import { SqlConditions } from './query/sql-conditions';
import { addScanRestriction, ingestedScans } from './scans/scan-ranges';
import { RENDERED_TEXT_TYPES } from '../database/wire-text-types';
import { providerScopeSql } from './query/provider-scope';

/** Sort names to keys; inserted_at is the id's own time, so it sorts by id and prunes like it. */
const SORT_KEYS: Record<string, SortKey> = {
  severity: { sql: 'f.severity_rank', kind: 'integer' },
  status: { sql: 'f.status', kind: 'text' },
  check_id: { sql: 'f.check_id', kind: 'text' },
  inserted_at: { sql: 'f.id', kind: 'uuid' },
  updated_at: { sql: "date_trunc('milliseconds', f.updated_at)", kind: 'timestamp' },
};
const ROW_KEY: Record<string, (row: FindingRow) => unknown> = {
  "date_trunc('milliseconds', f.updated_at)": (r) => r.updated_at,
  'f.severity_rank': (r) => r.severity_rank,
  'f.status': (r) => r.status,
  'f.check_id': (r) => r.check_id,
  'f.id': (r) => r.id,
};

export interface FindingPage {
  rows: FindingRow[];
  included: IncludedSet[];
  meta?: Record<string, unknown>;
  nextCursor?: string | null;
}

export interface FindingMetadata {
  services: string[];
  regions: string[];
  resource_types: string[];
  severities: string[];
  check_ids: string[];
}

@Injectable()
export class FindingsService {
  constructor(
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
    private readonly readCache: FindingReadCache,
    private readonly graph: IncludeGraph,
  ) {}

  async list(query: ParsedQuery, scope: FindingScope): Promise<FindingPage> {
    const manager = tenantManager();
    const selection = await selectFindings(manager, query.filters, scope, this.rowFilter);
    const keys = orderKeys(query.sort, SORT_KEYS, 'f.id');
    const page = query.page;
    if (page.mode === 'all') throw new Error('findings lists are always paged');

    if (page.mode === 'cursor') {
      if (page.cursor) addKeysetCondition(selection.conditions, keys, decodeCursor(keys, page.cursor));
      const fetched = await this.page(manager, selection, keys, page.size + 1, 0);
      const shown = fetched.slice(0, page.size);
      const cursor = nextCursor(keys, shown, fetched.length > page.size, (row) => keys.map((k) => ROW_KEY[k.sql](row)));
      return { rows: shown, included: await this.graph.included(findingResource, shown, query.include), nextCursor: cursor };
    }

    const offset = (page.number - 1) * page.size;
    const shown = await this.page(manager, selection, keys, page.size, offset);
    const count = countFromShortPage(offset, shown.length, page.size) ?? (await this.count(manager, selection));
    return { rows: shown, included: await this.graph.included(findingResource, shown, query.include), meta: pageNumberMeta(page, count) };
  }

  /** The findings among `ids` the caller may read, e.g. to include them beside resources. */
  async findMany(ids: readonly string[]): Promise<FindingRow[]> {
    if (ids.length === 0) return [];
    const manager = tenantManager();
    const selection = await selectFindings(manager, [], 'all', this.rowFilter);
    selection.conditions.add(`f.id = ANY(${selection.conditions.param([...ids])}::uuid[])`);
    // The ids bound the rows: no LIMIT, so every such read shares one statement whatever its number of ids.
    return this.pageRows(manager, selection.conditions, 'f.id', null, 0);
  }

  async get(id: string, include: readonly string[]): Promise<FindingPage> {
    const manager = tenantManager();
    const selection = await selectFindings(manager, [], 'all', this.rowFilter);
    selection.conditions.add(`f.id = ${selection.conditions.param(id)}::uuid`);
    const found = await this.pageRows(manager, selection.conditions, 'f.id', 1, 0);
    if (found.length === 0) throw ApiError.notFound('No finding with this id.');
    return { rows: found, included: await this.graph.included(findingResource, found, include) };
  }

  /** Distinct values for filter pickers, with the categories and resource groups of the checks among them. */
  async metadata(filters: ParsedQuery['filters'], scope: FindingScope): Promise<FindingMetadata & CheckFactValues> {
    const values = await this.findingValues(filters, scope);
    return { ...values, ...(await checkFactValues(tenantManager(), values.check_ids)) };
  }

  /**
   * Distinct values of the findings' own columns, remembered until the
   * findings in scope change (FindingReadCache), so requests asking together
   * share one computation. Aggregated scans answer from their summaries;
   * only scans not aggregated yet (still being ingested) are read row by
   * row, so the cost follows the summaries, not the findings kept. Either
   * way the values are the same, so one entry serves before and after a
   * scan's aggregation.
   */
  private async findingValues(filters: ParsedQuery['filters'], scope: FindingScope): Promise<FindingMetadata> {
    const manager = tenantManager();
    const selection = await selectFindings(manager, filters, scope, this.rowFilter);
    const { conditions } = selection;
    return this.readCache.remember(manager, filters, { sql: `metadata findings f ${conditions.where()}`, params: conditions.params }, () =>
      summariesCanAnswer(selection) ? this.summaryValues(manager, selection, filters) : this.distinctValues(manager, 'findings f', conditions),
    );
  }

  private async summaryValues(manager: EntityManager, selection: FindingSelection, filters: ParsedQuery['filters']): Promise<FindingMetadata> {
    const scans = selection.scans ?? (await ingestedScans(manager, (c) => providerScopeSql(c, filters)));
    const aggregated = scans.filter((s) => s.startedAt !== null && s.aggregated);
    const pending = scans.filter((s) => s.startedAt !== null && !s.aggregated);
    const parts: FindingMetadata[] = [];
    if (aggregated.length) {
      parts.push(await this.distinctValues(manager, 'scan_summaries f', summaryConditions({ ...selection, scans: aggregated }, true)));
    }
    if (pending.length) {
      const conditions = summaryConditions({ ...selection, scans: null }, false);
      addScanRestriction(conditions, pending);
      parts.push(await this.distinctValues(manager, 'findings f', conditions));
    }
    return mergeMetadata(parts);
  }

  private async distinctValues(manager: EntityManager, from: string, conditions: SqlConditions): Promise<FindingMetadata> {
    const [row] = await rows<FindingMetadata>(
      manager,
      `SELECT COALESCE(array_agg(DISTINCT f.service) FILTER (WHERE f.service <> ''), '{}') AS services,
              COALESCE(array_agg(DISTINCT f.region) FILTER (WHERE f.region <> ''), '{}') AS regions,
              COALESCE(array_agg(DISTINCT f.resource_type) FILTER (WHERE f.resource_type <> ''), '{}') AS resource_types,
              COALESCE(array_agg(DISTINCT f.severity), '{}') AS severities,
              COALESCE(array_agg(DISTINCT f.check_id), '{}') AS check_ids
         FROM ${from} ${conditions.where()}`,
      conditions.params,
    );
    return row;
  }

  private async count(manager: EntityManager, selection: FindingSelection): Promise<PageCount> {
    const source = countSource(selection);
    if (source === null) return this.readCache.count(manager, selection.conditions, selection.filters);
    const table = source === 'totals' ? 'finding_counts f' : 'scan_summaries f';
    const conditions = summaryConditions(selection, source === 'summaries');
    const [row] = await preparedRows<{ count: string }>(manager, `SELECT COALESCE(sum(f.findings), 0) AS count FROM ${table} ${conditions.where()}`, conditions.params);
    return { count: Number(row.count), exact: true };
  }

  /** One page of a list read; a text search ordered by id walks the index in that order (id-order-walk.ts). */
  private page(manager: EntityManager, selection: FindingSelection, keys: readonly OrderedKey[], limit: number, offset: number): Promise<FindingRow[]> {
    const read = () => this.pageRows(manager, selection.conditions, orderBySql(keys), limit, offset);
    const searched = selection.filters.some((f) => f.field === 'search');
    return searched && keys[0].sql === 'f.id' ? walkingInIdOrder(manager, read) : read();
  }

  /**
   * One page, with each finding's resource ids read for just the rows shown.
   * Prepared per connection: its text varies only with the shape of the
   * filters and sort and the page size (filter values and a later page's
   * offset are parameters), and planning it over the partitions cost as much
   * as running it. The first page of a list and every cursor page (offset 0)
   * carry their LIMIT as a literal: as a parameter, PostgreSQL costs the
   * statement's generic plan as if it read a tenth of the rows, judges it
   * worse than planning each call, and so plans every call again (0.5-1 ms,
   * as long as the read). A read by ids passes no limit (null). Timestamps
   * come back as the ISO strings the answer shows (RENDERED_TEXT_TYPES).
   */
  private pageRows(manager: EntityManager, conditions: SqlConditions, orderBy: string, limit: number | null, offset: number): Promise<FindingRow[]> {
    if (limit !== null && (!Number.isSafeInteger(limit) || limit < 0)) throw new Error(`pageRows: a page's limit is a whole number, not ${limit}`);
    const firstRows = offset === 0;
    const params = firstRows ? [...conditions.params] : [...conditions.params, limit, offset];
    const limitSql = !firstRows ? `LIMIT $${params.length - 1} OFFSET $${params.length}` : limit === null ? '' : `LIMIT ${limit}`;
    return preparedRows<FindingRow>(
      manager,
      `SELECT page.*, ARRAY(SELECT l.resource_id FROM resource_finding_links l
                             WHERE l.tenant_id = page.tenant_id AND l.finding_id = page.id ORDER BY l.resource_id) AS resource_ids,
              m.categories, m.resource_group
         FROM (SELECT ${FINDING_COLUMNS_SQL}, f.tenant_id FROM findings f ${conditions.where()}
                ORDER BY ${orderBy} ${limitSql}) page
         -- One key look-up per row shown: joined as a set, the tenant's whole check list was read into a hash for every page.
         LEFT JOIN LATERAL (SELECT k.categories, k.resource_group FROM check_metadata k
                             WHERE k.tenant_id = page.tenant_id AND k.check_id = page.check_id LIMIT 1) m ON true
        ORDER BY ${orderBy.replace(/\bf\./g, 'page.')}`,
      params,
      RENDERED_TEXT_TYPES,
    );
  }

}

function mergeMetadata(parts: readonly FindingMetadata[]): FindingMetadata {
  const merge = (pick: (m: FindingMetadata) => string[]) => [...new Set(parts.flatMap(pick))].sort();
  return {
    services: merge((m) => m.services),
    regions: merge((m) => m.regions),
    resource_types: merge((m) => m.resource_types),
    severities: merge((m) => m.severities),
    check_ids: merge((m) => m.check_ids),
  };
}
