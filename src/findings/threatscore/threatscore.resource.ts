import { dateTime, integer, JsonSchema, listOf, mapOf, nullable, number, objectOf, text } from '../../common/jsonapi/attribute-schema';
import { FilterSpec, QuerySpec } from '../../common/jsonapi/query-spec';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';
import { ThreatScoreMetrics } from './threatscore-metrics';

/** A ThreatScore snapshot of one scan, or the combination of several providers' latest ones (no scan, no provider). */
export interface ThreatScoreRow extends Omit<ThreatScoreMetrics, 'section_scores'> {
  id: string;
  inserted_at: Date;
  scan_id: string | null;
  provider_id: string | null;
  compliance_id: string;
  score_delta: number | null;
  /** Per-scan snapshots hold numbers; the combined one strings, as Prowler writes each. */
  section_scores: Record<string, number | string>;
}

/** Scores are decimals with two places, rendered as strings as Prowler's DecimalField renders them. */
const decimal = (value: number | null) => (value === null ? null : value.toFixed(2));

const DECIMAL: JsonSchema = { type: 'string', pattern: '^-?[0-9]+\\.[0-9]{2}$' };

const CRITICAL_REQUIREMENT = objectOf({
  requirement_id: text,
  title: text,
  section: text,
  subsection: text,
  risk_level: integer,
  weight: integer,
  passed_findings: integer,
  total_findings: integer,
  description: text,
});

const THREATSCORE_SCHEMA = {
  inserted_at: dateTime,
  compliance_id: text,
  overall_score: DECIMAL,
  score_delta: nullable(DECIMAL),
  /** Numbers in a scan's snapshot, two-place decimal strings in the combined one. */
  section_scores: mapOf({ anyOf: [number, DECIMAL] }),
  critical_requirements: listOf(CRITICAL_REQUIREMENT),
  total_requirements: integer,
  passed_requirements: integer,
  failed_requirements: integer,
  manual_requirements: integer,
  total_findings: integer,
  passed_findings: integer,
  failed_findings: integer,
} satisfies Partial<Record<keyof ThreatScoreRow, JsonSchema>>;

const ATTRIBUTES = Object.keys(THREATSCORE_SCHEMA) as Array<keyof typeof THREATSCORE_SCHEMA>;

export const threatScoreResource: ResourceDefinition<ThreatScoreRow> = {
  schema: THREATSCORE_SCHEMA,
  type: 'threatscore-snapshots',
  id: (r) => r.id,
  attributes: (r) => ({
    ...Object.fromEntries(ATTRIBUTES.map((name) => [name, r[name]])),
    overall_score: decimal(r.overall_score),
    score_delta: decimal(r.score_delta),
  }),
  relationships: {
    scan: { type: 'scans', ids: (r) => r.scan_id },
    provider: { type: 'providers', ids: (r) => r.provider_id },
  },
};

/**
 * Prowler documents these filters as plain strings (its view reads them by
 * hand), so any value is taken: one that names no provider, group or type
 * selects nothing (see ThreatScoreService).
 */
const ANY_TEXT: FilterSpec = { type: 'string', operators: ['eq', 'in'] };

export const THREATSCORE_QUERY: QuerySpec = {
  filters: { provider_id: ANY_TEXT, provider_type: ANY_TEXT, provider_groups: ANY_TEXT },
  includes: ['scan', 'provider'],
  fields: {
    'threatscore-snapshots': ['id', 'scan', 'provider', ...ATTRIBUTES],
  },
  extraParameters: ['snapshot_id'],
};
