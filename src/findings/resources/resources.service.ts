import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../../common/errors/api-error';
import { ParsedFilter, ParsedQuery } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { addColumnFilter } from '../query/column-filters';
import { addKeysetCondition, decodeCursor, nextCursor, orderBySql, orderKeys, SortKey } from '../query/keyset-cursor';
import { FindingReadCache } from '../query/finding-read-cache';
import { cappedCount, countFromShortPage, pageNumberMeta } from '../query/page-counts';
import { isProviderFilter, providerScopeSql } from '../query/provider-scope';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { textSearchSql } from '../query/text-search';
import { idRangeOfMs } from '../storage/finding-ids';
import { addIdBounds, latestCompletedScans, publishedSql, ScanRange, scanIdBounds, scansByIds } from '../scans/scan-ranges';
import { RESOURCE_COLUMNS_SQL, ResourceRow } from './resource.resource';
import { FindingScope, selectFindings } from '../finding-selection';

const COLUMNS: Record<string, string> = {
  id: 'r.id', uid: 'r.uid', name: 'r.name', region: 'r.region', service: 'r.service', type: 'r.type',
  inserted_at: 'r.inserted_at', updated_at: 'r.updated_at',
};
const PROVIDER_UID_SQL = '(SELECT p.uid FROM providers p WHERE p.id = r.provider_id)';
const UPDATED_AT_SQL = "date_trunc('milliseconds', r.updated_at)";
const SORT_KEYS: Record<string, SortKey> = {
  provider_uid: { sql: PROVIDER_UID_SQL, kind: 'text' },
  updated_at: { sql: UPDATED_AT_SQL, kind: 'timestamp' },
  uid: { sql: 'r.uid', kind: 'text' },
  name: { sql: 'r.name', kind: 'text' },
  region: { sql: 'r.region', kind: 'text' },
  service: { sql: 'r.service', kind: 'text' },
  type: { sql: 'r.type', kind: 'text' },
  // Resource ids are UUIDv7 taken at first insert: their order is inserted_at's.
  inserted_at: { sql: 'r.id', kind: 'uuid' },
};

export interface ResourcePage {
  rows: ResourceRow[];
  meta?: Record<string, unknown>;
  nextCursor?: string | null;
}

export interface ResourceMetadata {
  services: string[];
  regions: string[];
  types: string[];
}

/** Resources: every one seen, or those the latest completed scan of each provider saw. */
@Injectable()
export class ResourcesService {
  constructor(
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
    private readonly readCache: FindingReadCache,
  ) {}

  async list(query: ParsedQuery, scope: 'all' | 'latest'): Promise<ResourcePage> {
    const manager = tenantManager();
    const conditions = await this.selectResources(manager, query.filters, scope);
    const keys = orderKeys(query.sort, SORT_KEYS, 'r.id');
    const page = query.page;
    if (page.mode === 'all') throw new Error('resource lists are always paged');
    if (page.mode === 'cursor') {
      if (page.cursor) addKeysetCondition(conditions, keys, decodeCursor(keys, page.cursor));
      const fetched = await this.page(manager, conditions, orderBySql(keys), page.size + 1, 0);
      const shown = fetched.slice(0, page.size);
      const valueOf = (row: PagedResourceRow) => keys.map((k) => sortValue(row, k.sql));
      return { rows: shown, nextCursor: nextCursor(keys, shown, fetched.length > page.size, valueOf) };
    }
    const offset = (page.number - 1) * page.size;
    const shown = await this.page(manager, conditions, orderBySql(keys), page.size, offset);
    // No running totals exist for resources: the capped count is remembered until the providers' data changes.
    const count =
      countFromShortPage(offset, shown.length, page.size) ??
      (await this.readCache.remember(manager, query.filters, { sql: `count resources r ${conditions.where()}`, params: conditions.params }, () =>
        cappedCount(manager, 'resources r', conditions),
      ));
    return { rows: shown, meta: pageNumberMeta(page, count) };
  }

  async get(id: string): Promise<ResourceRow> {
    const manager = tenantManager();
    const conditions = await this.selectResources(manager, [], 'all');
    conditions.add(`r.id = ${conditions.param(id)}::uuid`);
    const [found] = await this.page(manager, conditions, 'r.id', 1, 0);
    if (!found) throw ApiError.notFound('No resource with this id.');
    return found;
  }

