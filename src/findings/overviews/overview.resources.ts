import { integer, objectOf, text } from '../../common/jsonapi/attribute-schema';
import { DATE_FILTER, FilterSpec, ParsedSort, QuerySpec } from '../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { STATUSES } from '../finding-list-spec';
import { PROVIDER_FILTER_SPECS } from '../query/provider-scope';

export interface StatusCounts {
  total: number;
  fail: number;
  pass: number;
  muted: number;
}

export interface ProviderOverviewRow {
  provider_type: string;
  findings: StatusCounts & { manual: number };
  resources: number;
}

export interface ProviderCountRow {
  provider_type: string;
  count: number;
}

export type FindingsOverviewRow = Record<
  'new' | 'changed' | 'unchanged' | 'fail_new' | 'fail_changed' | 'pass_new' | 'pass_changed' | 'muted_new' | 'muted_changed' | 'total' | 'fail' | 'muted' | 'pass',
  number
>;

export type SeverityOverviewRow = Record<'critical' | 'high' | 'medium' | 'low' | 'informational', number>;

export interface ServiceOverviewRow extends StatusCounts {
  service: string;
}

export interface RegionOverviewRow extends StatusCounts {
  provider_type: string;
  region: string;
}

const FINDINGS_ATTRIBUTES = [
  'new', 'changed', 'unchanged', 'fail_new', 'fail_changed', 'pass_new', 'pass_changed', 'muted_new', 'muted_changed', 'total', 'fail', 'muted', 'pass',
];

export const providerOverviewResource: ResourceDefinition<ProviderOverviewRow> = {
  schema: {
    findings: objectOf({ total: integer, fail: integer, pass: integer, muted: integer, manual: integer }),
    resources: objectOf({ total: integer }),
  },
  type: 'providers-overview',
  id: (r) => r.provider_type,
  attributes: (r) => ({ findings: r.findings, resources: { total: r.resources } }),
};

export const providerCountResource: ResourceDefinition<ProviderCountRow> = {
  schema: { count: integer },
  type: 'providers-count-overview',
  id: (r) => r.provider_type,
  attributes: (r) => ({ count: r.count }),
};

export const findingsOverviewResource: ResourceDefinition<FindingsOverviewRow> = {
  schema: Object.fromEntries(FINDINGS_ATTRIBUTES.map((name) => [name, integer])),
  type: 'findings-overview',
  id: () => 'n/a',
  attributes: (r) => ({ ...r }),
};

export const severityOverviewResource: ResourceDefinition<SeverityOverviewRow> = {
  schema: { critical: integer, high: integer, medium: integer, low: integer, informational: integer },
  type: 'findings-severity-overview',
  id: () => 'n/a',
  attributes: (r) => ({ ...r }),
};

export const serviceOverviewResource: ResourceDefinition<ServiceOverviewRow> = {
  schema: { total: integer, fail: integer, muted: integer, pass: integer },
  type: 'services-overview',
  id: (r) => r.service,
  attributes: (r) => ({ total: r.total, fail: r.fail, muted: r.muted, pass: r.pass }),
};

export const regionOverviewResource: ResourceDefinition<RegionOverviewRow> = {
  schema: { provider_type: text, region: text, total: integer, fail: integer, muted: integer, pass: integer },
  type: 'regions-overview',
  id: (r) => `${r.provider_type}-${r.region}`,
  attributes: (r) => ({ provider_type: r.provider_type, region: r.region, total: r.total, fail: r.fail, muted: r.muted, pass: r.pass }),
};

const REGION_FILTER: FilterSpec = { type: 'string', operators: ['eq', 'in', 'icontains'] };

/**
 * Prowler's ScanSummaryFilter: `inserted_at` keeps the latest scans whose
 * findings were inserted then (a finding's inserted_at is its scan's start
 * here); `search` is taken and, as in Prowler's overview views, which
 * declare no search fields, changes nothing.
 */
const SUMMARY_FILTERS: Record<string, FilterSpec> = {
  ...PROVIDER_FILTER_SPECS,
  region: REGION_FILTER,
  inserted_at: DATE_FILTER,
  search: { type: 'string', operators: ['eq'] },
};

/** A list of attributes as sort keys, each also descending, and `id`. */
function overviewQuery(type: string, attributes: readonly string[], filters: Record<string, FilterSpec>): QuerySpec {
  return { filters, sorts: ['id', ...attributes], fields: { [type]: ['id', ...attributes] } };
}

/** Every overview reads the latest completed scan of each provider in scope. */
export const PROVIDERS_OVERVIEW: QuerySpec = { filters: PROVIDER_FILTER_SPECS, fields: { 'providers-overview': ['id', 'findings', 'resources'] } };
export const PROVIDERS_COUNT_OVERVIEW: QuerySpec = { filters: PROVIDER_FILTER_SPECS, fields: { 'providers-count-overview': ['id', 'count'] } };
export const FINDINGS_OVERVIEW = overviewQuery('findings-overview', FINDINGS_ATTRIBUTES, SUMMARY_FILTERS);
export const SEVERITY_OVERVIEW = overviewQuery('findings-severity-overview', ['critical', 'high', 'medium', 'low', 'informational'], {
  ...SUMMARY_FILTERS,
  status: { type: 'enum', operators: ['eq', 'in'], values: STATUSES, anyValueIn: true },
});
export const SERVICES_OVERVIEW = overviewQuery('services-overview', ['total', 'fail', 'muted', 'pass'], SUMMARY_FILTERS);
export const REGIONS_OVERVIEW = overviewQuery('regions-overview', ['provider_type', 'region', 'total', 'fail', 'muted', 'pass'], SUMMARY_FILTERS);

/** Rows of a list overview in the requested order (`id` being the resource id); the lists are small, one row per service or region. */
export function sortOverview<Row>(rows: Row[], sort: readonly ParsedSort[], definition: ResourceDefinition<Row>): Row[] {
  if (sort.length === 0) return rows;
  const value = (row: Row, field: string) => (field === 'id' ? definition.id(row) : (definition.attributes(row) as Record<string, unknown>)[field]);
  return [...rows].sort((a, b) => {
    for (const { field, descending } of sort) {
      const [x, y] = [value(a, field), value(b, field)] as Array<string | number>;
      // An object or a list (a severity breakdown, scan ids) has no order of its own: such a key leaves the rows as they are.
      if (typeof x === 'object' || typeof y === 'object') continue;
      if (x !== y) return (x < y ? -1 : 1) * (descending ? -1 : 1);
    }
    return 0;
  });
}
