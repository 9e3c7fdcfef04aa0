import { ParsedQuery, QuerySpec } from '../common/jsonapi/query-spec';
import { tenantManager } from '../database/tenant-context';
import { affected, rows } from '../database/sql';
import { containsPattern, filterConditions, ListColumns, orderBy, pagedList, SqlParams } from './list-query-sql';
import { Permission, PERMISSIONS } from './permissions';
import { RoleRow } from './role.resource';

/** `unlimited` when a role holds every permission, `none` when it holds none, else `limited`. */
const PERMISSION_STATE = `CASE WHEN ${PERMISSIONS.map((p) => `r.${p}`).join(' AND ')} THEN 'unlimited'
  WHEN ${PERMISSIONS.map((p) => `r.${p}`).join(' OR ')} THEN 'limited' ELSE 'none' END`;

const OWN_COLUMNS = `r.id, r.name, ${PERMISSIONS.map((p) => `r.${p}`).join(', ')}, ${PERMISSION_STATE} AS permission_state, r.inserted_at, r.updated_at`;
const RELATED_COLUMNS = `ARRAY(SELECT rpg.provider_group_id FROM role_provider_groups rpg WHERE rpg.role_id = r.id ORDER BY rpg.inserted_at, rpg.id) AS provider_group_ids,
  ARRAY(SELECT ur.user_id FROM user_roles ur WHERE ur.role_id = r.id ORDER BY ur.inserted_at, ur.id) AS user_ids,
  ARRAY(SELECT ir.invitation_id FROM invitation_roles ir WHERE ir.role_id = r.id ORDER BY ir.id) AS invitation_ids`;
const ROLE_COLUMNS = `${OWN_COLUMNS}, ${RELATED_COLUMNS}`;

const LIST_COLUMNS: ListColumns = {
  filters: {
    id: 'r.id',
    name: 'r.name',
    permission_state: `(${PERMISSION_STATE})`,
    inserted_at: 'r.inserted_at',
    updated_at: 'r.updated_at',
    search: (filter, params) => `r.name ILIKE ${params.add(containsPattern(String(filter.value)))}`,
  },
  sorts: {
    id: 'r.id',
    name: 'r.name',
    ...Object.fromEntries(PERMISSIONS.map((p) => [p, `r.${p}`])),
    permission_state: `(${PERMISSION_STATE})`,
    inserted_at: 'r.inserted_at',
    updated_at: 'r.updated_at',
    // Prowler orders by a to-many relationship through a join (by the related ids); the smallest id does so without repeating rows.
    users: '(SELECT min(ur.user_id::text) FROM user_roles ur WHERE ur.role_id = r.id)',
    invitations: '(SELECT min(ir.invitation_id::text) FROM invitation_roles ir WHERE ir.role_id = r.id)',
    provider_groups: '(SELECT min(rpg.provider_group_id::text) FROM role_provider_groups rpg WHERE rpg.role_id = r.id)',
    // `url` is no column: Prowler's ordering filter drops it, which leaves the id order.
    url: 'r.id',
  },
  tieBreaker: 'r.id',
};

export async function listRoles(query: ParsedQuery, spec: QuerySpec): Promise<{ rows: RoleRow[]; count: number }> {
  const params = new SqlParams();
  return pagedList<RoleRow>({
    from: 'roles r',
    alias: 'r',
    columns: OWN_COLUMNS,
    related: RELATED_COLUMNS,
    where: filterConditions(query, spec, LIST_COLUMNS, params),
    order: orderBy(query.sort, LIST_COLUMNS),
    page: query.page,
    params,
  });
}

export async function findRoles(ids: readonly string[]): Promise<RoleRow[]> {
  if (ids.length === 0) return [];
  return rows<RoleRow>(tenantManager(), `SELECT ${ROLE_COLUMNS} FROM roles r WHERE r.id = ANY($1::uuid[]) ORDER BY r.inserted_at, r.id`, [[...ids]]);
}

export async function existingRoleIds(ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await rows<{ id: string }>(tenantManager(), `SELECT id FROM roles WHERE id = ANY($1::uuid[])`, [[...ids]]);
  return new Set(found.map((row) => row.id));
}

export type RoleChanges = Partial<Record<Permission, boolean>> & { name?: string };

export async function insertRole(id: string, tenantId: string, changes: RoleChanges & { name: string }): Promise<void> {
  const columns = Object.keys(changes) as Array<keyof RoleChanges>;
  const params = new SqlParams();
  const values = [params.add(id), params.add(tenantId), ...columns.map((column) => params.add(changes[column]))];
  await tenantManager().query(`INSERT INTO roles (id, tenant_id, ${columns.join(', ')}) VALUES (${values.join(', ')})`, params.values);
}

export async function updateRole(id: string, changes: RoleChanges): Promise<void> {
  const columns = Object.keys(changes) as Array<keyof RoleChanges>;
  if (columns.length === 0) return;
  const params = new SqlParams();
  const assignments = columns.map((column) => `${column} = ${params.add(changes[column])}`);
  await tenantManager().query(`UPDATE roles SET ${assignments.join(', ')}, updated_at = now() WHERE id = ${params.add(id)}`, params.values);
}

export async function deleteRole(id: string): Promise<number> {
  return affected(tenantManager(), `DELETE FROM roles WHERE id = $1`, [id]);
}

/** Users of the current tenant among `ids`: only members may hold its roles. */
export async function memberUserIds(ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const found = await rows<{ user_id: string }>(tenantManager(), `SELECT user_id FROM memberships WHERE user_id = ANY($1::uuid[])`, [[...ids]]);
  return new Set(found.map((row) => row.user_id));
}
