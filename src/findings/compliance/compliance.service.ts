import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ApiError } from '../../common/errors/api-error';
import { ParsedFilter, ParsedQuery } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { TaskRow } from '../../tasks/task.resource';
import { addColumnFilter } from '../query/column-filters';
import { isProviderFilter, providerScopeSql } from '../query/provider-scope';
import { FindingReadCache } from '../query/finding-read-cache';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { unfinishedScanTask } from '../scans/scan-follow-up-task';
import { addScanRestriction, insertedWithin, latestCompletedScans, ScanRange, scansByIds } from '../scans/scan-ranges';
import { frameworkName, RequirementCounts, requirementStatus } from './compliance-framework';
import { ComplianceMetadataRow, ComplianceOverviewRow, RequirementDetailRow } from './compliance.resources';
import { FINDING_REQUIREMENTS_JOIN, FRAMEWORK_KEY_SQL, REQUIREMENT_COUNTS_SQL, REQUIREMENT_ID_SQL } from './finding-requirements-sql';

/** One requirement of one framework for one provider type, summed over the scans and regions read. */
interface RequirementFigures extends RequirementCounts {
  provider_type: string;
  framework_key: string;
  requirement_id: string;
}

export type ComplianceAnswer<Row> = { task: TaskRow } | { rows: Row[]; meta: Record<string, unknown> };

/** Filters applied to the derived names (compliance id, framework, version), after aggregation. */
const NAME_FILTERS = new Set(['compliance_id', 'framework', 'version', 'search']);

/**
 * Compliance of a scan, or of the latest completed scan of each provider a
 * provider filter selects. Figures come from the `compliance` queue's
 * per-scan summaries, so a read costs what the frameworks and requirements
 * do, whatever the number of findings; a caller with row filter rules on
 * findings gets them computed from the findings they may see instead.
 */
@Injectable()
export class ComplianceService {
  constructor(
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
    private readonly readCache: FindingReadCache,
  ) {}

  /**
   * `everyProvider`: without a scan or provider filter, the latest scan of
   * every provider in the caller's scope (the overview compliance watchlist)
   * instead of a 400.
   */
  async overviews(query: ParsedQuery, everyProvider = false): Promise<ComplianceAnswer<ComplianceOverviewRow>> {
    const read = await this.figures(query.filters, everyProvider);
    if ('task' in read) return read;
    const byCompliance = new Map<string, { row: ComplianceOverviewRow; requirements: Map<string, RequirementCounts> }>();
    for (const figures of read.figures) {
      const name = frameworkName(figures.framework_key, figures.provider_type);
      let entry = byCompliance.get(name.complianceId);
      if (!entry) {
        const row = { compliance_id: name.complianceId, framework: name.framework, version: name.version, requirements_passed: 0, requirements_failed: 0, requirements_manual: 0, total_requirements: 0 };
        entry = { row, requirements: new Map() };
        byCompliance.set(name.complianceId, entry);
      }
      addCounts(entry.requirements, figures.requirement_id, figures);
    }
    const overviews = [...byCompliance.values()]
      .map(({ row, requirements }) => {
        for (const counts of requirements.values()) {
          const status = requirementStatus(counts);
          if (status === 'PASS') row.requirements_passed++;
          else if (status === 'FAIL') row.requirements_failed++;
          else row.requirements_manual++;
        }
        row.total_requirements = requirements.size;
        return row;
      })
      .filter((row) => matchesNameFilters(row, query.filters));
    const descending = query.sort[0]?.descending ?? false;
    overviews.sort((a, b) => (descending ? -1 : 1) * a.compliance_id.localeCompare(b.compliance_id));
    return pageOf(overviews, query);
  }

