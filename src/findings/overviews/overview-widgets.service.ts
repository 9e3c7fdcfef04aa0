import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ParsedFilter, ParsedQuery } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { ComplianceService } from '../compliance/compliance.service';
import { FindingReadCache } from '../query/finding-read-cache';
import { isProviderFilter, providerScopeSql } from '../query/provider-scope';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { addScanRestriction, ScanRange } from '../scans/scan-ranges';
import { AttackSurfaceRow, GroupedFindingsRow, ResourceGroupRow, SeverityCounts, SeverityDayRow, WatchlistRow } from './overview-widgets.resources';
import { OverviewsService, SummarySource } from './overviews.service';

/**
 * Prowler's attack surfaces: two are check categories, the others are named
 * by checks (and apply to some provider types only).
 */
const ATTACK_SURFACES: ReadonlyArray<{ type: string; category?: string; checks: readonly string[]; providers: readonly string[] | null }> = [
  { type: 'internet-exposed', category: 'internet-exposed', checks: [], providers: null },
  { type: 'secrets', category: 'secrets', checks: [], providers: null },
  { type: 'privilege-escalation', checks: ['iam_policy_allows_privilege_escalation', 'iam_inline_policy_allows_privilege_escalation'], providers: ['aws', 'kubernetes'] },
  { type: 'ec2-imdsv1', checks: ['ec2_instance_imdsv2_enabled', 'ec2_instance_account_imdsv2_enabled'], providers: ['aws'] },
];

/** What a check is grouped by in the categories and resource-groups overviews (also the name of each one's filter). */
type CheckFactKind = 'category' | 'resource_group';

interface FactCounts {
  name: string;
  severity: string;
  total: number;
  failed: number;
  new_failed: number;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
/** Prowler's DailySeveritySummaryFilter.MAX_DATE_RANGE_DAYS. */
const MAX_TIMESERIES_DAYS = 365;
const DAY_MS = 86_400_000;

/**
 * The overview page's widgets beside the summary overviews: attack surfaces,
 * categories, resource groups, the severity time series and the compliance
 * watchlist. Each reads the pre-computed per-scan summaries, or, for a
 * caller with row filter rules on findings, the same figures from the
 * findings they may see.
 */
@Injectable()
export class OverviewWidgetsService {
  constructor(
    private readonly overviews: OverviewsService,
    private readonly compliance: ComplianceService,
    private readonly readCache: FindingReadCache,
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
  ) {}

  /**
   * Findings of the latest scans by attack surface: all of them, the unmuted failed, the muted failed; every type listed.
   * A summary row counts when its check is named by a surface or has a
   * surface's category, decided on the check_metadata row the statement
   * joins anyway. (Matched against an array of the category checks built by
   * a sub-select, every summary row of the latest scans was compared with
   * each element of that array in turn: PostgreSQL hashes only arrays known
   * when it plans.)
   */
  async attackSurfaces(filters: readonly ParsedFilter[]): Promise<AttackSurfaceRow[]> {
    const scoped = filters.filter(isProviderFilter);
    const surfaceCategories = ATTACK_SURFACES.flatMap((s) => (s.category ? [s.category] : []));
    const source = await this.overviews.latestSummaries(scoped, true);
    const { conditions } = source;
    const categories = conditions.param(surfaceCategories);
    const named = conditions.param(ATTACK_SURFACES.flatMap((s) => s.checks));
    conditions.add(`(f.check_id = ANY(${named}::text[]) OR m.categories && ${categories}::text[])`);
    const found = await this.overviews.query<{ provider_type: string; check_id: string; categories: string[]; total: number; failed: number; muted_failed: number }>(
      source,
      scoped,
      `SELECT p.provider AS provider_type, f.check_id, COALESCE(m.categories, '{}') AS categories, COALESCE(sum(f.findings), 0)::int AS total,
              COALESCE(sum(f.findings) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted), 0)::int AS failed,
              COALESCE(sum(f.findings) FILTER (WHERE f.status = 'FAIL' AND f.muted), 0)::int AS muted_failed
         FROM ${source.from} JOIN providers p ON p.id = f.provider_id LEFT JOIN check_metadata m ON m.check_id = f.check_id
        ${conditions.where()}
        GROUP BY p.provider, f.check_id, m.categories`,
      conditions.params,
    );
    return ATTACK_SURFACES.map((surface) => {
      const counted = found.filter(
        (r) =>
          (surface.category ? r.categories.includes(surface.category) : surface.checks.includes(r.check_id)) &&
          (surface.providers === null || surface.providers.includes(r.provider_type)),
      );
      return {
        attack_surface_type: surface.type,
        total_findings: counted.reduce((n, r) => n + r.total, 0),
        failed_findings: counted.reduce((n, r) => n + r.failed, 0),
        muted_failed_findings: counted.reduce((n, r) => n + r.muted_failed, 0),
      };
    });
  }

