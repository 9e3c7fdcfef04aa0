import { AttributeSchemas, integer, JsonSchema, listOf, objectOf, text, uuid } from '../../common/jsonapi/attribute-schema';
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
  severity: SeverityCounts;
}

/** A resource group also counts the distinct resources its findings name. */
export interface ResourceGroupRow extends GroupedFindingsRow {
  resources_count: number;
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

/** A widget row's attributes are its own fields, the ones its schema names. */
function widgetResource<Row>(type: string, id: (row: Row) => string, schema: Partial<Record<keyof Row & string, JsonSchema>>): ResourceDefinition<Row> {
  const names = Object.keys(schema) as Array<keyof Row & string>;
  return { type, id, schema: schema as AttributeSchemas, attributes: (row) => Object.fromEntries(names.map((name) => [name, row[name]])) };
}

export const attackSurfaceResource = widgetResource<AttackSurfaceRow>('attack-surface-overviews', (r) => r.attack_surface_type, {
  total_findings: integer,
  failed_findings: integer,
  muted_failed_findings: integer,
});

const GROUPED_FINDINGS = { total_findings: integer, failed_findings: integer, new_failed_findings: integer };

export const categoryResource = widgetResource<GroupedFindingsRow>('category-overviews', (r) => r.name, { ...GROUPED_FINDINGS, severity: SEVERITY_COUNTS });

export const resourceGroupResource = widgetResource<ResourceGroupRow>('resource-group-overviews', (r) => r.name, {
  ...GROUPED_FINDINGS,
  resources_count: integer,
  severity: SEVERITY_COUNTS,
});

export const severityDayResource = widgetResource<SeverityDayRow>('findings-severity-over-time', (r) => r.date, {
  critical: integer, high: integer, medium: integer, low: integer, informational: integer, muted: integer, scan_ids: listOf(uuid),
});

export const watchlistResource = widgetResource<WatchlistRow>('compliance-watchlist-overviews', (r) => r.compliance_id, {
  compliance_id: text, requirements_passed: integer, requirements_failed: integer, requirements_manual: integer, total_requirements: integer,
});

/**
 * The provider filters these widgets document (Prowler's ProviderFilterParamsMixin);
 * `search` is taken and, as in Prowler's overview views, changes nothing.
 */
const { provider_id, provider_type, provider_groups } = PROVIDER_FILTER_SPECS;
const WIDGET_FILTERS: Record<string, FilterSpec> = { provider_id, provider_type, provider_groups, search: { type: 'string', operators: ['eq'] } };

/** Sorts and sparse fieldsets over the resource's id and attributes. */
function widgetQuery<Row>(resource: ResourceDefinition<Row>, filters: Record<string, FilterSpec> = WIDGET_FILTERS): QuerySpec {
  const attributes = Object.keys(resource.schema);
  return { filters, sorts: ['id', ...attributes], fields: { [resource.type]: ['id', ...attributes] } };
}

export const ATTACK_SURFACES = widgetQuery(attackSurfaceResource);
export const CATEGORIES = widgetQuery(categoryResource, { ...WIDGET_FILTERS, category: { type: 'string', operators: ['eq', 'in'] } });
export const RESOURCE_GROUPS = widgetQuery(resourceGroupResource, { ...WIDGET_FILTERS, resource_group: { type: 'string', operators: ['eq', 'in'] } });
export const COMPLIANCE_WATCHLIST = widgetQuery(watchlistResource);
/** `date_from` is required; both are days (Prowler's DailySeveritySummaryFilter). */
export const SEVERITY_TIMESERIES = widgetQuery(severityDayResource, {
  ...WIDGET_FILTERS,
  date_from: { type: 'datetime', operators: ['eq'] },
  date_to: { type: 'datetime', operators: ['eq'] },
});
