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
import { CHECK_COUNTS_SQL } from './check-counts-sql';
import { frameworkName, RequirementCounts, RequirementStatus, requirementStatus } from './compliance-framework';
import { ComplianceAttributesRow, ComplianceMetadataRow, ComplianceOverviewRow, RequirementDetailRow } from './compliance.resources';
import { FINDING_REQUIREMENTS_JOIN, FRAMEWORK_KEY_SQL, REQUIREMENT_COUNTS_SQL, REQUIREMENT_ID_SQL } from './finding-requirements-sql';
import { FrameworkCatalog } from './frameworks/framework-catalog';
import { FrameworkDefinition } from './frameworks/framework-definition';
import { checkTotals, combineStatuses, evaluateFramework, statusCounts } from './frameworks/requirement-evaluation';

/** One requirement of one framework for one provider type, summed over the scans and regions read. */
interface RequirementFigures extends RequirementCounts {
  provider_type: string;
  framework_key: string;
  requirement_id: string;
}

/** A requirement's status for each provider type read, with what its framework says about it. */
interface NamedRequirement {
  framework: string;
  version: string;
  description: string;
  statuses: RequirementStatus[];
}

/**
 * Where an answer's figures come from, in its `meta.compliance_source`:
 * Prowler's framework definitions (every requirement counts), the findings'
 * own compliance mappings (only the requirements findings mention), or both
 * (provider types with and without definitions loaded).
 */
type ComplianceSource = 'framework_definitions' | 'finding_mappings' | 'mixed';

export type ComplianceAnswer<Row> = { task: TaskRow } | { rows: Row[]; meta: Record<string, unknown> };

/** Filters applied to the derived names (compliance id, framework, version), after aggregation. */
const NAME_FILTERS = new Set(['compliance_id', 'framework', 'version', 'search']);

interface ScansRead {
  /** Scans of provider types with framework definitions loaded, by provider type. */
  defined: Map<string, ScanRange[]>;
  /** Scans whose compliance comes from finding mappings. */
  mapped: ScanRange[];
}

/**
 * Compliance of a scan, or of the latest completed scan of each provider a
 * provider filter selects. Where the provider type's framework definitions
 * are loaded, every requirement of each framework counts, decided by its
 * checks' findings (per-scan check figures the `compliance` queue keeps);
 * otherwise only the requirements the findings' own mappings mention count
 * (per-scan requirement figures). A read costs what the frameworks and checks
 * do, whatever the number of findings; a caller with row filter rules on
 * findings gets the same figures computed from the findings they may see.
 */
@Injectable()
export class ComplianceService {
  constructor(
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
    private readonly readCache: FindingReadCache,
    private readonly catalog: FrameworkCatalog,
  ) {}

  /**
   * `everyProvider`: without a scan or provider filter, the latest scan of
   * every provider in the caller's scope (the overview compliance watchlist)
   * instead of a 400.
   */
  async overviews(query: ParsedQuery, everyProvider = false): Promise<ComplianceAnswer<ComplianceOverviewRow>> {
    const scans = await this.scansRead(query.filters, everyProvider);
    if ('task' in scans) return scans;
    const byCompliance = await this.requirementsByCompliance(scans, query.filters);
    const overviews = [...byCompliance.entries()]
      .map(([complianceId, requirements]) => {
        const first = requirements.values().next().value as NamedRequirement | undefined;
        const counts = statusCounts([...requirements.values()].map((r) => combineStatuses(r.statuses)));
        return {
          compliance_id: complianceId,
          framework: first?.framework ?? '',
          version: first?.version ?? '',
          requirements_passed: counts.passed,
          requirements_failed: counts.failed,
          requirements_manual: counts.manual,
          total_requirements: counts.total,
        };
      })
      .filter((row) => matchesNameFilters(row, query.filters));
    const descending = query.sort[0]?.descending ?? false;
    overviews.sort((a, b) => (descending ? -1 : 1) * a.compliance_id.localeCompare(b.compliance_id));
    return pageOf(overviews, query, sourceOf(scans));
  }