  /**
   * Findings of the latest scans by check category (one check may have
   * several), as Prowler counts them: total leaves muted findings out,
   * failed and new failed are the unmuted FAIL ones, and the severity
   * breakdown is of the failed.
   */
  async categories(filters: readonly ParsedFilter[]): Promise<GroupedFindingsRow[]> {
    const source = await this.overviews.latestSummaries(filters.filter(isProviderFilter), true);
    return this.groupedByCheckFact(source, filters, 'category');
  }

  /**
   * The same by the checks' resource group (from the check definitions, see
   * CheckCatalog), with the distinct resources each group's findings name.
   */
  async resourceGroups(filters: readonly ParsedFilter[]): Promise<ResourceGroupRow[]> {
    const source = await this.overviews.latestSummaries(filters.filter(isProviderFilter), true);
    const groups = await this.groupedByCheckFact(source, filters, 'resource_group');
    if (groups.length === 0) return [];
    const resources = await this.resourcesPerGroup(source, filters, groups.map((g) => g.name));
    return groups.map((g) => ({ ...g, resources_count: resources.get(g.name) ?? 0 }));
  }

  /**
   * Per category or resource group (`kind`, also the name of its filter) of
   * the checks of the source's scans, by severity, summed as Prowler does:
   * the scans' own summaries, or, for a caller with row filter rules, the
   * findings they may see.
   */
  private async groupedByCheckFact(source: SummarySource, filters: readonly ParsedFilter[], kind: CheckFactKind): Promise<GroupedFindingsRow[]> {
    const wanted = filters.find((f) => f.field === kind);
    // Categories are kept lower case; resource groups as the definitions spell them.
    const names = wanted
      ? ((wanted.operator === 'in' ? wanted.value : [wanted.value]) as string[]).map((n) => (kind === 'category' ? n.toLowerCase() : n))
      : null;
    const found = source.ruleFiltered ? await this.countedFromFindings(source, filters, kind, names) : await this.countedFromSummaries(source.scans, kind, names);
    const groups = new Map<string, GroupedFindingsRow>();
    for (const row of found) {
      const group = groups.get(row.name) ?? {
        name: row.name,
        total_findings: 0,
        failed_findings: 0,
        new_failed_findings: 0,
        severity: { critical: 0, high: 0, medium: 0, low: 0, informational: 0 },
      };
      group.total_findings += row.total;
      group.failed_findings += row.failed;
      group.new_failed_findings += row.new_failed;
      if (row.severity in group.severity) group.severity[row.severity as keyof SeverityCounts] = row.failed;
      groups.set(row.name, group);
    }
    return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Counts per name and severity from the scans' scan_check_fact_summaries (written by the scan's aggregation). */
  private countedFromSummaries(scans: readonly ScanRange[], kind: CheckFactKind, names: string[] | null): Promise<FactCounts[]> {
    const conditions = new SqlConditions();
    conditions.add(`f.scan_id = ANY(${conditions.param(scans.map((s) => s.scanId))}::uuid[])`);
    conditions.add(`f.kind = ${conditions.param(kind)}`);
    if (names) conditions.add(`f.name = ANY(${conditions.param(names)}::text[])`);
    return rows<FactCounts>(
      tenantManager(),
      `SELECT f.name, f.severity, sum(f.total)::int AS total, sum(f.failed)::int AS failed, sum(f.new_failed)::int AS new_failed
         FROM scan_check_fact_summaries f ${conditions.where()} GROUP BY f.name, f.severity`,
      conditions.params,
    );
  }

  /**
   * The same counts from the rows of a rule-filtered source (the findings
   * the caller may see), summed per check first: the join and the
   * unnesting then touch one row per check and severity.
   */
  private countedFromFindings(source: SummarySource, filters: readonly ParsedFilter[], kind: CheckFactKind, names: string[] | null): Promise<FactCounts[]> {
    const { conditions } = source;
    const namesOf = kind === 'category' ? 'unnest(m.categories)' : 'm.resource_group';
    const nameFilter = names ? `AND g.name = ANY(${conditions.param(names)}::text[])` : '';
    return this.overviews.query<FactCounts>(
      source,
      filters,
      `WITH per_check AS (
         SELECT f.check_id, f.severity,
                COALESCE(sum(f.findings) FILTER (WHERE NOT f.muted), 0)::int AS total,
                COALESCE(sum(f.findings) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted), 0)::int AS failed,
                COALESCE(sum(f.findings) FILTER (WHERE f.status = 'FAIL' AND NOT f.muted AND f.delta = 'new'), 0)::int AS new_failed
           FROM ${source.from} ${conditions.where()}
          GROUP BY f.check_id, f.severity
       )
       SELECT g.name, c.severity, sum(c.total)::int AS total, sum(c.failed)::int AS failed, sum(c.new_failed)::int AS new_failed
         FROM per_check c JOIN check_metadata m ON m.check_id = c.check_id
        CROSS JOIN LATERAL (SELECT ${namesOf} AS name) g
        WHERE g.name IS NOT NULL ${nameFilter}
        GROUP BY g.name, c.severity`,
      conditions.params,
    );
  }

