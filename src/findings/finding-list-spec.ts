import { FilterSpec, QuerySpec } from '../common/jsonapi/query-spec';
import { PROVIDER_FILTER_SPECS } from './query/provider-scope';
import { RESOURCE_FIELDS } from './resources/resource.resource';
import { SCAN_FIELDS } from '../scans/scan.resource';
import { PROVIDER_FIELDS } from '../providers/provider.resource';

export const STATUSES = ['FAIL', 'PASS', 'MANUAL'] as const;
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export const DELTAS = ['new', 'changed'] as const;

export const FINDING_FIELDS = [
  'uid', 'delta', 'status', 'status_extended', 'severity', 'check_id', 'check_metadata', 'categories', 'resource_groups',
  'raw_result', 'inserted_at', 'updated_at', 'first_seen_at', 'muted', 'muted_reason', 'scan', 'resources',
] as const;

/** Filters on the findings dataset; the provider ones are resolved through the provider scope. */
export const FINDING_FILTER_SPECS: Record<string, FilterSpec> = {
  ...PROVIDER_FILTER_SPECS,
  scan: { type: 'uuid', operators: ['eq', 'in'] },
  id: { type: 'uuid', operators: ['eq', 'in'] },
  uid: { type: 'string', operators: ['eq', 'in'] },
  status: { type: 'enum', operators: ['eq', 'in'], values: STATUSES },
  severity: { type: 'enum', operators: ['eq', 'in'], values: SEVERITIES },
  delta: { type: 'enum', operators: ['eq', 'in'], values: DELTAS },
  muted: { type: 'boolean', operators: ['eq'] },
  check_id: { type: 'string', operators: ['eq', 'in', 'icontains'] },
  service: { type: 'string', operators: ['eq', 'in', 'icontains'] },
  region: { type: 'string', operators: ['eq', 'in', 'icontains'] },
  resource_type: { type: 'string', operators: ['eq', 'in', 'icontains'] },
  resource_uid: { type: 'string', operators: ['eq', 'in'] },
  inserted_at: { type: 'datetime', operators: ['gte', 'lte', 'gt', 'lt'] },
};

const FIELDS = { findings: FINDING_FIELDS, resources: RESOURCE_FIELDS, scans: SCAN_FIELDS, providers: PROVIDER_FIELDS };
/** Prowler's includes, and the providers behind the included scans and resources. */
const FINDING_INCLUDES = ['resources', 'scan', 'scan.provider', 'resources.provider'];

export const FINDING_LIST: QuerySpec = {
  filters: FINDING_FILTER_SPECS,
  sorts: ['severity', 'status', 'check_id', 'inserted_at'],
  defaultSort: '-inserted_at',
  includes: FINDING_INCLUDES,
  fields: FIELDS,
  allowCursor: true,
  pageSizeMax: 500,
};

/** /findings/latest: the latest completed scan of each provider stands in for a scan filter. */
export const FINDING_LATEST_LIST: QuerySpec = {
  ...FINDING_LIST,
  filters: Object.fromEntries(Object.entries(FINDING_FILTER_SPECS).filter(([name]) => name !== 'scan' && name !== 'inserted_at')),
};

export const FINDING_DETAIL: QuerySpec = { includes: FINDING_INCLUDES, fields: FIELDS };

export const FINDING_METADATA: QuerySpec = {
  filters: FINDING_LIST.filters,
  fields: { 'findings-metadata': ['services', 'regions', 'resource_types', 'severities', 'check_ids', 'categories', 'groups'] },
};

export const FINDING_SERVICES_REGIONS: QuerySpec = {
  filters: FINDING_LIST.filters,
  fields: { 'finding-dynamic-filters': ['services', 'regions'] },
};

export const FINDING_METADATA_LATEST: QuerySpec = { ...FINDING_METADATA, filters: FINDING_LATEST_LIST.filters };
