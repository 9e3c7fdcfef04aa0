import { DATE_FILTER, FilterSpec, QuerySpec } from '../common/jsonapi/query-spec';
import { PROVIDER_FILTER_SPECS } from './query/provider-scope';
import { RESOURCE_FIELDS } from './resources/resource.resource';
import { SCAN_FIELDS } from '../scans/scan.resource';
import { PROVIDER_FIELDS } from '../providers/provider.resource';

export const STATUSES = ['FAIL', 'PASS', 'MANUAL'] as const;
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export const DELTAS = ['new', 'changed'] as const;

/** `url` is Prowler's self link, which a sparse fieldset may name. */
export const FINDING_FIELDS = [
  'uid', 'delta', 'status', 'status_extended', 'severity', 'check_id', 'check_metadata', 'categories', 'resource_groups',
  'raw_result', 'inserted_at', 'updated_at', 'first_seen_at', 'muted', 'muted_reason', 'scan', 'resources', 'url',
] as const;

const text: FilterSpec = { type: 'string', operators: ['eq', 'in', 'icontains'] };

/**
 * Filters on the findings dataset (Prowler's FindingFilter); the provider ones
 * are resolved through the provider scope. status, severity, delta and impact
 * check their values, except in `__in`, where Prowler takes any text.
 */
export const FINDING_FILTER_SPECS: Record<string, FilterSpec> = {
  ...PROVIDER_FILTER_SPECS,
  scan: { type: 'uuid', operators: ['eq', 'in'] },
  id: { type: 'uuid', operators: ['eq', 'in'] },
  uid: { type: 'string', operators: ['eq', 'in'] },
  status: { type: 'enum', operators: ['eq', 'in'], values: STATUSES, anyValueIn: true },
  severity: { type: 'enum', operators: ['eq', 'in'], values: SEVERITIES, anyValueIn: true },
  /** Prowler's impact is the check's severity. */
  impact: { type: 'enum', operators: ['eq', 'in'], values: SEVERITIES, anyValueIn: true },
  delta: { type: 'enum', operators: ['eq', 'in'], values: DELTAS, anyValueIn: true },
  muted: { type: 'boolean', operators: ['eq'] },
  check_id: text,
  service: text,
  region: text,
  resource_type: text,
  resource_uid: text,
  resource_name: text,
  resources: { type: 'uuid', operators: ['eq', 'in'], list: true },
  category: { type: 'string', operators: ['eq', 'in'] },
  resource_groups: { type: 'string', operators: ['eq', 'in'] },
  inserted_at: DATE_FILTER,
  updated_at: DATE_FILTER,
  /** Prowler's full-text search over the finding's status_extended (and impact_extended, which is not kept here). */
  search: {
    type: 'string',
    operators: ['eq'],
    description:
      "A search term: findings whose status_extended holds every word of it (PostgreSQL full-text search, 'simple' configuration). Needs no date or scan filter.",
  },
};

const SORTS = ['severity', 'status', 'check_id', 'inserted_at', 'updated_at'];

const FIELDS = { findings: FINDING_FIELDS, resources: RESOURCE_FIELDS, scans: SCAN_FIELDS, providers: PROVIDER_FIELDS };
/** Prowler's includes, and the providers behind the included scans and resources. */
const FINDING_INCLUDES = ['resources', 'scan', 'scan.provider', 'resources.provider'];

export const FINDING_LIST: QuerySpec = {
  filters: FINDING_FILTER_SPECS,
  sorts: SORTS,
  defaultSort: '-inserted_at',
  includes: FINDING_INCLUDES,
  fields: FIELDS,
  allowCursor: true,
  pageSizeMax: 500,
};

/** /findings/latest: the latest completed scan of each provider stands in for a scan or date filter (Prowler's LatestFindingFilter). */
export const FINDING_LATEST_LIST: QuerySpec = {
  ...FINDING_LIST,
  filters: Object.fromEntries(Object.entries(FINDING_FILTER_SPECS).filter(([name]) => name !== 'scan' && name !== 'inserted_at')),
};

export const FINDING_DETAIL: QuerySpec = { includes: FINDING_INCLUDES, fields: FIELDS };

/** The metadata is one object: a sort is taken, as Prowler does, and changes nothing. */
export const FINDING_METADATA: QuerySpec = {
  filters: FINDING_LIST.filters,
  sorts: SORTS,
  fields: { 'findings-metadata': ['services', 'regions', 'resource_types', 'severities', 'check_ids', 'categories', 'groups'] },
};

export const FINDING_SERVICES_REGIONS: QuerySpec = {
  filters: FINDING_LIST.filters,
  // Accepted as Prowler accepts them; a set of services and regions has no order.
  sorts: FINDING_LIST.sorts,
  fields: { 'finding-dynamic-filters': ['services', 'regions'] },
};

export const FINDING_METADATA_LATEST: QuerySpec = { ...FINDING_METADATA, filters: FINDING_LATEST_LIST.filters };
