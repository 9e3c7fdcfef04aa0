import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { tenantManager } from '../database/tenant-context';
import { rows } from '../database/sql';
import { filterConditions, ListColumns, orderBy, pagedList, SqlParams, containsPattern } from '../rbac/list-query-sql';
import { visibleProviderCondition } from '../rbac/provider-visibility';
import { ProviderType } from './provider-uid-rules';
import { ProviderRow } from './provider.resource';

/**
 * Providers as the caller may see them: live (not soft-deleted), for a
 * limited role in one of its provider groups, and within the row filter
 * rules that apply to the caller. An invisible provider is absent from every
 * answer here, exactly like a missing one.
 */
const OWN_COLUMNS = 'p.id, p.provider, p.uid, p.alias, p.connected, p.connection_last_checked_at, p.inserted_at, p.updated_at';
const RELATED_COLUMNS = `(SELECT s.id FROM provider_secrets s WHERE s.provider_id = p.id) AS secret_id,
  ARRAY(SELECT pgm.provider_group_id FROM provider_group_memberships pgm WHERE pgm.provider_id = p.id ORDER BY pgm.inserted_at, pgm.id) AS provider_group_ids`;
const PROVIDER_COLUMNS = `${OWN_COLUMNS}, ${RELATED_COLUMNS}`;

const LIST_COLUMNS: ListColumns = {
  filters: {
    id: 'p.id',
    provider: 'p.provider',
    provider_type: 'p.provider',
    uid: 'p.uid',
    alias: 'p.alias',
    connected: 'p.connected',
    inserted_at: 'p.inserted_at',
    updated_at: 'p.updated_at',
    provider_groups: (filter, params) =>
      `EXISTS (SELECT 1 FROM provider_group_memberships pgm WHERE pgm.provider_id = p.id AND pgm.provider_group_id = ANY(${params.add(
        Array.isArray(filter.value) ? filter.value : [filter.value],
      )}::uuid[]))`,
    search: (filter, params) => {
      const pattern = params.add(containsPattern(String(filter.value)));
      return `(p.uid ILIKE ${pattern} OR p.alias ILIKE ${pattern})`;
    },
  },
  sorts: { provider: 'p.provider', uid: 'p.uid', alias: 'p.alias', connected: 'p.connected', inserted_at: 'p.inserted_at', updated_at: 'p.updated_at' },
  tieBreaker: 'p.id',
};

/**
 * The row filter rules' predicate over the alias `p`: rendered with its
 * placeholders after the values already in `params`, to which it adds its own.
 * Null when no rule applies to the caller.
 */
export type ProviderRowFilter = (paramOffset: number) => Promise<{ sql: string; params: unknown[] } | null>;

async function liveAndVisible(params: SqlParams, rowFilter: ProviderRowFilter): Promise<string[]> {
  const conditions = ['p.deleted_at IS NULL'];
  const visible = visibleProviderCondition('p.id', params);
  if (visible) conditions.push(visible);
  const filtered = await rowFilter(params.values.length);
  if (filtered) {
    params.values.push(...filtered.params);
    conditions.push(`(${filtered.sql})`);
  }
  return conditions;
}

export async function listProviders(query: ParsedQuery, spec: QuerySpec, rowFilter: ProviderRowFilter): Promise<{ rows: ProviderRow[]; count: number }> {
  const params = new SqlParams();
  const where = [...(await liveAndVisible(params, rowFilter)), ...filterConditions(query, spec, LIST_COLUMNS, params)];
  return pagedList<ProviderRow>({
    from: 'providers p',
    alias: 'p',
    columns: OWN_COLUMNS,
    related: RELATED_COLUMNS,
    where,
    order: orderBy(query.sort, LIST_COLUMNS),
    page: query.page,
    params,
  });
}

export async function findVisibleProvider(id: string, rowFilter: ProviderRowFilter): Promise<ProviderRow | undefined> {
  const [found] = await findVisibleProviders([id], rowFilter);
  return found;
}

/** The live providers among `ids` the caller may see, in one query. */
export async function findVisibleProviders(ids: readonly string[], rowFilter: ProviderRowFilter): Promise<ProviderRow[]> {
  if (ids.length === 0) return [];
  const params = new SqlParams();
  const where = [`p.id = ANY(${params.add([...ids])}::uuid[])`, ...(await liveAndVisible(params, rowFilter))];
  return rows<ProviderRow>(tenantManager(), `SELECT ${PROVIDER_COLUMNS} FROM providers p WHERE ${where.join(' AND ')} ORDER BY p.id`, params.values);
}

/** The ids among `ids` that name live providers the caller may see. */
export async function visibleProviderIds(ids: readonly string[], rowFilter: ProviderRowFilter): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const params = new SqlParams();
  const where = [`p.id = ANY(${params.add(ids)}::uuid[])`, ...(await liveAndVisible(params, rowFilter))];
  const found = await rows<{ id: string }>(tenantManager(), `SELECT p.id FROM providers p WHERE ${where.join(' AND ')}`, params.values);
  return new Set(found.map((row) => row.id));
}

export interface NewProvider {
  id: string;
  tenantId: string;
  provider: ProviderType;
  uid: string;
  alias: string | null;
}

/**
 * Inserts the provider unless a live one of the same type and uid exists
 * (then undefined). The row comes back from the insert itself: a limited role
 * may create a provider outside its groups, which it could not read back.
 */
export async function insertProvider(provider: NewProvider): Promise<ProviderRow | undefined> {
  const inserted = await rows<ProviderRow>(
    tenantManager(),
    `INSERT INTO providers (id, tenant_id, provider, uid, alias) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, provider, uid) WHERE deleted_at IS NULL DO NOTHING
     RETURNING id, provider, uid, alias, connected, connection_last_checked_at, inserted_at, updated_at,
               NULL::uuid AS secret_id, '{}'::uuid[] AS provider_group_ids`,
    [provider.id, provider.tenantId, provider.provider, provider.uid, provider.alias],
  );
  return inserted[0];
}

export async function liveProviderWithUidExists(provider: ProviderType, uid: string, exceptId: string): Promise<boolean> {
  const found = await rows(
    tenantManager(),
    `SELECT 1 FROM providers WHERE provider = $1 AND uid = $2 AND id <> $3 AND deleted_at IS NULL`,
    [provider, uid, exceptId],
  );
  return found.length > 0;
}

export async function updateProvider(id: string, changes: { uid?: string; alias?: string | null }): Promise<void> {
  const params = new SqlParams();
  const assignments: string[] = [];
  if (changes.uid !== undefined) assignments.push(`uid = ${params.add(changes.uid)}`);
  if (changes.alias !== undefined) assignments.push(`alias = ${params.add(changes.alias)}`);
  if (assignments.length === 0) return;
  await tenantManager().query(
    `UPDATE providers SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${params.add(id)} AND deleted_at IS NULL`,
    params.values,
  );
}