  /** The requirements of one compliance id (filter[compliance_id], required), each with its status across regions. */
  async requirements(query: ParsedQuery): Promise<ComplianceAnswer<RequirementDetailRow>> {
    const wanted = query.filters.find((f) => f.field === 'compliance_id' && f.operator === 'eq');
    if (!wanted) throw ApiError.badRequest('required', 'filter[compliance_id] is required.', { parameter: 'filter[compliance_id]' });
    const complianceId = String(wanted.value);
    const scans = await this.scansRead(query.filters);
    if ('task' in scans) return scans;
    const requirements = (await this.requirementsByCompliance(scans, query.filters, complianceId)).get(complianceId);
    if (!requirements && this.catalog.loaded && this.catalog.providerTypesWith(complianceId).length === 0) {
      throw ApiError.notFound(`No compliance framework named ${JSON.stringify(complianceId.slice(0, 40))}.`);
    }
    const details: RequirementDetailRow[] = [...(requirements ?? new Map<string, NamedRequirement>()).entries()]
      .map(([id, r]) => ({ id, framework: r.framework, version: r.version, description: r.description, status: combineStatuses(r.statuses) }))
      .filter((row) => matchesNameFilters({ ...row, compliance_id: complianceId }, query.filters))
      .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    return pageOf(details, query, sourceOf(scans));
  }

  /**
   * Every requirement of one framework with its attributes and check ids, for
   * the provider type of filter[scan_id] (universal frameworks list other
   * checks per provider type), else the first provider type that has it.
   */
  async attributes(filters: readonly ParsedFilter[]): Promise<ComplianceAttributesRow[]> {
    const wanted = filters.find((f) => f.field === 'compliance_id');
    if (!wanted) throw ApiError.badRequest('required', 'filter[compliance_id] is required.', { parameter: 'filter[compliance_id]' });
    const complianceId = String(wanted.value);
    const scanFilter = filters.find((f) => f.field === 'scan_id');
    let providerType: string | undefined;
    if (scanFilter) {
      const conditions = new SqlConditions();
      const [scan] = await rows<{ provider: string }>(
        tenantManager(),
        `SELECT p.provider FROM scans s JOIN providers p ON p.id = s.provider_id
          WHERE s.id = ${conditions.param(String(scanFilter.value))}::uuid AND s.provider_id = ANY(${providerScopeSql(conditions, [])})`,
        conditions.params,
      );
      if (!scan) throw ApiError.notFound('No scan with this id.');
      providerType = scan.provider;
    } else {
      providerType = this.catalog.providerTypesWith(complianceId)[0];
    }
    const framework = providerType ? this.catalog.framework(providerType, complianceId) : null;
    if (!framework) throw ApiError.notFound(`No compliance framework named ${JSON.stringify(complianceId.slice(0, 40))} is loaded for this provider type.`);
    return framework.requirements.map((requirement) => ({
      id: requirement.id,
      compliance_name: framework.name,
      framework_description: framework.description,
      name: requirement.name,
      framework: framework.framework,
      version: framework.version,
      description: requirement.description,
      attributes: {
        metadata: requirement.attributes,
        check_ids: requirement.checks,
        ...(requirement.technique ? { technique_details: requirement.technique } : {}),
      },
    }));
  }

  /** The regions the compliance figures of a scan (or of each provider's latest scan) cover. */
  async metadata(filters: readonly ParsedFilter[]): Promise<{ task: TaskRow } | { metadata: ComplianceMetadataRow }> {
    const scans = await this.scansRead(filters);
    if ('task' in scans) return scans;
    const regions = new Set<string>();
    const definedScans = [...scans.defined.values()].flat();
    if (definedScans.length > 0) {
      const wantsName = filters.some((f) => NAME_FILTERS.has(f.field));
      const read = await this.checkRows(definedScans, filters, true);
      for (const row of read) {
        // A name filter keeps the regions of the provider types that have a framework it selects.
        if (wantsName && !this.frameworksMatching(row.provider_type, filters)) continue;
        if (row.region !== '') regions.add(row.region);
      }
    }
    if (scans.mapped.length > 0) {
      const read = await this.mappingRows(scans.mapped, filters);
      const { source, conditions } = read;
      const sql = `SELECT DISTINCT p.provider AS provider_type, c.framework AS framework_key, c.region
                     FROM ${source} JOIN providers p ON p.id = c.provider_id ${conditions.where()}`;
      const found = await this.run<{ provider_type: string; framework_key: string; region: string }>(read, filters, sql, conditions.params);
      for (const r of found) {
        const name = frameworkName(r.framework_key, r.provider_type);
        if (r.region !== '' && matchesNameFilters({ compliance_id: name.complianceId, framework: name.framework, version: name.version }, filters)) regions.add(r.region);
      }
    }
    return { metadata: { regions: [...regions].sort() } };
  }

