import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { currentPrincipal, tenantManager } from '../database/tenant-context';
import { affected, rows } from '../database/sql';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from './list-query-sql';
import { ProviderGroupRow } from './provider-group.resource';

/**
 * A role with unlimited visibility sees every provider group; any other role
 * sees only the groups linked to it. Every provider of those groups is
 * visible to it by definition, so a group's provider list needs no further
 * filter beyond leaving out deleted providers.
 */
const OWN_COLUMNS = 'g.id, g.name, g.inserted_at, g.updated_at';
const RELATED_COLUMNS = `ARRAY(SELECT pgm.provider_id FROM provider_group_memberships pgm
          JOIN providers p ON p.id = pgm.provider_id AND p.deleted_at IS NULL
         WHERE pgm.provider_group_id = g.id ORDER BY pgm.inserted_at, pgm.id) AS provider_ids,
  ARRAY(SELECT rpg.role_id FROM role_provider_groups rpg WHERE rpg.provider_group_id = g.id ORDER BY rpg.inserted_at, rpg.id) AS role_ids`;
const GROUP_COLUMNS = `${OWN_COLUMNS}, ${RELATED_COLUMNS}`;

const LIST_COLUMNS: ListColumns = {
  filters: {
    id: 'g.id',
    name: 'g.name',
    inserted_at: 'g.inserted_at',
    updated_at: 'g.updated_at',
    search: (filter, params) => `g.name ILIKE ${params.add(containsPattern(String(filter.value)))}`,
  },
  sorts: {
    id: 'g.id',
    name: 'g.name',
    inserted_at: 'g.inserted_at',
    updated_at: 'g.updated_at',
    // Prowler orders by a to-many relationship through a join (by the related ids); the smallest id does so without repeating rows.
    providers: '(SELECT min(pgm.provider_id::text) FROM provider_group_memberships pgm WHERE pgm.provider_group_id = g.id)',
    roles: '(SELECT min(rpg.role_id::text) FROM role_provider_groups rpg WHERE rpg.provider_group_id = g.id)',
    // `url` is no column: Prowler's ordering filter drops it, which leaves the id order.
    url: 'g.id',
  },
  tieBreaker: 'g.id',
};

function visibleGroups(params: SqlParams): string[] {
  const principal = currentPrincipal();
  if (principal.visibleProviderIds === null) return [];
  if (!principal.roleId) return ['false'];
  return [`EXISTS (SELECT 1 FROM role_provider_groups rpg WHERE rpg.provider_group_id = g.id AND rpg.role_id = ${params.add(principal.roleId)})`];
}

export async function listGroups(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: ProviderGroupRow[]; count: number }> {
  const params = new SqlParams();
  return pagedList<ProviderGroupRow>({
    from: 'provider_groups g',
    alias: 'g',
    columns: OWN_COLUMNS,
    related: RELATED_COLUMNS,
    where: [...visibleGroups(params), ...filterConditions(query, spec, LIST_COLUMNS, params)],
    order: orderBy(query.sort, LIST_COLUMNS),
    page: query.page,
    params,
  });
}

export async function findVisibleGroups(ids: readonly string[]): Promise<ProviderGroupRow[]> {
  if (ids.length === 0) return [];
  const params = new SqlParams();
  const where = [`g.id = ANY(${params.add([...ids])}::uuid[])`, ...visibleGroups(params)];
  return rows<ProviderGroupRow>(tenantManager(), `SELECT ${GROUP_COLUMNS} FROM provider_groups g WHERE ${where.join(' AND ')} ORDER BY g.inserted_at, g.id`, params.values);
}

/** The new group as inserted, with its links still empty. */
export async function insertGroup(id: string, tenantId: string, name: string): Promise<ProviderGroupRow> {
  const [group] = await rows<ProviderGroupRow>(
    tenantManager(),
    `INSERT INTO provider_groups (id, tenant_id, name) VALUES ($1, $2, $3)
     RETURNING id, name, inserted_at, updated_at, '{}'::uuid[] AS provider_ids, '{}'::uuid[] AS role_ids`,
    [id, tenantId, name],
  );
  return group;
}

export async function renameGroup(id: string, name: string): Promise<void> {
  await tenantManager().query(`UPDATE provider_groups SET name = $2, updated_at = now() WHERE id = $1`, [id, name]);
}

export async function deleteGroup(id: string): Promise<number> {
  return affected(tenantManager(), `DELETE FROM provider_groups WHERE id = $1`, [id]);
}

/** The ids among `ids` that name groups the caller may see. */
export async function visibleGroupIds(ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const params = new SqlParams();
  const where = [`g.id = ANY(${params.add([...ids])}::uuid[])`, ...visibleGroups(params)];
  const found = await rows<{ id: string }>(tenantManager(), `SELECT g.id FROM provider_groups g WHERE ${where.join(' AND ')}`, params.values);
  return new Set(found.map((row) => row.id));
}
