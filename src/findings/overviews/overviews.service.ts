import { Injectable } from '@nestjs/common';
import { ParsedFilter } from '../../common/jsonapi/query-spec';
import { rows } from '../../database/sql';
import { tenantManager } from '../../database/tenant-context';
import { addColumnFilter } from '../query/column-filters';
import { isProviderFilter, providerScopeSql } from '../query/provider-scope';
import { SqlConditions } from '../query/sql-conditions';
import { latestCompletedScans } from '../scans/scan-ranges';
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
 * Overviews over the scan summaries of the latest completed scan of each
 * provider the caller may see: their cost follows the number of distinct
 * check/region/severity combinations, not the number of findings stored.
 */
@Injectable()
export class OverviewsService {
  async providers(filters: readonly ParsedFilter[]): Promise<ProviderOverviewRow[]> {
    const { conditions, scanIds } = await this.latestSummaries(filters);
    const found = await rows<{ provider_type: string; total: number; fail: number; pass: number; muted: number; manual: number; resources: number }>(
      tenantManager(),
      `SELECT p.provider AS provider_type, ${STATUS_COUNTS},
              COALESCE(sum(f.findings) FILTER (WHERE f.status = 'MANUAL' AND NOT f.muted), 0)::int AS manual,
              (SELECT COALESCE(sum(i.resource_count), 0)::int FROM scan_ingestions i JOIN providers ip ON ip.id = i.provider_id
                WHERE i.scan_id = ANY(${conditions.param(scanIds)}::uuid[]) AND ip.provider = p.provider) AS resources
         FROM scan_summaries f JOIN providers p ON p.id = f.provider_id
        ${conditions.where()}
        GROUP BY p.provider ORDER BY p.provider`,
      conditions.params,
    );
    return found.map((r) => ({
      provider_type: r.provider_type,
      findings: { total: r.total, fail: r.fail, pass: r.pass, muted: r.muted, manual: r.manual },
      resources: r.resources,
    }));
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
    const { conditions } = await this.latestSummaries(filters);
    const [row] = await rows<FindingsOverviewRow>(
      tenantManager(),
      `SELECT ${STATUS_COUNTS},
              ${deltaCount('new', 'new', 'NOT f.muted')}, ${deltaCount('changed', 'changed', 'NOT f.muted')},
              ${deltaCount('unchanged', '', 'NOT f.muted')},
              ${deltaCount('fail_new', 'new', "f.status = 'FAIL' AND NOT f.muted")}, ${deltaCount('fail_changed', 'changed', "f.status = 'FAIL' AND NOT f.muted")},
              ${deltaCount('pass_new', 'new', "f.status = 'PASS' AND NOT f.muted")}, ${deltaCount('pass_changed', 'changed', "f.status = 'PASS' AND NOT f.muted")},
              ${deltaCount('muted_new', 'new', 'f.muted')}, ${deltaCount('muted_changed', 'changed', 'f.muted')}
         FROM scan_summaries f ${conditions.where()}`,
      conditions.params,
    );
    return row;
  }

  /** Findings per severity; muted ones left out, and only the given statuses when filter[status] is set. */
  async severities(filters: readonly ParsedFilter[]): Promise<SeverityOverviewRow> {
    const { conditions } = await this.latestSummaries(filters);
    conditions.add('NOT f.muted');
    const [row] = await rows<SeverityOverviewRow>(
      tenantManager(),
      `SELECT ${['critical', 'high', 'medium', 'low', 'informational']
        .map((s) => `COALESCE(sum(f.findings) FILTER (WHERE f.severity = '${s}'), 0)::int AS ${s}`)
        .join(', ')}
         FROM scan_summaries f ${conditions.where()}`,
      conditions.params,
    );
    return row;
  }

  async services(filters: readonly ParsedFilter[]): Promise<ServiceOverviewRow[]> {
    const { conditions } = await this.latestSummaries(filters);
    return rows<ServiceOverviewRow>(
      tenantManager(),
      `SELECT f.service, ${STATUS_COUNTS} FROM scan_summaries f ${conditions.where()} GROUP BY f.service ORDER BY f.service`,
      conditions.params,
    );
  }

  async regions(filters: readonly ParsedFilter[]): Promise<RegionOverviewRow[]> {
    const { conditions } = await this.latestSummaries(filters);
    return rows<RegionOverviewRow>(
      tenantManager(),
      `SELECT p.provider AS provider_type, f.region, ${STATUS_COUNTS}
         FROM scan_summaries f JOIN providers p ON p.id = f.provider_id
        ${conditions.where()} GROUP BY p.provider, f.region ORDER BY p.provider, f.region`,
      conditions.params,
    );
  }

  /** Conditions over scan_summaries (alias f) for the latest completed scan of each provider in scope. */
  private async latestSummaries(filters: readonly ParsedFilter[]): Promise<{ conditions: SqlConditions; scanIds: string[] }> {
    const scans = await latestCompletedScans(tenantManager(), (c) => providerScopeSql(c, filters));
    const scanIds = scans.map((s) => s.scanId);
    const conditions = new SqlConditions();
    conditions.add(`f.scan_id = ANY(${conditions.param(scanIds)}::uuid[])`);
    for (const filter of filters) {
      if (!isProviderFilter(filter)) addColumnFilter(conditions, `f.${filter.field}`, filter);
    }
    return { conditions, scanIds };
  }
}

function deltaCount(name: string, delta: string, condition: string): string {
  return `COALESCE(sum(f.findings) FILTER (WHERE f.delta = '${delta}' AND ${condition}), 0)::int AS ${name}`;
}