  /**
   * Per compliance id (only `only`, when given), each requirement with its
   * statuses: from the definitions for the provider types that have them,
   * from the finding mappings for the others.
   */
  private async requirementsByCompliance(scans: ScansRead, filters: readonly ParsedFilter[], only?: string): Promise<Map<string, Map<string, NamedRequirement>>> {
    const result = new Map<string, Map<string, NamedRequirement>>();
    const add = (complianceId: string, requirementId: string, named: Omit<NamedRequirement, 'statuses'>, status: RequirementStatus) => {
      const requirements = result.get(complianceId) ?? new Map<string, NamedRequirement>();
      const entry = requirements.get(requirementId) ?? { ...named, statuses: [] };
      entry.statuses.push(status);
      requirements.set(requirementId, entry);
      result.set(complianceId, requirements);
    };
    if (scans.defined.size > 0) {
      const counts = await this.checkRows([...scans.defined.values()].flat(), filters);
      for (const providerType of scans.defined.keys()) {
        const totals = checkTotals(counts.filter((c) => c.provider_type === providerType));
        for (const framework of this.catalog.frameworksOf(providerType)?.values() ?? []) {
          if (only !== undefined && framework.complianceId !== only) continue;
          for (const { requirement, status } of evaluateFramework(framework, totals)) {
            add(framework.complianceId, requirement.id, { framework: framework.framework, version: framework.version, description: requirement.description }, status);
          }
        }
      }
    }
    if (scans.mapped.length > 0) {
      // Mapped figures are summed per requirement over scans and regions first, then given one status.
      const sums = new Map<string, { name: ReturnType<typeof frameworkName>; requirementId: string; counts: RequirementCounts }>();
      for (const figures of await this.mappingFigures(scans.mapped, filters)) {
        const name = frameworkName(figures.framework_key, figures.provider_type);
        if (only !== undefined && name.complianceId !== only) continue;
        const key = `${name.complianceId}\u0000${figures.requirement_id}`;
        const sum = sums.get(key) ?? { name, requirementId: figures.requirement_id, counts: { pass: 0, fail: 0, manual: 0, muted: 0, total: 0 } };
        for (const field of ['pass', 'fail', 'manual', 'muted', 'total'] as const) sum.counts[field] += figures[field];
        sums.set(key, sum);
      }
      for (const { name, requirementId, counts } of sums.values()) {
        add(name.complianceId, requirementId, { framework: name.framework, version: name.version, description: '' }, requirementStatus(counts));
      }
    }
    return result;
  }

  private frameworksMatching(providerType: string, filters: readonly ParsedFilter[]): boolean {
    return [...(this.catalog.frameworksOf(providerType)?.values() ?? [])].some((f: FrameworkDefinition) =>
      matchesNameFilters({ compliance_id: f.complianceId, framework: f.framework, version: f.version }, filters),
    );
  }

  /**
   * Per provider type and check (and region, for `byRegion`) of the given
   * scans: the kept check figures, or the same from the findings a caller's
   * rules let through. Region filters apply either way.
   */
  private async checkRows(scans: ScanRange[], filters: readonly ParsedFilter[], byRegion = false) {
    const conditions = new SqlConditions();
    const predicate = await this.rowFilter.predicate('findings', 'f', 0);
    let source = 'scan_check_summaries c';
    if (predicate) {
      const inner = conditions.subquery().addBound(predicate, 0);
      addScanRestriction(inner, scans);
      source = `(SELECT f.provider_id, f.check_id, f.region, ${CHECK_COUNTS_SQL} FROM findings f ${inner.where()} GROUP BY f.provider_id, f.check_id, f.region) c`;
    } else {
      conditions.add(`c.scan_id = ANY(${conditions.param(scans.map((s) => s.scanId))}::uuid[])`);
    }
    addRegionFilters(conditions, filters);
    const region = byRegion ? 'c.region' : `''`;
    const sql = `SELECT p.provider AS provider_type, c.check_id, ${region} AS region, sum(c.pass)::int AS pass, sum(c.fail)::int AS fail
                   FROM ${source} JOIN providers p ON p.id = c.provider_id ${conditions.where()}
                  GROUP BY 1, 2, 3`;
    return this.run<{ provider_type: string; check_id: string; region: string; pass: number; fail: number }>(
      { ruleFiltered: predicate !== null },
      filters,
      sql,
      conditions.params,
    );
  }

