import { Inject, Injectable } from '@nestjs/common';
import { ParsedFilter } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { addColumnFilter } from '../query/column-filters';
import { FindingReadCache } from '../query/finding-read-cache';
import { isProviderFilter, providerScopeSql } from '../query/provider-scope';
import { insertedWithin } from '../scans/scan-ranges';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { addScanRestriction, latestCompletedScans, ScanRange } from '../scans/scan-ranges';
import {
  FindingsOverviewRow,
  ProviderCountRow,
  ProviderOverviewRow,
  RegionOverviewRow,
  ServiceOverviewRow,
  SeverityOverviewRow,
} from './overview.resources';

/** pass, fail and manual leave muted findings out; muted counts them; total counts all. */
const STATUS_COUNTS = `
  COALESCE(sum(f.findings), 0)::int AS total,
  COALESCE(sum(f.findings) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted), 0)::int AS fail,
  COALESCE(sum(f.findings) FILTER (WHERE f.status = 'PASS' AND NOT f.muted), 0)::int AS pass,
  COALESCE(sum(f.findings) FILTER (WHERE f.muted), 0)::int AS muted`;

/**
 * What the overviews read: scan_overview_summaries, or the same columns
 * computed from the findings a caller's rules let through.
 */
export interface SummarySource {
  from: string;
  conditions: SqlConditions;
  scans: ScanRange[];
  /** Row filter rules apply to the caller: figures come from the findings they may see. */
  ruleFiltered: boolean;
}

/**
 * Overviews over the scan overview summaries of the latest completed scan of
 * each provider the caller may see: their cost follows the number of distinct
 * service/region/severity/status combinations, not the number of findings
 * or checks stored. No overview filters on check_id or resource_type (their
 * query specs reject both), so the summaries without those columns serve
 * every request.
 * A caller with row filter rules on findings gets figures from the rows they
 * may see, never the tenant-wide summaries: the same statements run over
 * those findings, grouped into the summaries' shape.
 */
@Injectable()
export class OverviewsService {
  constructor(
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
    private readonly readCache: FindingReadCache,
  ) {}

  /**
   * Runs one overview statement. Summaries are cheap to read every time; the
   * same figures computed from a rule-filtered caller's findings are
   * remembered until those findings change (FindingReadCache).
   */
  query<T>(source: Pick<SummarySource, 'ruleFiltered'>, filters: readonly ParsedFilter[], sql: string, params: unknown[]): Promise<T[]> {
    const manager = tenantManager();
    return source.ruleFiltered ? this.readCache.rows<T>(manager, filters, sql, params) : rows<T>(manager, sql, params);
  }

  async providers(filters: readonly ParsedFilter[]): Promise<ProviderOverviewRow[]> {
    const source = await this.latestSummaries(filters);
    const { conditions } = source;
    const found = await this.query<{ provider_type: string; total: number; fail: number; pass: number; muted: number; manual: number }>(
      source,
      filters,
      `SELECT p.provider AS provider_type, ${STATUS_COUNTS},
              COALESCE(sum(f.findings) FILTER (WHERE f.status = 'MANUAL' AND NOT f.muted), 0)::int AS manual
         FROM ${source.from} JOIN providers p ON p.id = f.provider_id
        ${conditions.where()}
        GROUP BY p.provider ORDER BY p.provider`,
      conditions.params,
    );
    const resources = await this.resourceCounts(source, filters);
    return found.map((r) => ({
      provider_type: r.provider_type,
      findings: { total: r.total, fail: r.fail, pass: r.pass, muted: r.muted, manual: r.manual },
      resources: resources.get(r.provider_type) ?? 0,
    }));
  }

  /**
   * Resources seen by the latest scans, per provider type: the scans' own
   * counts, or, under row filter rules, the distinct resources of the
   * findings the caller may see.
   */
  private async resourceCounts(source: SummarySource, filters: readonly ParsedFilter[]): Promise<Map<string, number>> {
    const { scans } = source;
    const visible = source.ruleFiltered ? await this.visibleFindings(new SqlConditions(), scans) : null;
    let found: Array<{ provider_type: string; resources: number }>;
    if (!visible) {
      found = await rows(
        tenantManager(),
        `SELECT p.provider AS provider_type, COALESCE(sum(i.resource_count), 0)::int AS resources
           FROM scan_ingestions i JOIN providers p ON p.id = i.provider_id
          WHERE i.scan_id = ANY($1::uuid[]) GROUP BY p.provider`,
        [scans.map((s) => s.scanId)],
      );
    } else {
      for (const filter of columnFilters(filters)) addColumnFilter(visible, `f.${filter.field}`, filter);
      found = await this.query(
        source,
        filters,
        `SELECT p.provider AS provider_type, count(DISTINCT l.resource_id)::int AS resources
           FROM findings f
           JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
           JOIN providers p ON p.id = f.provider_id
          ${visible.where()} GROUP BY p.provider`,
        visible.params,
      );
    }
    return new Map(found.map((r) => [r.provider_type, r.resources]));
  }

  /** Every live provider the caller may see, scanned or not, by type. */
  providerCounts(filters: readonly ParsedFilter[]): Promise<ProviderCountRow[]> {
    const conditions = new SqlConditions();
    return rows<ProviderCountRow>(
      tenantManager(),
      `SELECT p.provider AS provider_type, count(*)::int AS count FROM providers p
        WHERE p.id = ANY(${providerScopeSql(conditions, filters)}) GROUP BY p.provider ORDER BY p.provider`,
      conditions.params,
    );
  }

