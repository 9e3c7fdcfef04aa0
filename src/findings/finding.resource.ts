import { anything, boolean, dateTime, listOf, nullable, oneOf, text } from '../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../common/jsonapi/resource-definition';
import { DELTAS, SEVERITIES, STATUSES } from './finding-list-spec';

/** The columns every findings read selects (compliance stays out: it is large and no read renders it). */
export const FINDING_COLUMNS_SQL = `f.id, f.scan_id, f.uid, f.delta, f.status, f.status_extended, f.severity, f.severity_rank,
  f.check_id, f.check_title, f.service, f.resource_type, f.muted, f.muted_reason, f.first_seen_at, f.inserted_at, f.updated_at`;

export interface FindingRow {
  id: string;
  scan_id: string;
  uid: string;
  delta: string | null;
  status: string;
  status_extended: string | null;
  severity: string;
  severity_rank: number;
  check_id: string;
  check_title: string;
  service: string;
  resource_type: string;
  muted: boolean;
  muted_reason: string | null;
  /** ISO-8601 instants, as the page query reads them (RENDERED_TEXT_TYPES). */
  first_seen_at: string;
  inserted_at: string;
  updated_at: string;
  resource_ids: string[] | null;
  /** The check's facts (check_metadata), null when no scan reported any. */
  categories: string[] | null;
  resource_group: string | null;
}

export const findingResource: ResourceDefinition<FindingRow> = {
  schema: {
    uid: text,
    delta: nullable(oneOf(DELTAS)),
    status: oneOf(STATUSES),
    status_extended: nullable(text),
    severity: oneOf(SEVERITIES),
    check_id: text,
    check_metadata: { type: 'object' },
    categories: nullable(listOf(text)),
    resource_groups: nullable(text),
    raw_result: anything,
    inserted_at: dateTime,
    updated_at: dateTime,
    first_seen_at: nullable(dateTime),
    muted: boolean,
    muted_reason: nullable(text),
  },
  type: 'findings',
  selfPath: 'findings',
  id: (f) => f.id,
  attributes: (f) => ({
    uid: f.uid,
    delta: f.delta,
    status: f.status,
    status_extended: f.status_extended,
    severity: f.severity,
    check_id: f.check_id,
    check_metadata: { checkid: f.check_id, checktitle: f.check_title, servicename: f.service, severity: f.severity, resourcetype: f.resource_type },
    categories: f.categories ?? [],
    resource_groups: f.resource_group,
    raw_result: {},
    inserted_at: f.inserted_at,
    updated_at: f.updated_at,
    first_seen_at: f.first_seen_at,
    muted: f.muted,
    muted_reason: f.muted_reason,
  }),
  relationships: {
    scan: { type: 'scans', ids: (f) => f.scan_id },
    resources: { type: 'resources', many: true, ids: (f) => f.resource_ids ?? [] },
  },
};
