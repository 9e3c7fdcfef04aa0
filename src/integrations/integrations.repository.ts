import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { affected, rows } from '../database/sql';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from '../rbac/list-query-sql';
import { LinkTable } from '../rbac/link-table';
import { IntegrationType } from './integration-types';
import { IntegrationRow } from './integration.resource';

export const INTEGRATION_PROVIDERS: LinkTable = { table: 'integration_provider_links', owner: 'integration_id', target: 'provider_id' };

const OWN_COLUMNS = 'i.id, i.integration_type, i.enabled, i.connected, i.connection_last_checked_at, i.configuration, i.inserted_at, i.updated_at';

/**
 * The visibility rule for integrations, as Prowler has it: an integration
 * linked to no provider (Jira) is tenant-wide and every role sees it; one
 * linked to providers is seen by a limited role when at least one of them
 * is visible to it, and then lists only those. `visibleArray` is the SQL of
 * the caller's visible provider ids, or null for unlimited visibility; one
 * placeholder serves the condition and the relationship both.
 */
function visibleArray(params: SqlParams): string | null {
  const visible = currentPrincipal().visibleProviderIds;
  if (visible === null) return null;
  return `string_to_array(${params.add([...visible].join(','))}, ',')::uuid[]`;
}

function visibility(visible: string | null): string[] {
  if (visible === null) return [];
  return [
    `(NOT EXISTS (SELECT 1 FROM integration_provider_links l WHERE l.integration_id = i.id)
      OR EXISTS (SELECT 1 FROM integration_provider_links l WHERE l.integration_id = i.id AND l.provider_id = ANY(${visible})))`,
  ];
}

function relatedProviders(visible: string | null): string {
  return `ARRAY(SELECT l.provider_id FROM integration_provider_links l JOIN providers p ON p.id = l.provider_id AND p.deleted_at IS NULL
                 WHERE l.integration_id = i.id ${visible ? `AND l.provider_id = ANY(${visible})` : ''}
                 ORDER BY l.inserted_at, l.id) AS provider_ids`;
}

const LIST_COLUMNS: ListColumns = {
  filters: {
    inserted_at: 'i.inserted_at',
    integration_type: 'i.integration_type',
    search: (filter, params) => {
      const pattern = params.add(containsPattern(String(filter.value)));
      return `(i.integration_type ILIKE ${pattern} OR i.configuration::text ILIKE ${pattern})`;
    },
  },
  sorts: {
    id: 'i.id',
    inserted_at: 'i.inserted_at',
    updated_at: 'i.updated_at',
    enabled: 'i.enabled',
    connected: 'i.connected',
    connection_last_checked_at: 'i.connection_last_checked_at',
    integration_type: 'i.integration_type',
    configuration: 'i.configuration::text',
    // As for provider groups: Prowler orders by the related ids through a join; the smallest one does so without repeating rows.
    providers: '(SELECT min(l.provider_id::text) FROM integration_provider_links l WHERE l.integration_id = i.id)',
    url: 'i.id',
  },
  // Newest first among equals, as Prowler's default ordering (type, then -inserted_at); the id keeps pages apart.
  tieBreaker: `(EXTRACT(EPOCH FROM i.inserted_at) * -1) ASC, i.id`,
};

export async function listIntegrations(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: IntegrationRow[]; count: number }> {
  const params = new SqlParams();
  const visible = visibleArray(params);
  return pagedList<IntegrationRow>({
    from: 'integrations i',
    alias: 'i',
    columns: OWN_COLUMNS,
    related: relatedProviders(visible),
    where: [...visibility(visible), ...filterConditions(query, spec, LIST_COLUMNS, params)],
    order: orderBy(query.sort, LIST_COLUMNS),
    page: query.page,
    params,
  });
}

export async function findVisibleIntegration(id: string): Promise<IntegrationRow | undefined> {
  const params = new SqlParams();
  const visible = visibleArray(params);
  const where = [`i.id = ${params.add(id)}`, ...visibility(visible)];
  const [found] = await rows<IntegrationRow>(
    tenantManager(),
    `SELECT ${OWN_COLUMNS}, ${relatedProviders(visible)} FROM integrations i WHERE ${where.join(' AND ')}`,
    params.values,
  );
  return found;
}

/** Whether the integration is linked to a live provider the caller may not see: such an integration is not theirs to change. */
export async function linksHiddenProviders(id: string): Promise<boolean> {
  const visible = currentPrincipal().visibleProviderIds;
  if (visible === null) return false;
  const [found] = await rows(
    tenantManager(),
    `SELECT 1 FROM integration_provider_links l JOIN providers p ON p.id = l.provider_id AND p.deleted_at IS NULL
      WHERE l.integration_id = $1 AND NOT (l.provider_id = ANY(string_to_array($2, ',')::uuid[])) LIMIT 1`,
    [id, [...visible].join(',')],
  );
  return found !== undefined;
}