  async findings(filters: readonly ParsedFilter[]): Promise<FindingsOverviewRow> {
    const source = await this.latestSummaries(filters);
    const { from, conditions } = source;
    const [row] = await this.query<FindingsOverviewRow>(
      source,
      filters,
      `SELECT ${STATUS_COUNTS},
              ${deltaCount('new', 'new', 'NOT f.muted')}, ${deltaCount('changed', 'changed', 'NOT f.muted')},
              ${deltaCount('unchanged', '', 'NOT f.muted')},
              ${deltaCount('fail_new', 'new', "f.status = 'FAIL' AND NOT f.muted")}, ${deltaCount('fail_changed', 'changed', "f.status = 'FAIL' AND NOT f.muted")},
              ${deltaCount('pass_new', 'new', "f.status = 'PASS' AND NOT f.muted")}, ${deltaCount('pass_changed', 'changed', "f.status = 'PASS' AND NOT f.muted")},
              ${deltaCount('muted_new', 'new', 'f.muted')}, ${deltaCount('muted_changed', 'changed', 'f.muted')}
         FROM ${from} ${conditions.where()}`,
      conditions.params,
    );
    return row;
  }

  /** Findings per severity; muted ones left out, and only the given statuses when filter[status] is set. */
  async severities(filters: readonly ParsedFilter[]): Promise<SeverityOverviewRow> {
    const source = await this.latestSummaries(filters);
    const { from, conditions } = source;
    conditions.add('NOT f.muted');
    const [row] = await this.query<SeverityOverviewRow>(
      source,
      filters,
      `SELECT ${['critical', 'high', 'medium', 'low', 'informational']
        .map((s) => `COALESCE(sum(f.findings) FILTER (WHERE f.severity = '${s}'), 0)::int AS ${s}`)
        .join(', ')}
         FROM ${from} ${conditions.where()}`,
      conditions.params,
    );
    return row;
  }

  async services(filters: readonly ParsedFilter[]): Promise<ServiceOverviewRow[]> {
    const source = await this.latestSummaries(filters);
    const { from, conditions } = source;
    return this.query<ServiceOverviewRow>(
      source,
      filters,
      `SELECT f.service, ${STATUS_COUNTS} FROM ${from} ${conditions.where()} GROUP BY f.service ORDER BY f.service`,
      conditions.params,
    );
  }

  async regions(filters: readonly ParsedFilter[]): Promise<RegionOverviewRow[]> {
    const source = await this.latestSummaries(filters);
    const { from, conditions } = source;
    return this.query<RegionOverviewRow>(
      source,
      filters,
      `SELECT p.provider AS provider_type, f.region, ${STATUS_COUNTS}
         FROM ${from} JOIN providers p ON p.id = f.provider_id
        ${conditions.where()} GROUP BY p.provider, f.region ORDER BY p.provider, f.region`,
      conditions.params,
    );
  }

  /**
   * The source (alias f) and conditions for the latest completed scan of
   * each provider in scope, with the request's other filters. `withChecks`
   * reads scan_summaries, which keep check_id and resource_type, instead of
   * the coarser rows.
   */
  async latestSummaries(filters: readonly ParsedFilter[], withChecks = false): Promise<SummarySource> {
    const scans = (await latestCompletedScans(tenantManager(), (c) => providerScopeSql(c, filters))).filter((scan) => insertedWithin(scan, filters));
    const conditions = new SqlConditions();
    const visible = await this.visibleFindings(conditions.subquery(), scans);
    const from = visible
      ? `(SELECT f.scan_id, f.provider_id, f.check_id, f.service, f.region, f.resource_type, f.severity, f.status, f.muted,
                 COALESCE(f.delta, '') AS delta, count(*)::int AS findings
            FROM findings f ${visible.where()}
           GROUP BY f.scan_id, f.provider_id, f.check_id, f.service, f.region, f.resource_type, f.severity, f.status, f.muted, f.delta) f`
      : withChecks
        ? 'scan_summaries f'
        : 'scan_overview_summaries f';
    conditions.add(`f.scan_id = ANY(${conditions.param(scans.map((s) => s.scanId))}::uuid[])`);
    for (const filter of columnFilters(filters)) addColumnFilter(conditions, `f.${filter.field}`, filter);
    return { from, conditions, scans, ruleFiltered: visible !== null };
  }

  /**
   * Conditions over findings `f` of the given scans that the caller's row
   * filter rules let through, or null when no rule applies to them. The
   * rules' predicate goes first: its placeholders are numbered from the
   * parameters `conditions` holds when it is asked for.
   */
  async visibleFindings(conditions: SqlConditions, scans: readonly ScanRange[]): Promise<SqlConditions | null> {
    const offset = conditions.params.length;
    const predicate = await this.rowFilter.predicate('findings', 'f', offset);
    if (!predicate) return null;
    conditions.addBound(predicate, offset);
    addScanRestriction(conditions, scans);
    return conditions;
  }
}

function deltaCount(name: string, delta: string, condition: string): string {
  return `COALESCE(sum(f.findings) FILTER (WHERE f.delta = '${delta}' AND ${condition}), 0)::int AS ${name}`;
}

/** The filters that compare a column of the summaries (provider filters pick the scans, inserted_at too; search changes nothing). */
function columnFilters(filters: readonly ParsedFilter[]): ParsedFilter[] {
  return filters.filter((f) => !isProviderFilter(f) && f.field !== 'inserted_at' && f.field !== 'search');
}