  /** The resources among `ids` the caller may read, e.g. to include them beside findings. */
  async findVisible(ids: readonly string[]): Promise<ResourceRow[]> {
    if (ids.length === 0) return [];
    const manager = tenantManager();
    const conditions = await this.selectResources(manager, [], 'all');
    conditions.add(`r.id = ANY(${conditions.param([...ids])}::uuid[])`);
    return this.page(manager, conditions, 'r.id', ids.length, 0);
  }

  /**
   * Fills each resource's `findings` relationship as Prowler does: the latest
   * finding of each check linked to it, among the findings the caller may
   * read; for the latest resources, among the latest scans' findings. One
   * query for the whole page. The latest scans also bound the links read
   * (their id range), so that page costs the same whatever history is kept;
   * otherwise every link of each resource across the history is read.
   */
  async withFindingIds(resources: ResourceRow[], scope: FindingScope): Promise<ResourceRow[]> {
    if (resources.length === 0) return resources;
    const manager = tenantManager();
    const { conditions: findings, scans } = await selectFindings(manager, [], scope, this.rowFilter);
    findings.add('f.tenant_id = l.tenant_id').add('f.id = l.finding_id');
    const links = findings.subquery();
    links.add(`l.resource_id = ANY(${links.param(resources.map((r) => r.id))}::uuid[])`);
    const bounds = scans && scanIdBounds(scans);
    if (bounds) addIdBounds(links, 'l.finding_id', bounds);
    // Each link's finding by its key (LIMIT 1 keeps the look-up from being joined as a set): the
    // latest scans' one-millisecond id ranges look empty to the planner, which, joining, read a
    // scan's whole range for every link (87 ms instead of 2 for a page at 10,000,000 findings).
    const linked = await rows<{ resource_id: string; ids: string[] }>(
      manager,
      `SELECT latest.resource_id, array_agg(latest.id ORDER BY latest.id) AS ids
         FROM (SELECT DISTINCT ON (l.resource_id, f.uid) l.resource_id, f.id
                 FROM resource_finding_links l
                 CROSS JOIN LATERAL (SELECT f.id, f.uid FROM findings f ${findings.where()} LIMIT 1) f
                 ${links.where()}
                ORDER BY l.resource_id, f.uid, f.id DESC) latest
        GROUP BY latest.resource_id`,
      findings.params,
    );
    const byResource = new Map(linked.map((row) => [row.resource_id, row.ids]));
    return resources.map((resource) => ({ ...resource, finding_ids: byResource.get(resource.id) ?? [] }));
  }

  async metadata(filters: readonly ParsedFilter[], scope: 'all' | 'latest'): Promise<ResourceMetadata> {
    const manager = tenantManager();
    const conditions = await this.selectResources(manager, filters, scope);
    const sql = `SELECT COALESCE(array_agg(DISTINCT r.service ORDER BY r.service) FILTER (WHERE r.service <> ''), '{}') AS services,
              COALESCE(array_agg(DISTINCT r.region ORDER BY r.region) FILTER (WHERE r.region <> ''), '{}') AS regions,
              COALESCE(array_agg(DISTINCT r.type ORDER BY r.type) FILTER (WHERE r.type <> ''), '{}') AS types
         FROM resources r ${conditions.where()}`;
    // A pass over every resource in scope, remembered until the providers' data changes.
    const [row] = await this.readCache.rows<ResourceMetadata>(manager, filters, sql, conditions.params);
    return row;
  }