  /**
   * Distinct resources per resource group in the given scans: their
   * summaries, or, for a caller with row filter rules, the resources of the
   * findings they may see.
   */
  private async resourcesPerGroup(source: SummarySource, filters: readonly ParsedFilter[], names: string[]): Promise<Map<string, number>> {
    const { scans } = source;
    const visible = source.ruleFiltered ? await this.overviews.visibleFindings(new SqlConditions(), scans) : null;
    let found: Array<{ name: string; resources: number }>;
    if (!visible) {
      found = await rows(
        tenantManager(),
        `SELECT resource_group AS name, sum(resources)::int AS resources FROM scan_resource_group_summaries
          WHERE scan_id = ANY($1::uuid[]) AND resource_group = ANY($2::text[]) GROUP BY resource_group`,
        [scans.map((s) => s.scanId), names],
      );
    } else {
      visible.add(`m.resource_group = ANY(${visible.param(names)}::text[])`);
      found = await this.overviews.query(
        { ruleFiltered: true },
        filters,
        `SELECT m.resource_group AS name, count(DISTINCT l.resource_id)::int AS resources
           FROM findings f
           JOIN check_metadata m ON m.check_id = f.check_id
           JOIN resource_finding_links l ON l.tenant_id = f.tenant_id AND l.finding_id = f.id
          ${visible.where()} GROUP BY m.resource_group`,
        visible.params,
      );
    }
    return new Map(found.map((r) => [r.name, r.resources]));
  }

  /**
   * Failed (unmuted) findings by severity and muted findings, per day from
   * date_from to date_to (today at most): each provider counts with its
   * latest completed scan of that day, or, on a day without one, of the
   * latest day before it (filled forward, as Prowler does).
   */
  async severityTimeseries(filters: readonly ParsedFilter[]): Promise<SeverityDayRow[]> {
    const { from, to } = timeseriesWindow(filters);
    const manager = tenantManager();
    const conditions = new SqlConditions();
    const scope = providerScopeSql(conditions, filters.filter(isProviderFilter));
    const [fromParam, toParam] = [conditions.param(isoDay(from)), conditions.param(isoDay(to))];
    const daily = await rows<{ provider_id: string; scan_id: string; day: string; started_at: Date | null }>(
      manager,
      `WITH daily AS (
         SELECT DISTINCT ON (s.provider_id, (s.completed_at AT TIME ZONE 'UTC')::date)
                s.provider_id, s.id AS scan_id, (s.completed_at AT TIME ZONE 'UTC')::date AS day, i.started_at
           FROM scans s LEFT JOIN scan_ingestions i ON i.scan_id = s.id
          WHERE s.state = 'completed' AND s.completed_at IS NOT NULL AND s.provider_id = ANY(${scope})
            AND (s.completed_at AT TIME ZONE 'UTC')::date <= ${toParam}::date
          ORDER BY s.provider_id, (s.completed_at AT TIME ZONE 'UTC')::date, s.completed_at DESC, s.id DESC
       ), carried AS (
         -- Each provider's last day before the window, found once: probed per row, it made the read quadratic in the days kept.
         SELECT e.provider_id, max(e.day) AS day FROM daily e WHERE e.day < ${fromParam}::date GROUP BY e.provider_id
       )
       SELECT d.provider_id, d.scan_id, d.day::text AS day, d.started_at
         FROM daily d LEFT JOIN carried c ON c.provider_id = d.provider_id
        WHERE d.day >= ${fromParam}::date OR d.day = c.day`,
      conditions.params,
    );
    const counts = await this.severityCountsOf(
      daily.map((d) => ({ scanId: d.scan_id, providerId: d.provider_id, startedAt: d.started_at, aggregated: true })),
      filters,
    );
    const byProvider = new Map<string, Array<{ day: string; scanId: string }>>();
    for (const d of daily.sort((a, b) => a.day.localeCompare(b.day))) {
      const list = byProvider.get(d.provider_id) ?? [];
      list.push({ day: d.day, scanId: d.scan_id });
      byProvider.set(d.provider_id, list);
    }
    const result: SeverityDayRow[] = [];
    for (let at = from.getTime(); at <= to.getTime(); at += DAY_MS) {
      const day = isoDay(new Date(at));
      const row: SeverityDayRow = { date: day, critical: 0, high: 0, medium: 0, low: 0, informational: 0, muted: 0, scan_ids: [] };
      for (const scans of byProvider.values()) {
        const latest = scans.filter((s) => s.day <= day).pop();
        if (!latest) continue;
        const figures = counts.get(latest.scanId);
        row.scan_ids.push(latest.scanId);
        if (!figures) continue;
        for (const severity of SEVERITIES) row[severity] += figures[severity];
        row.muted += figures.muted;
      }
      result.push(row);
    }
    return result;
  }

