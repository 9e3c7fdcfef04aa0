import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ParsedFilter, ParsedQuery } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { isUuid } from '../../database/uuid';
import { CHECK_COUNTS_SQL } from '../compliance/check-counts-sql';
import { FrameworkCatalog } from '../compliance/frameworks/framework-catalog';
import { CheckRegionCounts, checkTotals } from '../compliance/frameworks/requirement-evaluation';
import { providerScopeSql } from '../query/provider-scope';
import { ROW_FILTER_SOURCE, RowFilterSource } from '../query/row-filter-source';
import { SqlConditions } from '../query/sql-conditions';
import { scansByIds, addScanRestriction } from '../scans/scan-ranges';
import { combineSnapshots } from './threatscore-combination';
import { computeThreatScore, round2 } from './threatscore-metrics';
import { ThreatScoreRow } from './threatscore.resource';

const SNAPSHOT_COLUMNS = `t.id, t.inserted_at, t.scan_id, t.provider_id, t.compliance_id, t.overall_score::float8 AS overall_score,
  t.score_delta::float8 AS score_delta, t.section_scores, t.critical_requirements, t.total_requirements, t.passed_requirements,
  t.failed_requirements, t.manual_requirements, t.total_findings, t.passed_findings, t.failed_findings`;

/**
 * `/overviews/threatscore`: the latest snapshot of each provider in scope,
 * combined into one when there are several, as Prowler answers; with
 * `snapshot_id`, that snapshot. A caller with row filter rules on findings
 * gets each snapshot recomputed from the findings of its scan they may see
 * (and its delta from the scan before it, likewise).
 */
@Injectable()
export class ThreatScoreService {
  constructor(
    @Inject(ROW_FILTER_SOURCE) private readonly rowFilter: RowFilterSource,
    private readonly catalog: FrameworkCatalog,
  ) {}

  async snapshots(query: ParsedQuery): Promise<ThreatScoreRow[]> {
    const manager = tenantManager();
    const conditions = new SqlConditions();
    conditions.add(`t.provider_id = ANY(${providerScopeSql(conditions, idFiltersAsUuids(query.filters))})`);
    const snapshotId = query.extra.snapshot_id;
    if (snapshotId !== undefined) {
      if (!isUuid(snapshotId)) throw ApiError.badRequest('invalid', 'snapshot_id must be a UUID.', { parameter: 'snapshot_id' });
      conditions.add(`t.id = ${conditions.param(snapshotId)}::uuid`);
      const [found] = await rows<ThreatScoreRow>(manager, `SELECT ${SNAPSHOT_COLUMNS} FROM threatscore_snapshots t ${conditions.where()}`, conditions.params);
      if (!found) throw ApiError.notFound('ThreatScore snapshot not found.');
      return [await this.asCallerSees(found)];
    }
    const latest = await rows<ThreatScoreRow>(
      manager,
      `SELECT DISTINCT ON (t.provider_id) ${SNAPSHOT_COLUMNS} FROM threatscore_snapshots t ${conditions.where()}
        ORDER BY t.provider_id, t.inserted_at DESC, t.id DESC`,
      conditions.params,
    );
    const seen = await Promise.all(latest.map((snapshot) => this.asCallerSees(snapshot)));
    return seen.length <= 1 ? seen : [combineSnapshots(seen)];
  }

  /** The snapshot itself, or, under row filter rules on findings, the same figures from the findings the caller may see. */
  private async asCallerSees(snapshot: ThreatScoreRow): Promise<ThreatScoreRow> {
    if ((await this.rowFilter.predicate('findings', 'f', 0)) === null) return snapshot;
    const [provider] = await rows<{ provider: string }>(tenantManager(), `SELECT provider FROM providers WHERE id = $1`, [snapshot.provider_id]);
    const framework = provider ? this.catalog.framework(provider.provider, snapshot.compliance_id) : null;
    if (!framework || !snapshot.scan_id) throw ApiError.notFound('ThreatScore snapshot not found.');
    const metrics = computeThreatScore(framework, checkTotals(await this.visibleCheckCounts(snapshot.scan_id)));
    const [previous] = await rows<{ scan_id: string }>(
      tenantManager(),
      `SELECT t.scan_id FROM threatscore_snapshots t JOIN scans s ON s.id = t.scan_id
        WHERE t.provider_id = $1 AND t.compliance_id = $2 AND t.scan_id <> $3 AND s.inserted_at < (SELECT inserted_at FROM scans WHERE id = $3)
        ORDER BY s.inserted_at DESC LIMIT 1`,
      [snapshot.provider_id, snapshot.compliance_id, snapshot.scan_id],
    );
    const before = previous ? computeThreatScore(framework, checkTotals(await this.visibleCheckCounts(previous.scan_id))) : null;
    return { ...snapshot, ...metrics, score_delta: before ? round2(metrics.overall_score - before.overall_score) : null };
  }

  private async visibleCheckCounts(scanId: string): Promise<CheckRegionCounts[]> {
    const manager = tenantManager();
    const conditions = new SqlConditions();
    const predicate = await this.rowFilter.predicate('findings', 'f', 0);
    if (predicate) conditions.addBound(predicate, 0);
    const scans = await scansByIds(manager, [scanId], (c) => providerScopeSql(c, []));
    addScanRestriction(conditions, scans);
    return rows<CheckRegionCounts>(
      manager,
      `SELECT f.check_id, f.region, ${CHECK_COUNTS_SQL} FROM findings f ${conditions.where()} GROUP BY f.check_id, f.region`,
      conditions.params,
    );
  }
}

/** Id filters taken as text: values that are not UUIDs name no provider or group, so they drop out (and an emptied list selects nothing). */
function idFiltersAsUuids(filters: readonly ParsedFilter[]): ParsedFilter[] {
  return filters.map((filter) => {
    if (filter.field !== 'provider_id' && filter.field !== 'provider_groups') return filter;
    const values = (Array.isArray(filter.value) ? filter.value : [filter.value]).map(String).filter(isUuid);
    return { field: filter.field, operator: 'in', value: values };
  });
}
