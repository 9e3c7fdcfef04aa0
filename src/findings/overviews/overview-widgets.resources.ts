import { integer, listOf, objectOf, text, uuid } from '../../common/jsonapi/attribute-schema';
import { FilterSpec, QuerySpec } from '../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { PROVIDER_FILTER_SPECS } from '../query/provider-scope';

export interface AttackSurfaceRow {
  attack_surface_type: string;
  total_findings: number;
  failed_findings: number;
  muted_failed_findings: number;
}

export type SeverityCounts = Record<'critical' | 'high' | 'medium' | 'low' | 'informational', number>;

/** A check category or a resource group with its findings (the shape of Prowler's category and resource-group overviews). */
export interface GroupedFindingsRow {
  name: string;
  total_findings: number;
  failed_findings: number;
  new_failed_findings: number;
  resources_count?: number;
  severity: SeverityCounts;
}

export interface SeverityDayRow extends SeverityCounts {
  date: string;
  muted: number;
  scan_ids: string[];
}

export interface WatchlistRow {
  compliance_id: string;
  requirements_passed: number;
  requirements_failed: number;
  requirements_manual: number;
  total_requirements: number;
}

/** Figures by severity, every level always written. */
const SEVERITY_COUNTS = objectOf({ critical: integer, high: integer, medium: integer, low: integer, informational: integer });

export const attackSurfaceResource: ResourceDefinition<AttackSurfaceRow> = {
  schema: { total_findings: integer, failed_findings: integer, muted_failed_findings: integer },
  type: 'attack-surface-overviews',
  id: (r) => r.attack_surface_type,
  attributes: (r) => ({ total_findings: r.total_findings, failed_findings: r.failed_findings, muted_failed_findings: r.muted_failed_findings }),
};

export const categoryResource: ResourceDefinition<GroupedFindingsRow> = {
  schema: { total_findings: integer, failed_findings: integer, new_failed_findings: integer, severity: SEVERITY_COUNTS },
  type: 'category-overviews',
  id: (r) => r.name,
  attributes: (r) => ({ total_findings: r.total_findings, failed_findings: r.failed_findings, new_failed_findings: r.new_failed_findings, severity: r.severity }),
};

export const resourceGroupResource: ResourceDefinition<GroupedFindingsRow> = {
  schema: { total_findings: integer, failed_findings: integer, new_failed_findings: integer, resources_count: integer, severity: SEVERITY_COUNTS },
  type: 'resource-group-overviews',
  id: (r) => r.name,
  attributes: (r) => ({
    total_findings: r.total_findings,
    failed_findings: r.failed_findings,
    new_failed_findings: r.new_failed_findings,
    resources_count: r.resources_count ?? 0,
    severity: r.severity,
  }),
};

export const severityDayResource: ResourceDefinition<SeverityDayRow> = {
  schema: {
    critical: integer, high: integer, medium: integer, low: integer, informational: integer, muted: integer, scan_ids: listOf(uuid),
  },
  type: 'findings-severity-over-time',
  id: (r) => r.date,
  attributes: (r) => ({
    critical: r.critical, high: r.high, medium: r.medium, low: r.low, informational: r.informational, muted: r.muted, scan_ids: r.scan_ids,
  }),
};

export const watchlistResource: ResourceDefinition<WatchlistRow> = {
  schema: { compliance_id: text, requirements_passed: integer, requirements_failed: integer, requirements_manual: integer, total_requirements: integer },
  type: 'compliance-watchlist-overviews',
  id: (r) => r.compliance_id,
  attributes: (r) => ({
    compliance_id: r.compliance_id,
    requirements_passed: r.requirements_passed,
    requirements_failed: r.requirements_failed,
    requirements_manual: r.requirements_manual,
    total_requirements: r.total_requirements,
  }),
};

/**
 * The provider filters these widgets document (Prowler's ProviderFilterParamsMixin);
 * `search` is taken and, as in Prowler's overview views, changes nothing.
 */
const { provider_id, provider_type, provider_groups } = PROVIDER_FILTER_SPECS;
const WIDGET_FILTERS: Record<string, FilterSpec> = { provider_id, provider_type, provider_groups, search: { type: 'string', operators: ['eq'] } };

function widgetQuery(type: string, attributes: readonly string[], filters: Record<string, FilterSpec> = WIDGET_FILTERS): QuerySpec {
  return { filters, sorts: ['id', ...attributes], fields: { [type]: ['id', ...attributes] } };
}

export const ATTACK_SURFACES = widgetQuery('attack-surface-overviews', ['total_findings', 'failed_findings', 'muted_failed_findings']);
export const CATEGORIES = widgetQuery('category-overviews', ['total_findings', 'failed_findings', 'new_failed_findings', 'severity'], {
  ...WIDGET_FILTERS,
  category: { type: 'string', operators: ['eq', 'in'] },
});
export const RESOURCE_GROUPS = widgetQuery('resource-group-overviews', ['total_findings', 'failed_findings', 'new_failed_findings', 'resources_count', 'severity'], {
  ...WIDGET_FILTERS,
  resource_group: { type: 'string', operators: ['eq', 'in'] },
});
export const COMPLIANCE_WATCHLIST = widgetQuery('compliance-watchlist-overviews', [
  'compliance_id', 'requirements_passed', 'requirements_failed', 'requirements_manual', 'total_requirements',
]);
/** `date_from` is required; both are days (Prowler's DailySeveritySummaryFilter). */
export const SEVERITY_TIMESERIES = widgetQuery('findings-severity-over-time', ['critical', 'high', 'medium', 'low', 'informational', 'muted', 'scan_ids'], {
  ...WIDGET_FILTERS,
  date_from: { type: 'datetime', operators: ['eq'] },
  date_to: { type: 'datetime', operators: ['eq'] },
});