  /** The requirements of one compliance id (filter[compliance_id], required), each with its status across regions. */
  async requirements(query: ParsedQuery): Promise<ComplianceAnswer<RequirementDetailRow>> {
    const wanted = query.filters.find((f) => f.field === 'compliance_id' && f.operator === 'eq');
    if (!wanted) throw ApiError.badRequest('required', 'filter[compliance_id] is required.', { parameter: 'filter[compliance_id]' });
    const read = await this.figures(query.filters);
    if ('task' in read) return read;
    const requirements = new Map<string, RequirementCounts>();
    let name: { framework: string; version: string } | null = null;
    for (const figures of read.figures) {
      const described = frameworkName(figures.framework_key, figures.provider_type);
      if (described.complianceId !== wanted.value) continue;
      name = described;
      addCounts(requirements, figures.requirement_id, figures);
    }
    const details: RequirementDetailRow[] = [...requirements.entries()]
      .map(([id, counts]) => ({ id, framework: name!.framework, version: name!.version, status: requirementStatus(counts) }))
      .filter((row) => matchesNameFilters({ ...row, compliance_id: String(wanted.value) }, query.filters))
      .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    return pageOf(details, query);
  }

  /** The regions the compliance figures of a scan (or of each provider's latest scan) cover. */
  async metadata(filters: readonly ParsedFilter[]): Promise<{ task: TaskRow } | { metadata: ComplianceMetadataRow }> {
    const read = await this.requirementRows(filters);
    if ('task' in read) return read;
    const { source, conditions } = read;
    const sql = `SELECT DISTINCT p.provider AS provider_type, c.framework AS framework_key, c.region
                   FROM ${source} JOIN providers p ON p.id = c.provider_id ${conditions.where()}`;
    const found = await this.run<{ provider_type: string; framework_key: string; region: string }>(read, filters, sql, conditions.params);
    // The name filters compare the names derived from each framework key, as the overviews do.
    const named = (r: { provider_type: string; framework_key: string }) => {
      const name = frameworkName(r.framework_key, r.provider_type);
      return { compliance_id: name.complianceId, framework: name.framework, version: name.version };
    };
    const regions = found.filter((r) => r.region !== '' && matchesNameFilters(named(r), filters)).map((r) => r.region);
    return { metadata: { regions: [...new Set(regions)].sort() } };
  }

  private async figures(filters: readonly ParsedFilter[], everyProvider = false): Promise<{ task: TaskRow } | { figures: RequirementFigures[] }> {
    const read = await this.requirementRows(filters, everyProvider);
    if ('task' in read) return read;
    const { source, conditions } = read;
    const sql = `SELECT p.provider AS provider_type, c.framework AS framework_key, c.requirement_id,
              sum(c.pass)::int AS pass, sum(c.fail)::int AS fail, sum(c.manual)::int AS manual, sum(c.muted)::int AS muted, sum(c.total)::int AS total
         FROM ${source} JOIN providers p ON p.id = c.provider_id
        ${conditions.where()}
        GROUP BY p.provider, c.framework, c.requirement_id`;
    return { figures: await this.run<RequirementFigures>(read, filters, sql, conditions.params) };
  }

  /**
   * Per-requirement rows (alias c: provider_id, region, framework,
   * requirement_id and counts) of the scans a read covers: the summaries, or
   * the same rows computed from the findings a caller's row filter rules let
   * through.
   */
  private async requirementRows(
    filters: readonly ParsedFilter[],
    everyProvider = false,
  ): Promise<{ task: TaskRow } | { source: string; conditions: SqlConditions; ruleFiltered: boolean }> {
    const scans = await this.scansOf(tenantManager(), filters, everyProvider);
    if ('task' in scans) return scans;
    const conditions = new SqlConditions();
    // Asked first: its placeholders are numbered from the start of the statement's parameters.
    const predicate = await this.rowFilter.predicate('findings', 'f', 0);
    if (predicate) {
      const inner = conditions.subquery().addBound(predicate, 0);
      addScanRestriction(inner, scans.ranges);
      const source = `(SELECT f.provider_id, f.region, ${FRAMEWORK_KEY_SQL} AS framework, ${REQUIREMENT_ID_SQL} AS requirement_id, ${REQUIREMENT_COUNTS_SQL}
                   FROM findings f ${FINDING_REQUIREMENTS_JOIN} ${inner.where()}
                  GROUP BY f.provider_id, f.region, 3, 4) c`;
      addRegionFilters(conditions, filters);
      return { source, conditions, ruleFiltered: true };
    }
    conditions.add(`c.scan_id = ANY(${conditions.param(scans.ranges.map((s) => s.scanId))}::uuid[])`);
    addRegionFilters(conditions, filters);
    return { source: 'compliance_requirement_summaries c', conditions, ruleFiltered: false };
  }