export interface StoredIntegration {
  id: string;
  integration_type: IntegrationType;
  enabled: boolean;
  configuration: Record<string, unknown>;
  credentials: string;
  key_id: string;
}

/** The row with its credentials' envelope, for the code that decrypts it; never for rendering. */
export async function findStoredIntegration(id: string): Promise<StoredIntegration | undefined> {
  const [found] = await rows<StoredIntegration>(
    tenantManager(),
    `SELECT id, integration_type, enabled, configuration, credentials, key_id FROM integrations WHERE id = $1`,
    [id],
  );
  return found;
}

/** The enabled integrations linked to a provider, with their envelopes: what runs after its scans. */
export async function enabledIntegrationsOf(providerId: string): Promise<StoredIntegration[]> {
  return rows<StoredIntegration>(
    tenantManager(),
    `SELECT i.id, i.integration_type, i.enabled, i.configuration, i.credentials, i.key_id
       FROM integrations i JOIN integration_provider_links l ON l.integration_id = i.id
      WHERE l.provider_id = $1 AND i.enabled
      ORDER BY i.inserted_at, i.id`,
    [providerId],
  );
}

export interface NewIntegration {
  id: string;
  tenantId: string;
  type: IntegrationType;
  enabled: boolean;
  configuration: Record<string, unknown>;
  credentials: string;
  keyId: string;
}

export async function insertIntegration(integration: NewIntegration): Promise<void> {
  await tenantManager().query(
    `INSERT INTO integrations (id, tenant_id, integration_type, enabled, configuration, credentials, key_id) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [integration.id, integration.tenantId, integration.type, integration.enabled, JSON.stringify(integration.configuration), integration.credentials, integration.keyId],
  );
}

export interface IntegrationChanges {
  enabled?: boolean;
  configuration?: Record<string, unknown>;
  envelope?: { credentials: string; keyId: string };
}

export async function updateIntegration(id: string, changes: IntegrationChanges): Promise<void> {
  const params = new SqlParams();
  const assignments: string[] = [];
  if (changes.enabled !== undefined) assignments.push(`enabled = ${params.add(changes.enabled)}`);
  if (changes.configuration !== undefined) assignments.push(`configuration = ${params.add(JSON.stringify(changes.configuration))}::jsonb`);
  if (changes.envelope) assignments.push(`credentials = ${params.add(changes.envelope.credentials)}`, `key_id = ${params.add(changes.envelope.keyId)}`);
  await tenantManager().query(`UPDATE integrations SET ${[...assignments, 'updated_at = now()'].join(', ')} WHERE id = ${params.add(id)}`, params.values);
}

/** Merges keys into the configuration (what a connection check or an issue type look-up learnt). */
export async function mergeConfiguration(id: string, patch: Record<string, unknown>): Promise<void> {
  await tenantManager().query(`UPDATE integrations SET configuration = configuration || $2::jsonb, updated_at = now() WHERE id = $1`, [id, JSON.stringify(patch)]);
}

export async function recordConnection(id: string, connected: boolean): Promise<void> {
  await tenantManager().query(`UPDATE integrations SET connected = $2, connection_last_checked_at = now(), updated_at = now() WHERE id = $1`, [id, connected]);
}

export async function deleteIntegration(id: string): Promise<number> {
  return affected(tenantManager(), `DELETE FROM integrations WHERE id = $1`, [id]);
}

/** Another integration of the type whose configuration holds `match` (Prowler refuses a second one: 409). */
export async function sameConfigurationExists(type: IntegrationType, match: Record<string, unknown>, exceptId: string | null): Promise<boolean> {
  const [found] = await rows(
    tenantManager(),
    `SELECT 1 FROM integrations WHERE integration_type = $1 AND configuration @> $2::jsonb AND ($3::uuid IS NULL OR id <> $3) LIMIT 1`,
    [type, JSON.stringify(match), exceptId],
  );
  return found !== undefined;
}

/** The first of `providerIds` already served by another Security Hub integration (one per provider). */
export async function providerWithSecurityHub(providerIds: readonly string[], exceptId: string | null): Promise<string | undefined> {
  const [found] = await rows<{ provider_id: string }>(
    tenantManager(),
    `SELECT l.provider_id FROM integration_provider_links l JOIN integrations i ON i.id = l.integration_id
      WHERE i.integration_type = 'aws_security_hub' AND l.provider_id = ANY($1::uuid[]) AND ($2::uuid IS NULL OR i.id <> $2) LIMIT 1`,
    [[...providerIds], exceptId],
  );
  return found?.provider_id;
}