  /** Per scan: unmuted failed findings by severity, and muted findings, from the summaries or the caller's visible findings. */
  private async severityCountsOf(scans: ScanRange[], filters: readonly ParsedFilter[]): Promise<Map<string, SeverityCounts & { muted: number }>> {
    if (scans.length === 0) return new Map();
    const columns = `${SEVERITIES.map((s) => `COALESCE(sum(f.findings) FILTER (WHERE f.severity = '${s}' AND f.status = 'FAIL' AND NOT f.muted), 0)::int AS ${s}`).join(', ')},
                     COALESCE(sum(f.findings) FILTER (WHERE f.muted), 0)::int AS muted`;
    const conditions = new SqlConditions();
    const predicate = await this.rowFilter.predicate('findings', 'f', 0);
    let found: Array<SeverityCounts & { muted: number; scan_id: string }>;
    if (predicate) {
      conditions.addBound(predicate, 0);
      addScanRestriction(conditions, scans);
      const sql = `SELECT f.scan_id, ${columns}
                     FROM (SELECT f.scan_id, f.severity, f.status, f.muted, count(*) AS findings FROM findings f ${conditions.where()}
                            GROUP BY f.scan_id, f.severity, f.status, f.muted) f
                    GROUP BY f.scan_id`;
      found = await this.readCache.rows(tenantManager(), filters, sql, conditions.params);
    } else {
      conditions.add(`f.scan_id = ANY(${conditions.param(scans.map((s) => s.scanId))}::uuid[])`);
      found = await rows(tenantManager(), `SELECT f.scan_id, ${columns} FROM scan_overview_summaries f ${conditions.where()} GROUP BY f.scan_id`, conditions.params);
    }
    return new Map(found.map(({ scan_id, ...figures }) => [scan_id, figures]));
  }

  /**
   * Per compliance framework, over the latest scan of each provider in
   * scope, its requirements by status: a requirement fails when it fails
   * for any provider (the compliance overviews' figures, merged across providers).
   */
  async complianceWatchlist(query: ParsedQuery): Promise<WatchlistRow[]> {
    const answer = await this.compliance.overviews({ ...query, filters: query.filters.filter(isProviderFilter), sort: [], page: { mode: 'all' } }, true);
    if (!('rows' in answer)) return [];
    return answer.rows.map(({ compliance_id, requirements_passed, requirements_failed, requirements_manual, total_requirements }) => ({
      compliance_id, requirements_passed, requirements_failed, requirements_manual, total_requirements,
    }));
  }
}

/** date_from (required) to date_to (today when absent or later), at most MAX_TIMESERIES_DAYS apart. */
function timeseriesWindow(filters: readonly ParsedFilter[]): { from: Date; to: Date } {
  const day = (name: string) => filters.find((f) => f.field === name)?.value as Date | undefined;
  const from = day('date_from');
  if (!from) throw ApiError.badRequest('required', 'filter[date_from] is required.', { parameter: 'filter[date_from]' });
  const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const askedTo = day('date_to');
  const to = askedTo && askedTo.getTime() < today.getTime() ? askedTo : today;
  if (from.getTime() > to.getTime()) {
    const parameter = askedTo && askedTo.getTime() < from.getTime() ? 'filter[date_to]' : 'filter[date_from]';
    throw ApiError.badRequest('invalid', 'filter[date_from] must not be after filter[date_to] (nor after today).', { parameter });
  }
  if ((to.getTime() - from.getTime()) / DAY_MS > MAX_TIMESERIES_DAYS) {
    throw ApiError.badRequest('invalid', `The date range cannot exceed ${MAX_TIMESERIES_DAYS} days.`, { parameter: 'filter[date_from]' });
  }
  return { from, to };
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