  /** Figures computed from a rule-filtered caller's findings are remembered until those findings change. */
  private run<T>(read: { ruleFiltered: boolean }, filters: readonly ParsedFilter[], sql: string, params: unknown[]): Promise<T[]> {
    const manager = tenantManager();
    return read.ruleFiltered ? this.readCache.rows<T>(manager, filters, sql, params) : rows<T>(manager, sql, params);
  }

  /**
   * The scans a read covers. A scan the caller cannot see is 404, like one
   * that does not exist; while its compliance job is pending, the answer is
   * that job's task (202).
   */
  private async scansOf(manager: EntityManager, filters: readonly ParsedFilter[], everyProvider = false): Promise<{ task: TaskRow } | { ranges: ScanRange[] }> {
    const scope = (c: SqlConditions) => providerScopeSql(c, filters);
    const scanFilter = filters.find((f) => f.field === 'scan_id');
    if (scanFilter) {
      const scanId = String(scanFilter.value);
      const conditions = new SqlConditions();
      const [scan] = await rows<{ provider_id: string }>(
        manager,
        `SELECT s.provider_id FROM scans s WHERE s.id = ${conditions.param(scanId)}::uuid AND s.provider_id = ANY(${scope(conditions)})`,
        conditions.params,
      );
      if (!scan) throw ApiError.notFound('No scan with this id.');
      const task = await unfinishedScanTask(manager, 'scan-compliance', scanId, scan.provider_id);
      if (task) return { task };
      return { ranges: (await scansByIds(manager, [scanId], scope)).filter((s) => insertedWithin(s, filters)) };
    }
    if (!everyProvider && !filters.some(isProviderFilter)) {
      throw ApiError.badRequest('required', 'filter[scan_id] is required unless a provider filter (provider_id, provider_type, ...) is given.', {
        parameter: 'filter[scan_id]',
      });
    }
    return { ranges: (await latestCompletedScans(manager, scope)).filter((s) => insertedWithin(s, filters)) };
  }
}

function addCounts(into: Map<string, RequirementCounts>, requirementId: string, counts: RequirementCounts): void {
  const sum = into.get(requirementId) ?? { pass: 0, fail: 0, manual: 0, muted: 0, total: 0 };
  sum.pass += counts.pass;
  sum.fail += counts.fail;
  sum.manual += counts.manual;
  sum.muted += counts.muted;
  sum.total += counts.total;
  into.set(requirementId, sum);
}

function matchesNameFilters(row: { compliance_id: string; framework: string; version: string }, filters: readonly ParsedFilter[]): boolean {
  return filters.every((filter) => {
    if (!NAME_FILTERS.has(filter.field)) return true;
    const wanted = String(filter.value).toLowerCase();
    if (filter.field === 'search') return [row.compliance_id, row.framework].some((value) => value.toLowerCase().includes(wanted));
    const value = row[filter.field as 'compliance_id' | 'framework' | 'version'];
    if (filter.operator === 'icontains') return value.toLowerCase().includes(wanted);
    if (filter.operator === 'iexact') return value.toLowerCase() === wanted;
    return value === filter.value;
  });
}

function pageOf<Row>(all: Row[], query: ParsedQuery): { rows: Row[]; meta: Record<string, unknown> } {
  const page = query.page;
  if (page.mode !== 'number') return { rows: all, meta: { pagination: { count: all.length } } };
  const start = (page.number - 1) * page.size;
  return {
    rows: all.slice(start, start + page.size),
    meta: { pagination: { page: page.number, pages: Math.max(1, Math.ceil(all.length / page.size)), count: all.length } },
  };
}

function addRegionFilters(conditions: SqlConditions, filters: readonly ParsedFilter[]): void {
  for (const filter of filters) {
    if (filter.field === 'region') addColumnFilter(conditions, 'c.region', filter);
  }
}
