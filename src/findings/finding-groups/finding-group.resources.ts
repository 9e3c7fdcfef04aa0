import { boolean, dateTime, integer, listOf, nullable, objectOf, oneOf, text } from '../../common/jsonapi/attribute-schema';
import { FilterSpec, QuerySpec } from '../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { DELTAS, FINDING_FILTER_SPECS, SEVERITIES, STATUSES } from '../finding-list-spec';
import { GROUP_COUNT_COLUMNS } from './finding-group-counts';

/** One finding group (a check) with its figures, as the statements answer it. */
export interface FindingGroupRow {
  check_id: string;
  check_title: string | null;
  severity: string;
  status: string;
  muted: boolean;
  impacted_providers: string[];
  resources_fail: number;
  resources_total: number;
  first_seen_at: Date | null;
  last_seen_at: Date | null;
  failing_since: Date | null;
  [count: string]: unknown;
}

export const FINDING_GROUP_ATTRIBUTES = [
  'check_id', 'check_title', 'check_description', 'severity', 'status', 'muted', 'impacted_providers', 'resources_fail', 'resources_total',
  ...GROUP_COUNT_COLUMNS.map(([column]) => column),
  'first_seen_at', 'last_seen_at', 'failing_since',
] as const;

/** Prowler's FindingGroupSerializer: the id is the check id; no check description is kept here (null). */
export const findingGroupResource: ResourceDefinition<FindingGroupRow> = {
  schema: {
    check_id: text,
    check_title: nullable(text),
    check_description: nullable(text),
    severity: oneOf(SEVERITIES),
    status: oneOf(STATUSES),
    muted: boolean,
    impacted_providers: listOf(text),
    resources_fail: integer,
    resources_total: integer,
    ...Object.fromEntries(GROUP_COUNT_COLUMNS.map(([column]) => [column, integer])),
    first_seen_at: nullable(dateTime),
    last_seen_at: nullable(dateTime),
    failing_since: nullable(dateTime),
  },
  type: 'finding-groups',
  id: (row) => row.check_id,
  attributes: (row) => {
    const attributes: Record<string, unknown> = {};
    for (const name of FINDING_GROUP_ATTRIBUTES) attributes[name] = name === 'check_description' ? null : row[name];
    attributes.check_title = row.check_title || null;
    return attributes;
  },
};

/** One resource of a finding group: the findings of the check about it, taken together. */
export interface FindingGroupResourceRow {
  resource_id: string;
  resource_uid: string;
  resource_name: string;
  resource_service: string;
  resource_region: string;
  resource_type: string;
  provider_type: string;
  provider_uid: string;
  provider_alias: string | null;
  finding_id: string;
  status: string;
  severity: string;
  muted: boolean;
  delta: string | null;
  first_seen_at: Date | null;
  last_seen_at: Date | null;
  muted_reason: string | null;
  /** The check's resource group (check_metadata), null when the check definitions give none. */
  resource_group: string | null;
}

/** Prowler's FindingGroupResourceSerializer (type finding-group-resources); a check without a resource group answers ''. */
export const findingGroupResourceResource: ResourceDefinition<FindingGroupResourceRow> = {
  schema: {
    resource: objectOf({ uid: text, name: text, service: text, region: text, type: text, resource_group: text }),
    provider: objectOf({ type: text, uid: text, alias: text }),
    finding_id: text,
    status: oneOf(STATUSES),
    severity: oneOf(SEVERITIES),
    muted: boolean,
    delta: nullable(oneOf(DELTAS)),
    first_seen_at: nullable(dateTime),
    last_seen_at: nullable(dateTime),
    muted_reason: nullable(text),
  },
  type: 'finding-group-resources',
  id: (row) => row.resource_id,
  attributes: (row) => ({
    resource: {
      uid: row.resource_uid,
      name: row.resource_name,
      service: row.resource_service,
      region: row.resource_region,
      type: row.resource_type,
      resource_group: row.resource_group ?? '',
    },
    provider: { type: row.provider_type, uid: row.provider_uid, alias: row.provider_alias ?? '' },
    finding_id: row.finding_id,
    status: row.status,
    severity: row.severity,
    muted: row.muted,
    delta: row.delta,
    first_seen_at: row.first_seen_at,
    last_seen_at: row.last_seen_at,
    muted_reason: row.muted_reason,
  }),
};

/**
 * Filters of Prowler's FindingGroupFilter: the findings filters without `id`
 * and `search`, plus `check_title__icontains`. status, severity and muted
 * select groups by their computed figures (Prowler's aggregated filters),
 * so their `__in` values are checked too.
 */
const { id: _id, search: _search, ...FINDING_FILTERS } = FINDING_FILTER_SPECS;
export const FINDING_GROUP_FILTER_SPECS: Record<string, FilterSpec> = {
  ...FINDING_FILTERS,
  status: { type: 'enum', operators: ['eq', 'in'], values: STATUSES },
  severity: { type: 'enum', operators: ['eq', 'in'], values: SEVERITIES },
  check_title: { type: 'string', operators: ['icontains'] },
};

const GROUP_SORTS = ['id', ...FINDING_GROUP_ATTRIBUTES];
const FIELDS = { 'finding-groups': ['id', ...FINDING_GROUP_ATTRIBUTES] };

export const FINDING_GROUP_LIST: QuerySpec = { filters: FINDING_GROUP_FILTER_SPECS, sorts: GROUP_SORTS, fields: FIELDS };

/** /finding-groups/latest: the latest completed scan of each provider stands in for the date filter. */
export const FINDING_GROUP_LATEST_LIST: QuerySpec = {
  ...FINDING_GROUP_LIST,
  filters: Object.fromEntries(Object.entries(FINDING_GROUP_FILTER_SPECS).filter(([name]) => name !== 'inserted_at')),
};

/**
 * Sorts of a group's resources: Prowler's (status, severity, delta, times,
 * resource and provider columns), and the group sort keys the contract
 * documents for these operations, each read for the resource's own findings
 * of the check.
 */
export const RESOURCE_SORTS = [
  ...GROUP_SORTS,
  'delta', 'resource.uid', 'resource.name', 'resource.region', 'resource.service', 'resource.type', 'provider.uid', 'provider.alias',
];
const RESOURCE_FIELDS = { ...FIELDS, 'finding-group-resources': ['id', 'resource', 'provider', 'finding_id', 'status', 'severity', 'muted', 'delta', 'first_seen_at', 'last_seen_at', 'muted_reason'] };

export const FINDING_GROUP_RESOURCES: QuerySpec = { filters: FINDING_GROUP_FILTER_SPECS, sorts: RESOURCE_SORTS, fields: RESOURCE_FIELDS };
export const FINDING_GROUP_LATEST_RESOURCES: QuerySpec = { ...FINDING_GROUP_RESOURCES, filters: FINDING_GROUP_LATEST_LIST.filters };
