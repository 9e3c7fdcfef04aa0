import { FilterSpec, QuerySpec } from '../../common/jsonapi/query-spec';
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

export const providerOverviewResource: ResourceDefinition<ProviderOverviewRow> = {
  type: 'providers-overview',
  id: (r) => r.provider_type,
  attributes: (r) => ({ findings: r.findings, resources: { total: r.resources } }),
};

export const providerCountResource: ResourceDefinition<ProviderCountRow> = {
  type: 'providers-count-overview',
  id: (r) => r.provider_type,
  attributes: (r) => ({ count: r.count }),
};

export const findingsOverviewResource: ResourceDefinition<FindingsOverviewRow> = {
  type: 'findings-overview',
  id: () => 'n/a',
  attributes: (r) => ({ ...r }),
};

export const severityOverviewResource: ResourceDefinition<SeverityOverviewRow> = {
  type: 'findings-severity-overview',
  id: () => 'n/a',
  attributes: (r) => ({ ...r }),
};

export const serviceOverviewResource: ResourceDefinition<ServiceOverviewRow> = {
  type: 'services-overview',
  id: (r) => r.service,
  attributes: (r) => ({ total: r.total, fail: r.fail, muted: r.muted, pass: r.pass }),
};

export const regionOverviewResource: ResourceDefinition<RegionOverviewRow> = {
  type: 'regions-overview',
  id: (r) => `${r.provider_type}-${r.region}`,
  attributes: (r) => ({ provider_type: r.provider_type, region: r.region, total: r.total, fail: r.fail, muted: r.muted, pass: r.pass }),
};

const REGION_FILTER: FilterSpec = { type: 'string', operators: ['eq', 'in', 'icontains'] };

/** Every overview reads the latest completed scan of each provider in scope. */
export const PROVIDERS_OVERVIEW: QuerySpec = { filters: PROVIDER_FILTER_SPECS, fields: { 'providers-overview': ['findings', 'resources'] } };
export const PROVIDERS_COUNT_OVERVIEW: QuerySpec = { filters: PROVIDER_FILTER_SPECS, fields: { 'providers-count-overview': ['count'] } };
export const FINDINGS_OVERVIEW: QuerySpec = { filters: { ...PROVIDER_FILTER_SPECS, region: REGION_FILTER } };
export const SEVERITY_OVERVIEW: QuerySpec = {
  filters: { ...PROVIDER_FILTER_SPECS, region: REGION_FILTER, status: { type: 'enum', operators: ['eq', 'in'], values: STATUSES } },
};
export const SERVICES_OVERVIEW: QuerySpec = { filters: { ...PROVIDER_FILTER_SPECS, region: REGION_FILTER } };
export const REGIONS_OVERVIEW: QuerySpec = { filters: { ...PROVIDER_FILTER_SPECS, region: REGION_FILTER } };