  /** The WHERE of a resources read (alias `r`): the one place its conditions, row filter rules included, are added. */
  private async selectResources(manager: EntityManager, filters: readonly ParsedFilter[], scope: 'all' | 'latest'): Promise<SqlConditions> {
    const conditions = new SqlConditions();
    conditions.add(`r.provider_id = ANY(${providerScopeSql(conditions, filters)})`);
    // A resource only a scan still being imported has seen shows once that scan is published.
    conditions.add(publishedSql('r.first_scan_id'));
    const scans = await this.restrictingScans(manager, filters, scope);
    if (scans) addSeenByScans(conditions, scans);
    for (const filter of filters) {
      if (isProviderFilter(filter) || filter.field === 'scan') continue;
      if (filter.field === 'search') {
        // Prowler: the resource's and its tags' text_search.
        const query = conditions.param(filter.value);
        conditions.add(`(${textSearchSql(`concat_ws(' ', r.uid, r.name, r.region, r.service, r.type)`, query)} OR ${tagsMatch(query)})`);
        continue;
      }
      if (filter.field === 'tag' || filter.field === 'tags') {
        conditions.add(tagsMatch(conditions.param(filter.value)));
        continue;
      }
      if (filter.field === 'groups') {
        // Resources here keep no resource groups (they render as null): no value matches.
        conditions.add('false');
        continue;
      }
      if (filter.field === 'tag_key' || filter.field === 'tag_value') {
        const column = filter.field === 'tag_key' ? 't.key' : 't.value';
        conditions.add(
          `EXISTS (SELECT 1 FROM resource_tag_links tl JOIN resource_tags t ON t.id = tl.tag_id
                    WHERE tl.tenant_id = r.tenant_id AND tl.resource_id = r.id AND ${column} = ${conditions.param(filter.value)})`,
        );
        continue;
      }
      addColumnFilter(conditions, COLUMNS[filter.field], filter);
    }
    const predicate = await this.rowFilter.predicate('resources', 'r', conditions.params.length);
    if (predicate) conditions.addBound(predicate, conditions.params.length);
    return conditions;
  }

  private async restrictingScans(manager: EntityManager, filters: readonly ParsedFilter[], scope: 'all' | 'latest'): Promise<ScanRange[] | null> {
    const scopeOf = (c: SqlConditions) => providerScopeSql(c, filters);
    if (scope === 'latest') return latestCompletedScans(manager, scopeOf);
    const scanFilter = filters.find((f) => f.field === 'scan');
    if (!scanFilter) return null;
    return scansByIds(manager, (scanFilter.operator === 'in' ? scanFilter.value : [scanFilter.value]) as string[], scopeOf);
  }

  private page(manager: EntityManager, conditions: SqlConditions, orderBy: string, limit: number, offset: number): Promise<PagedResourceRow[]> {
    return rows<PagedResourceRow>(
      manager,
      `SELECT ${RESOURCE_COLUMNS_SQL}, ${PROVIDER_UID_SQL} AS provider_uid FROM resources r ${conditions.where()} ORDER BY ${orderBy} LIMIT ${limit} OFFSET ${offset}`,
      conditions.params,
    );
  }
}

/** The row as a page reads it: with its provider's uid, a sort key. */
type PagedResourceRow = ResourceRow & { provider_uid: string };

function sortValue(row: PagedResourceRow, sql: string): unknown {
  if (sql === PROVIDER_UID_SQL) return row.provider_uid;
  if (sql === UPDATED_AT_SQL) return row.updated_at;
  return row[sql.slice('r.'.length) as keyof ResourceRow];
}

/** Some tag of the resource matches the searched value (Prowler's tags__text_search over key and value). */
function tagsMatch(query: string): string {
  return `EXISTS (SELECT 1 FROM resource_tag_links tl JOIN resource_tags t ON t.id = tl.tag_id
                   WHERE tl.tenant_id = r.tenant_id AND tl.resource_id = r.id AND ${textSearchSql(`t.key || ' ' || t.value`, query)})`;
}

/**
 * Seen by one of these scans: linked to a finding in the id range of a scan
 * of the resource's own provider. A scan's finding ids all carry its start's
 * millisecond and a provider never starts two scans in one, so the range
 * alone names the scan's findings: no join with findings is needed. (With
 * one, analyzed statistics make a one-millisecond id range look empty, and
 * the planner picked a nested loop over every link of the tenant.)
 */
function addSeenByScans(conditions: SqlConditions, scans: readonly ScanRange[]): void {
  const ingested = scans.filter((s) => s.startedAt !== null);
  if (ingested.length === 0) {
    conditions.add('false');
    return;
  }
  const ranges = ingested.map((s) => idRangeOfMs(s.startedAt!.getTime()));
  conditions.add(
    `EXISTS (SELECT 1 FROM unnest(${conditions.param(ingested.map((s) => s.providerId))}::uuid[], ${conditions.param(ranges.map((r) => r.from))}::uuid[],
                                  ${conditions.param(ranges.map((r) => r.to))}::uuid[]) AS s(provider_id, from_id, to_id)
               JOIN resource_finding_links l ON l.tenant_id = r.tenant_id AND l.resource_id = r.id AND l.finding_id >= s.from_id AND l.finding_id < s.to_id
              WHERE s.provider_id = r.provider_id)`,
  );
}