  private async mappingFigures(scans: ScanRange[], filters: readonly ParsedFilter[]): Promise<RequirementFigures[]> {
    const read = await this.mappingRows(scans, filters);
    const { source, conditions } = read;
    const sql = `SELECT p.provider AS provider_type, c.framework AS framework_key, c.requirement_id,
              sum(c.pass)::int AS pass, sum(c.fail)::int AS fail, sum(c.manual)::int AS manual, sum(c.muted)::int AS muted, sum(c.total)::int AS total
         FROM ${source} JOIN providers p ON p.id = c.provider_id
        ${conditions.where()}
        GROUP BY p.provider, c.framework, c.requirement_id`;
    return this.run<RequirementFigures>(read, filters, sql, conditions.params);
  }

  /**
   * Per-requirement rows of the finding mappings (alias c: provider_id,
   * region, framework, requirement_id and counts) of the given scans: the
   * summaries, or the same rows computed from the findings a caller's row
   * filter rules let through.
   */
  private async mappingRows(scans: ScanRange[], filters: readonly ParsedFilter[]): Promise<{ source: string; conditions: SqlConditions; ruleFiltered: boolean }> {
    const conditions = new SqlConditions();
    // Asked first: its placeholders are numbered from the start of the statement's parameters.
    const predicate = await this.rowFilter.predicate('findings', 'f', 0);
    if (predicate) {
      const inner = conditions.subquery().addBound(predicate, 0);
      addScanRestriction(inner, scans);
      const source = `(SELECT f.provider_id, f.region, ${FRAMEWORK_KEY_SQL} AS framework, ${REQUIREMENT_ID_SQL} AS requirement_id, ${REQUIREMENT_COUNTS_SQL}
                   FROM findings f ${FINDING_REQUIREMENTS_JOIN} ${inner.where()}
                  GROUP BY f.provider_id, f.region, 3, 4) c`;
      addRegionFilters(conditions, filters);
      return { source, conditions, ruleFiltered: true };
    }
    conditions.add(`c.scan_id = ANY(${conditions.param(scans.map((s) => s.scanId))}::uuid[])`);
    addRegionFilters(conditions, filters);
    return { source: 'compliance_requirement_summaries c', conditions, ruleFiltered: false };
  }

  /** Figures computed from a rule-filtered caller's findings are remembered until those findings change. */
  private run<T>(read: { ruleFiltered: boolean }, filters: readonly ParsedFilter[], sql: string, params: unknown[]): Promise<T[]> {
    const manager = tenantManager();
    return read.ruleFiltered ? this.readCache.rows<T>(manager, filters, sql, params) : rows<T>(manager, sql, params);
  }

  /** The scans a read covers, split by where their compliance comes from. */
  private async scansRead(filters: readonly ParsedFilter[], everyProvider = false): Promise<{ task: TaskRow } | ScansRead> {
    const manager = tenantManager();
    const scans = await this.scansOf(manager, filters, everyProvider);
    if ('task' in scans) return scans;
    const providerIds = [...new Set(scans.ranges.map((s) => s.providerId))];
    const types = new Map(
      (await rows<{ id: string; provider: string }>(manager, `SELECT id, provider FROM providers WHERE id = ANY($1::uuid[])`, [providerIds])).map((p) => [p.id, p.provider]),
    );
    const read: ScansRead = { defined: new Map(), mapped: [] };
    for (const scan of scans.ranges) {
      const type = types.get(scan.providerId) ?? '';
      if (this.catalog.frameworksOf(type)) read.defined.set(type, [...(read.defined.get(type) ?? []), scan]);
      else read.mapped.push(scan);
    }
    return read;
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

function sourceOf(scans: ScansRead): ComplianceSource {
  if (scans.mapped.length === 0) return scans.defined.size > 0 ? 'framework_definitions' : 'finding_mappings';
  return scans.defined.size > 0 ? 'mixed' : 'finding_mappings';
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

function pageOf<Row>(all: Row[], query: ParsedQuery, source: ComplianceSource): { rows: Row[]; meta: Record<string, unknown> } {
  const page = query.page;
  const meta = { compliance_source: source };
  if (page.mode !== 'number') return { rows: all, meta: { ...meta, pagination: { count: all.length } } };
  const start = (page.number - 1) * page.size;
  return {
    rows: all.slice(start, start + page.size),
    meta: { ...meta, pagination: { page: page.number, pages: Math.max(1, Math.ceil(all.length / page.size)), count: all.length } },
  };
}

function addRegionFilters(conditions: SqlConditions, filters: readonly ParsedFilter[]): void {
  for (const filter of filters) {
    if (filter.field === 'region') addColumnFilter(conditions, 'c.region', filter);
  }
}
