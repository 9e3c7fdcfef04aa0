import { anything, dateTime, integer, listOf, mapOf, nullable, text } from '../../common/jsonapi/attribute-schema';
import { ResourceDefinition } from '../../common/jsonapi/resource-definition';

export const RESOURCE_FIELDS = [
  'inserted_at', 'updated_at', 'uid', 'name', 'region', 'service', 'tags', 'type', 'failed_findings_count',
  'metadata', 'details', 'partition', 'groups', 'provider', 'findings',
] as const;

export const RESOURCE_COLUMNS_SQL = `r.id, r.provider_id, r.uid, r.name, r.region, r.service, r.type, r.failed_findings_count, r.inserted_at, r.updated_at,
  r.partition, r.details, r.metadata,
  COALESCE((SELECT jsonb_object_agg(t.key, t.value) FROM resource_tag_links tl JOIN resource_tags t ON t.id = tl.tag_id
             WHERE tl.tenant_id = r.tenant_id AND tl.resource_id = r.id), '{}'::jsonb) AS tags`;

export interface ResourceRow {
  id: string;
  provider_id: string;
  uid: string;
  name: string;
  region: string;
  service: string;
  type: string;
  failed_findings_count: number;
  tags: Record<string, string>;
  partition: string | null;
  details: string | null;
  /** JSON text, as Prowler answers it. */
  metadata: string | null;
  inserted_at: Date;
  updated_at: Date;
  /** Read only where the `findings` relationship is rendered (see ResourcesService.withFindingIds). */
  finding_ids?: string[];
}

export const resourceResource: ResourceDefinition<ResourceRow> = {
  schema: {
    inserted_at: dateTime,
    updated_at: dateTime,
    uid: text,
    name: text,
    region: text,
    service: text,
    tags: mapOf(text),
    type: text,
    failed_findings_count: integer,
    metadata: anything,
    details: anything,
    partition: nullable(text),
    groups: nullable(listOf(text)),
  },
  type: 'resources',
  selfPath: 'resources',
  id: (r) => r.id,
  attributes: (r) => ({
    inserted_at: r.inserted_at,
    updated_at: r.updated_at,
    uid: r.uid,
    name: r.name,
    region: r.region,
    service: r.service,
    tags: r.tags,
    type: r.type,
    failed_findings_count: r.failed_findings_count,
    metadata: r.metadata,
    details: r.details,
    partition: r.partition,
    groups: null,
  }),
  relationships: {
    provider: { type: 'providers', ids: (r) => r.provider_id },
    findings: { type: 'findings', many: true, ids: (r) => r.finding_ids },
  },
};
